package server

import "github.com/gatehouse-auth/gatehouse/internal/server/webpage"

// The names the page tests use for what lives in internal/server/webpage.
var staticFS = webpage.Static

const (
	passkeyScript = webpage.PasskeyScript
	copyScript    = webpage.CopyScript
)
