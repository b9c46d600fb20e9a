package server

import (
	"io"

	"github.com/gatehouse-auth/gatehouse/internal/config"
	"github.com/gatehouse-auth/gatehouse/internal/connector"
	"github.com/gatehouse-auth/gatehouse/internal/connector/ldap"
)

// openLDAP builds the LDAP connector of cc (it reads the bind password; it
// connects lazily).
func openLDAP(cc config.Connector) (connector.PasswordConnector, io.Closer, error) {
	c, err := ldap.New(cc.ID, cc.Name, *cc.LDAP)
	if err != nil {
		return nil, nil, err
	}
	return c, c, nil
}
