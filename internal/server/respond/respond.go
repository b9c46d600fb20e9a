// Package respond writes the JSON answers of the authorization server's
// APIs: the no-store JSON body every endpoint answers with, and the
// RFC 6750 challenge of a protected resource (the userinfo endpoint, the
// account API, the admin API). Handlers in internal/server and in the API
// packages it wires in share it, so every API answers the same way.
package respond

import (
	"encoding/json"
	"net/http"

	"github.com/gatehouse-auth/gatehouse/protocol"
)

// JSON writes v as a JSON response that no cache may store
// (RFC 6749 §5.1: Cache-Control: no-store).
func JSON(w http.ResponseWriter, status int, v any) {
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-store")
	h.Set("Pragma", "no-cache")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// BearerError answers a protected-resource request with pe and a Bearer
// challenge (RFC 6750 §3).
func BearerError(w http.ResponseWriter, pe *protocol.Error) {
	v := `Bearer realm="gatehouse"`
	if pe.Code != "" {
		v += `, error="` + pe.Code + `"`
	}
	if pe.Description != "" {
		v += `, error_description="` + HeaderValue(pe.Description) + `"`
	}
	w.Header().Set("WWW-Authenticate", v)
	JSON(w, pe.HTTPStatus(), pe)
}

// HeaderValue keeps a description safe inside a quoted header parameter
// (RFC 6750 §3 restricts it to %x20-21 / %x23-5B / %x5D-7E).
func HeaderValue(s string) string {
	b := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 0x20 && c <= 0x7e && c != '"' && c != '\\' {
			b = append(b, c)
		}
	}
	return string(b)
}

// Error answers status with an error in the JSON shape of RFC 6749 §5.2
// ({"error": code, "error_description": desc}) and no challenge: the
// refusals of an API that are not about the caller's credentials.
func Error(w http.ResponseWriter, status int, code, desc string) {
	JSON(w, status, &protocol.Error{Code: code, Description: desc})
}
