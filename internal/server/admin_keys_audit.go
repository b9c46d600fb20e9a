package server

import (
	"encoding/json"
	"math"
	"net/http"
	"strconv"
	"time"

	"github.com/gatehouse-auth/gatehouse/internal/admin"
	"github.com/gatehouse-auth/gatehouse/internal/adminapi"
	"github.com/gatehouse-auth/gatehouse/internal/storage"
	"github.com/gatehouse-auth/gatehouse/protocol"
)

func (s *Server) adminListKeys(w http.ResponseWriter, r *http.Request, _ *adminPrincipal) {
	if _, err := s.keys.ReloadIfStale(r.Context(), keyRefreshAge); err != nil {
		s.writeError(w, r, err)
		return
	}
	infos := s.keys.Keys()
	out := make([]adminapi.SigningKey, 0, len(infos))
	for _, k := range infos {
		out = append(out, adminapi.SigningKey{ID: k.ID, Algorithm: k.Algorithm, State: k.State, Signing: k.Signing,
			CreatedAt: k.CreatedAt, ActiveAt: k.ActiveAt, RetiredAt: timePtr(k.RetiredAt)})
	}
	writeJSON(w, http.StatusOK, map[string]any{"keys": out})
}

type adminRotateKeysRequest struct {
	// ActivateIn is how many seconds from now the new key starts signing;
	// absent means signing.prepublish.
	ActivateIn *int64 `json:"activate_in"`
}

func (s *Server) adminRotateKeys(w http.ResponseWriter, r *http.Request, p *adminPrincipal) {
	var req adminRotateKeysRequest
	if r.ContentLength != 0 && !decodeAdminBody(w, r, &req) {
		return
	}
	var activateIn *time.Duration
	if req.ActivateIn != nil {
		if *req.ActivateIn > math.MaxInt64/int64(time.Second) {
			adminError(w, http.StatusBadRequest, protocol.ErrInvalidRequest, "activate_in is too large")
			return
		}
		d := time.Duration(*req.ActivateIn) * time.Second
		activateIn = &d
	}
	k, ev, err := admin.RotateSigningKey(r.Context(), s.keys, activateIn)
	if err != nil {
		s.adminFail(w, r, err)
		return
	}
	s.adminRecord(p, ev)
	writeJSON(w, http.StatusCreated, adminapi.SigningKey{ID: k.ID, Algorithm: k.Algorithm, State: k.State, Signing: k.Signing,
		CreatedAt: k.CreatedAt, ActiveAt: k.ActiveAt, RetiredAt: timePtr(k.RetiredAt)})
}

// Audit list paging limits.
const (
	adminAuditDefaultLimit = 100
	adminAuditMaxLimit     = 1000
)

func (s *Server) adminListAudit(w http.ResponseWriter, r *http.Request, _ *adminPrincipal) {
	q := r.URL.Query()
	f := storage.AuditFilter{Type: q.Get("type"), UserID: q.Get("user"), Limit: adminAuditDefaultLimit}
	bad := func(desc string) { adminError(w, http.StatusBadRequest, protocol.ErrInvalidRequest, desc) }
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
		if err != nil || n < 1 || n > adminAuditMaxLimit {
			bad("limit must be between 1 and 1000")
			return
		}
		f.Limit = n
	}
	f.Latest = q.Get("after") == ""
	recs, err := s.adminOps().ListAudit(r.Context(), f)
	if err != nil {
		s.adminFail(w, r, err)
		return
	}
	out := make([]adminapi.AuditRecord, 0, len(recs))
	for _, rec := range recs {
		out = append(out, adminapi.AuditRecord{Seq: rec.Seq, Time: rec.Time, Type: rec.Type, Event: json.RawMessage(rec.Event), PrevHash: rec.PrevHash, Hash: rec.Hash})
	}
	writeJSON(w, http.StatusOK, map[string]any{"events": out})
}

func (s *Server) adminVerifyAudit(w http.ResponseWriter, r *http.Request, _ *adminPrincipal) {
	v, err := s.adminOps().VerifyAudit(r.Context())
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if v.Broken != nil {
		writeJSON(w, http.StatusOK, adminapi.AuditVerify{OK: false, Checked: v.Checked, Error: v.Broken.Error()})
		return
	}
	writeJSON(w, http.StatusOK, adminapi.AuditVerify{OK: true, Checked: v.Checked})
}
