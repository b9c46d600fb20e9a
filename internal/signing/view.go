package signing

import (
	"bytes"
	"cmp"
	"slices"
	"time"

	"github.com/gatehouse-auth/gatehouse/jwt"
)

// view is what the keys look like during [from, until): the signing key,
// the published keys and the JWKS document. Nothing changes inside the
// interval, so Sign, Verify and JWKS reuse one view until the clock leaves
// it or the keys are reloaded.
type view struct {
	from, until time.Time
	signer      *jwt.Signer
	published   map[string]*material
	jwks        []byte
}

// endOfTime is later than any key time.
var endOfTime = time.Date(9999, 12, 31, 0, 0, 0, 0, time.UTC)

// current returns the view for now, building it if the cached one does not
// cover now.
func (m *Manager) current(now time.Time) *view {
	// A caller that read the clock before the last reload would see the
	// loaded keys at a moment when keys left out as expired still
	// mattered; the keys are a snapshot of their load time, so never look
	// at them from earlier.
	if at := m.set.Load().at; now.Before(at) {
		now = at
	}
	if v := m.view.Load(); v != nil && !now.Before(v.from) && now.Before(v.until) {
		return v
	}
	m.viewMu.Lock()
	defer m.viewMu.Unlock()
	set := m.set.Load() // reload swaps sets under viewMu: this one stays
	if now.Before(set.at) {
		now = set.at
	}
	if v := m.view.Load(); v != nil && !now.Before(v.from) && now.Before(v.until) {
		return v
	}
	v := m.build(set, now)
	m.view.Store(v)
	return v
}

// build applies the selection rules of the package documentation at now.
func (m *Manager) build(set *keySet, now time.Time) *view {
	v := &view{until: endOfTime, published: make(map[string]*material)}
	// Every rule changes state exactly at one of these instants, and the
	// new state holds from that instant on.
	edge := func(t time.Time) {
		if t.IsZero() {
			return
		}
		if now.Before(t) {
			if t.Before(v.until) {
				v.until = t
			}
		} else if t.After(v.from) {
			v.from = t
		}
	}
	var published []*material
	var signing *material
	for _, k := range set.keys {
		r := &k.row
		edge(r.CreatedAt)
		edge(r.ActiveAt)
		if !r.RetiredAt.IsZero() {
			edge(r.RetiredAt)
			edge(r.RetiredAt.Add(m.opts.Retain))
		}
		if now.Before(r.CreatedAt) || m.expired(r, now) {
			continue
		}
		published = append(published, k)
		v.published[r.ID] = k
		canSign := !now.Before(r.ActiveAt) && (r.RetiredAt.IsZero() || now.Before(r.RetiredAt))
		if canSign && k.signer != nil && (signing == nil || newer(k, signing)) {
			signing = k
		}
	}
	if signing != nil {
		v.signer = signing.signer
	}
	slices.SortFunc(published, func(a, b *material) int {
		if newer(a, b) {
			return -1
		}
		return 1
	})
	var buf bytes.Buffer
	buf.WriteString(`{"keys":[`)
	for i, k := range published {
		if i > 0 {
			buf.WriteByte(',')
		}
		buf.Write(k.jwk)
	}
	buf.WriteString("]}")
	v.jwks = buf.Bytes()
	return v
}

// newer orders keys by ActiveAt, then CreatedAt, then kid, so that every
// process picks the same signing key.
func newer(a, b *material) bool {
	return cmp.Or(
		a.row.ActiveAt.Compare(b.row.ActiveAt),
		a.row.CreatedAt.Compare(b.row.CreatedAt),
		cmp.Compare(a.row.ID, b.row.ID),
	) > 0
}
