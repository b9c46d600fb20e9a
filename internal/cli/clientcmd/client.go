// Package clientcmd holds the commands that call a server with the
// credentials in force (Factory.Auth, package cliauth): `gatehouse api`,
// `gatehouse account` and `gatehouse credential-helper`.
package clientcmd

import (
	"errors"
	"fmt"
	"net"

	"github.com/gatehouse-auth/gatehouse/cliauth"
	"github.com/gatehouse-auth/gatehouse/internal/cli/command"
)

// requestFailure says why a request to host failed when it was not the
// request's own fault: the credentials' error as it is (they failed, not
// the request: say only that), or ExitUnreachable when the server could
// not be reached. Any other error gives nil.
func requestFailure(err error, host string) error {
	var ce *cliauth.Error
	if errors.As(err, &ce) {
		return ce
	}
	var op *net.OpError
	if errors.As(err, &op) {
		return &cliauth.Error{Code: command.ExitUnreachable, Msg: fmt.Sprintf("cannot reach %s: %v", host, op), Err: err}
	}
	return nil
}
