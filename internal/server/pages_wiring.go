package server

import (
	"github.com/gatehouse-auth/gatehouse/internal/server/oauth"
	"github.com/gatehouse-auth/gatehouse/internal/server/pages"
)

// The browser-facing pages (internal/server/pages) are wired in here: the
// server gives them its store, keys and caches, the browser sessions, the
// back channel, the connectors, the client address and its limits.

// browserPages builds the pages on the server.
func (s *Server) browserPages() *pages.Pages {
	return pages.New(pages.Deps{
		Config:      s.cfg,
		Store:       s.store,
		Keys:        s.keys,
		Hasher:      s.hasher,
		Audit:       s.audit,
		Clock:       s.clock,
		Logger:      s.log,
		Pages:       s.pages,
		Sessions:    s.sessions,
		BackChannel: func() *oauth.Endpoints { return s.oauth },
		Clients:     s.clients,
		SecretKey:   s.secretKey,
		WebAuthn:    s.webauthn,
		Links:       s.links,
		ClientIP:    s.clientIP,
		Allow:       s.allow,
	})
}
