package client

import (
	"errors"
	"fmt"
	"net/http"
	"testing"

	"golang.org/x/oauth2"

	"github.com/gatehouse-auth/gatehouse/protocol"
)

func TestParseError(t *testing.T) {
	re := &oauth2.RetrieveError{
		Response:         &http.Response{StatusCode: http.StatusBadRequest},
		ErrorCode:        protocol.ErrInvalidGrant,
		ErrorDescription: "refresh token reused",
	}
	for name, in := range map[string]error{"bare": re, "wrapped": fmt.Errorf("refresh: %w", re)} {
		err := ParseError(in)
		if !errors.Is(err, &protocol.Error{Code: protocol.ErrInvalidGrant}) {
			t.Errorf("%s: errors.Is(invalid_grant) false for %v", name, err)
		}
		if errors.Is(err, &protocol.Error{Code: protocol.ErrInvalidClient}) {
			t.Errorf("%s: matches invalid_client", name)
		}
		var pe *protocol.Error
		if !errors.As(err, &pe) || pe.Description != "refresh token reused" || pe.Status != http.StatusBadRequest {
			t.Errorf("%s: protocol error = %+v", name, pe)
		}
		var got *oauth2.RetrieveError
		if !errors.As(err, &got) || got != re {
			t.Errorf("%s: RetrieveError lost", name)
		}
		if err.Error() != "invalid_grant: refresh token reused" {
			t.Errorf("%s: message %q", name, err)
		}
	}
	// Nothing to convert: returned as it is.
	plain := errors.New("connection refused")
	if ParseError(plain) != plain {
		t.Error("plain error changed")
	}
	noCode := &oauth2.RetrieveError{Response: &http.Response{StatusCode: 502, Status: "502 Bad Gateway"}}
	if ParseError(noCode) != error(noCode) {
		t.Error("RetrieveError without a code changed")
	}
	if ParseError(nil) != nil {
		t.Error("nil changed")
	}
}
