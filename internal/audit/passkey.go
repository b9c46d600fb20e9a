package audit

// Event types of passkeys (WebAuthn credentials). Their Details name the
// passkey by the server's id and the user's name for it, never by the
// credential id or key. A sign-in with a passkey is a LoginSuccess whose
// Details say "method": "passkey"; a refused one is a LoginFailure with a
// "passkey_..." Reason (passkey_cloned for a signature counter that went
// backwards).
const (
	PasskeyRegistered = "passkey.registered"
	PasskeyRenamed    = "passkey.renamed"
	PasskeyRemoved    = "passkey.removed"
)
