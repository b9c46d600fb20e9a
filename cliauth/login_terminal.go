package cliauth

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/gatehouse-auth/gatehouse/client"
	"github.com/gatehouse-auth/gatehouse/credstore"
	"github.com/gatehouse-auth/gatehouse/protocol"
)

// loginTerminal is `login --terminal`: username, password and, when the
// server asks for it, a code, typed here (client.PasswordLogin).
func (a *App) loginTerminal(ctx context.Context, cc *client.Config) (*credstore.Credential, error) {
	user, err := a.IO.prompt(ctx, "Username: ", "username", false)
	if err != nil {
		return nil, a.terminalInputError(ctx, err)
	}
	pass, err := a.IO.prompt(ctx, "Password: ", "password", true)
	if err != nil {
		return nil, a.terminalInputError(ctx, err)
	}
	var codeErr error
	tok, err := cc.PasswordLogin(ctx, client.PasswordOptions{
		Username: user,
		Password: pass,
		Code: func(ctx context.Context) (string, error) {
			code, err := a.IO.prompt(ctx, "Code from your authenticator app (or a recovery code): ", "code", false)
			codeErr = err
			return code, err
		},
	})
	if codeErr != nil {
		return nil, a.terminalInputError(ctx, codeErr)
	}
	if err != nil {
		return nil, a.terminalLoginError(ctx, cc, err)
	}
	return a.userCredential(ctx, cc, tok)
}

// terminalInputError explains a prompt that got no answer.
func (a *App) terminalInputError(ctx context.Context, err error) error {
	if cancelled(ctx, err) {
		return err
	}
	return usageErrorf("%v; type it at the prompt, or pipe the answers in, one a line: printf '%%s\\n%%s\\n' \"$USER_NAME\" \"$PASSWORD\" | %s login --terminal", err, a.Name)
}

// terminalLoginError turns the server's refusals into what to do next.
// Nothing was stored.
func (a *App) terminalLoginError(ctx context.Context, cc *client.Config, err error) error {
	var pe *protocol.Error
	errors.As(err, &pe)
	switch {
	case cancelled(ctx, err):
		return err
	case errors.Is(err, client.ErrTerminalLoginDisabled):
		return &Error{Code: ExitError, Err: err, Msg: fmt.Sprintf(
			"terminal sign-in is not enabled for client %s at %s; ask an admin to run `gatehouse clients update %s --terminal-login`, "+
				"or sign in with the browser (`%s login`) or with a code on another device (`%s login --device`)",
			cc.ClientID, cc.Metadata.Issuer, cc.ClientID, a.Name, a.Name)}
	case errors.Is(err, client.ErrBadCredentials):
		return &Error{Code: ExitError, Err: err, Msg: "invalid username or password; nothing was stored"}
	case errors.Is(err, client.ErrBadCode):
		return &Error{Code: ExitError, Err: err, Msg: fmt.Sprintf(
			"the code was not accepted (wrong, already used, or too late); run `%s login --terminal` again with the current code", a.Name)}
	case pe != nil && pe.Code == protocol.ErrTooManyRequests:
		wait := "a while"
		if d := client.RetryAfter(err); d > 0 {
			wait = d.Round(time.Second).String()
		}
		return &Error{Code: ExitError, Err: err, Msg: fmt.Sprintf("too many sign-in attempts; wait %s, then try again", wait)}
	case pe != nil && pe.Code == protocol.ErrAccessDenied:
		return &Error{Code: ExitError, Err: err, Msg: "the server refused the sign-in: " + pe.Description}
	}
	return err
}
