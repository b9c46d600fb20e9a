package server

import (
	"errors"
	"io"

	"github.com/gatehouse-auth/gatehouse/internal/config"
	"github.com/gatehouse-auth/gatehouse/internal/connector"
)

// openLDAP builds an LDAP connector. Until the ldap connector package is
// merged, config validation refuses ldap connectors and this is not
// reached.
func openLDAP(cc config.Connector) (connector.PasswordConnector, io.Closer, error) {
	return nil, nil, errors.New("ldap connectors are not available in this build")
}
