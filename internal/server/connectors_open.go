package server

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"

	"github.com/gatehouse-auth/gatehouse/internal/config"
	"github.com/gatehouse-auth/gatehouse/internal/connector/oidc"
	"github.com/gatehouse-auth/gatehouse/internal/server/linking"
	"github.com/gatehouse-auth/gatehouse/internal/storage"
)

// Connector is a configured connector as the server uses it
// (internal/server/linking links the identities it vouches for to users).
type Connector = linking.Connector

// OpenConnectors builds the connectors of cfg.Connectors (reading their
// secrets, not contacting the upstreams) and checks that the roles their
// rules name exist in st. close releases what they hold.
func OpenConnectors(ctx context.Context, cfg *config.Server, st storage.Store, log *slog.Logger) (conns []Connector, close func() error, err error) {
	var closers []io.Closer
	close = func() error {
		var errs []error
		for _, c := range closers {
			errs = append(errs, c.Close())
		}
		return errors.Join(errs...)
	}
	defer func() {
		if err != nil {
			_ = close()
		}
	}()
	for i, cc := range cfg.Connectors {
		c := Connector{ID: cc.ID, Name: cc.Name, Rules: cc.RoleRules, TrustUpstreamMFA: cc.TrustUpstreamMFA}
		switch cc.Type {
		case config.ConnectorOIDC:
			oc, err := oidc.New(cc.ID, cc.Name, *cc.OIDC)
			if err != nil {
				return nil, nil, fmt.Errorf("connectors[%d] (%s): %w", i, cc.ID, err)
			}
			closers = append(closers, oc)
			c.Redirect = oc
		case config.ConnectorLDAP:
			pc, closer, err := openLDAP(cc)
			if err != nil {
				return nil, nil, fmt.Errorf("connectors[%d] (%s): %w", i, cc.ID, err)
			}
			if closer != nil {
				closers = append(closers, closer)
			}
			c.Password = pc
		default:
			return nil, nil, fmt.Errorf("connectors[%d] (%s): unknown type %q", i, cc.ID, cc.Type)
		}
		conns = append(conns, c)
	}
	if err := linking.CheckRoles(ctx, st, conns); err != nil {
		return nil, nil, fmt.Errorf("%w (create the role with 'gatehouse roles create' or change the rule)", err)
	}
	if len(conns) > 0 {
		log.Info("connectors", "count", len(conns))
	}
	return conns, close, nil
}

// linker links the identities of the server's connectors to its users
// (internal/server/linking).
func (s *Server) linker() *linking.Linker {
	return linking.New(linking.Deps{Store: s.store, Audit: s.audit, Clock: s.clock, Logger: s.log, Connectors: s.connectors})
}
