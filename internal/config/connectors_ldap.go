package config

// validateLDAP checks the ldap: block of an ldap connector.
func validateLDAP(bad func(key, format string, args ...any), key string, c Connector) {
	if c.LDAP == nil {
		bad(key+".ldap", "an ldap connector needs an ldap: block (url, bind_dn, user_search...)")
		return
	}
	if err := c.LDAP.Validate(); err != nil {
		bad(key+".ldap", "%v", err)
	}
}

func (c Connector) hasLDAP() bool { return c.LDAP != nil }
