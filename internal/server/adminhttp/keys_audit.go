package adminhttp

import (
	"encoding/json"
	"github.com/gatehouse-auth/gatehouse/internal/server/respond"
	"math"
	"net/http"
	"strconv"
	"time"

	"github.com/gatehouse-auth/gatehouse/internal/admin"
	"github.com/gatehouse-auth/gatehouse/internal/adminapi"
	"github.com/gatehouse-auth/gatehouse/internal/storage"
	"github.com/gatehouse-auth/gatehouse/protocol"
)

func (a *API) listKeys(w http.ResponseWriter, r *http.Request, _ *Principal) {
	if _, err := a.d.Keys.ReloadIfStale(r.Context(), a.d.KeysMaxAge); err != nil {
		a.d.WriteError(w, r, err)
		return
	}
	infos := a.d.Keys.Keys()
	out := make([]adminapi.SigningKey, 0, len(infos))
	for _, k := range infos {
		out = append(out, adminapi.SigningKey{ID: k.ID, Algorithm: k.Algorithm, State: k.State, Signing: k.Signing,
			CreatedAt: k.CreatedAt, ActiveAt: k.ActiveAt, RetiredAt: timePtr(k.RetiredAt)})
	}
	respond.JSON(w, http.StatusOK, map[string]any{"keys": out})
}

func (a *API) rotateKeys(w http.ResponseWriter, r *http.Request, p *Principal) {
	var req adminapi.RotateKeysRequest
	if r.ContentLength != 0 && !decodeBody(w, r, &req) {
		return
	}
	var activateIn *time.Duration
	if req.ActivateIn != nil {
		if *req.ActivateIn > math.MaxInt64/int64(time.Second) {
			respond.Error(w, http.StatusBadRequest, protocol.ErrInvalidRequest, "activate_in is too large")
			return
		}
		d := time.Duration(*req.ActivateIn) * time.Second
		activateIn = &d
	}
	k, ev, err := admin.RotateSigningKey(r.Context(), a.d.Keys, activateIn)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	a.record(p, ev)
	respond.JSON(w, http.StatusCreated, adminapi.SigningKey{ID: k.ID, Algorithm: k.Algorithm, State: k.State, Signing: k.Signing,
		CreatedAt: k.CreatedAt, ActiveAt: k.ActiveAt, RetiredAt: timePtr(k.RetiredAt)})
}

// Audit list paging limits.
const (
	auditDefaultLimit = 100
	auditMaxLimit     = 1000
)

func (a *API) listAudit(w http.ResponseWriter, r *http.Request, _ *Principal) {
	q := r.URL.Query()
	f := storage.AuditFilter{Type: q.Get("type"), UserID: q.Get("user"), Limit: auditDefaultLimit}
	bad := func(desc string) { respond.Error(w, http.StatusBadRequest, protocol.ErrInvalidRequest, desc) }
	if v := q.Get("since"); v != "" {
		t, err := time.Parse(time.RFC3339, v)
		if err != nil {
			bad("since must be an RFC 3339 time")
			return
		}
		f.Since = t
	}
	if v := q.Get("after"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 0 {
			bad("after must be a non-negative sequence number")
			return
		}
		f.AfterSeq = n
	}
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > auditMaxLimit {
			bad("limit must be between 1 and 1000")
			return
		}
		f.Limit = n
	}
	f.Latest = q.Get("after") == ""
	recs, err := a.d.Admin.ListAudit(r.Context(), f)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	out := make([]adminapi.AuditRecord, 0, len(recs))
	for _, rec := range recs {
		out = append(out, adminapi.AuditRecord{Seq: rec.Seq, Time: rec.Time, Type: rec.Type, Event: json.RawMessage(rec.Event), PrevHash: rec.PrevHash, Hash: rec.Hash})
	}
	respond.JSON(w, http.StatusOK, map[string]any{"events": out})
}

func (a *API) verifyAudit(w http.ResponseWriter, r *http.Request, _ *Principal) {
	v, err := a.d.Admin.VerifyAudit(r.Context())
	if err != nil {
		a.d.WriteError(w, r, err)
		return
	}
	if v.Broken != nil {
		respond.JSON(w, http.StatusOK, adminapi.AuditVerify{OK: false, Checked: v.Checked, Error: v.Broken.Error()})
		return
	}
	respond.JSON(w, http.StatusOK, adminapi.AuditVerify{OK: true, Checked: v.Checked})
}
