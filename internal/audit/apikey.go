package audit

// Event types of API keys. Their Details name the key by its id (and name,
// user, roles, scopes, expiry), never by the key or its hash. Using a key
// is not an event: it happens on every request; the key's last use is
// kept in the database instead.
const (
	APIKeyCreated = "apikey.created"
	APIKeyRevoked = "apikey.revoked"
	APIKeyRotated = "apikey.rotated"
)
