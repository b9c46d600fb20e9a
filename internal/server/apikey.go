package server

import (
	"context"
	"fmt"

	"github.com/gatehouse-auth/gatehouse/internal/admin"
	"github.com/gatehouse-auth/gatehouse/internal/storage"
)

// RevokeAPIKey revokes the API key with id. This server refuses the key
// from the next request on; other servers on the same database notice
// within oauth.APIKeyCacheTTL. Revoking a
// revoked key changes nothing and is not an error; an unknown id is an
// admin.NotFound refusal. actor names who revoked it in the audit event
// ("user:<id>", "cli").
func (s *Server) RevokeAPIKey(ctx context.Context, id, actor string) (*storage.APIKey, error) {
	k, _, ev, err := s.adminOps().RevokeAPIKey(ctx, id)
	// Forget the key even on failure: whatever the database holds now is
	// read again on the next request.
	s.oauth.ForgetAPIKey(id)
	if admin.KindOf(err) != 0 {
		return nil, err // a refusal, in the admin layer's words
	}
	if err != nil {
		return nil, fmt.Errorf("revoke api key %s: %w", id, err)
	}
	if ev.Type != "" {
		ev.Actor = actor
		s.audit.Log(ev)
	}
	return k, nil
}
