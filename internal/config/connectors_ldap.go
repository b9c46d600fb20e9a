package config

// validateLDAP checks the ldap: block of an ldap connector. Until the ldap
// connector package is merged, ldap connectors are refused.
func validateLDAP(bad func(key, format string, args ...any), key string, c Connector) {
	bad(key+".type", "ldap connectors are not available in this build")
}

func (c Connector) hasLDAP() bool { return false }
