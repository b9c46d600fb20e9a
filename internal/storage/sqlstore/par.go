package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"

	"github.com/gatehouse-auth/gatehouse/internal/storage"
)

var pushedRequests = newTable("par_requests",
	"hash", "client_id", "params", "opened_at", "used", "created_at", "expires_at")

func (s *Store) pushedRequestArgs(p *storage.PushedRequest) ([]any, error) {
	params := p.Params
	if params == nil {
		params = map[string][]string{}
	}
	b, err := json.Marshal(params)
	if err != nil {
		return nil, err
	}
	return []any{
		p.Hash, p.ClientID, string(b), s.time(p.OpenedAt), p.Used, s.time(p.CreatedAt), s.time(p.ExpiresAt),
	}, nil
}

func scanPushedRequest(r rowScanner) (*storage.PushedRequest, error) {
	var p storage.PushedRequest
	var params string
	err := r.Scan(&p.Hash, &p.ClientID, &params, timeCol{&p.OpenedAt}, &p.Used, timeCol{&p.CreatedAt}, timeCol{&p.ExpiresAt})
	if err != nil {
		return nil, err
	}
	if err := json.Unmarshal([]byte(params), &p.Params); err != nil {
		return nil, fmt.Errorf("scan pushed request params: %w", err)
	}
	if len(p.Params) == 0 {
		p.Params = nil
	}
	return &p, nil
}

// CreatePushedRequest stores a new pushed authorization request; a
// duplicate hash is storage.ErrAlreadyExists.
func (s *Store) CreatePushedRequest(ctx context.Context, p *storage.PushedRequest) error {
	args, err := s.pushedRequestArgs(p)
	if err != nil {
		return s.wrap("create pushed request", err)
	}
	return s.insert(ctx, "pushed request", pushedRequests.insert, args...)
}

// UpdatePushedRequest changes the pushed request with hash through fn
// under a write lock; this is how a request_uri is spent exactly once.
func (s *Store) UpdatePushedRequest(ctx context.Context, hash string, fn func(*storage.PushedRequest) error) error {
	return update(ctx, s, "update pushed request", pushedRequests, hash, scanPushedRequest, fn, func(tx *sql.Tx, v *storage.PushedRequest) error {
		v.Hash = hash
		args, err := s.pushedRequestArgs(v)
		if err != nil {
			return err
		}
		_, err = s.txExec(ctx, tx, pushedRequests.update, args...)
		return err
	})
}
