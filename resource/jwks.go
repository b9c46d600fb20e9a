package resource

import "github.com/gatehouse-auth/gatehouse/jwt"

// JWKS refresh timing; the jwt package's RemoteKeySet implements it.
const (
	// MinJWKSRefetchInterval is the least time between two JWKS fetches,
	// whatever asks for them: unknown kids, expired max-age, retries.
	MinJWKSRefetchInterval = jwt.MinJWKSRefetchInterval
	// DefaultJWKSRefresh is how long a JWKS is used before it is fetched
	// again when its response carries no Cache-Control max-age.
	DefaultJWKSRefresh = jwt.DefaultJWKSRefresh
)
