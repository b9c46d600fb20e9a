package clientcmd

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/spf13/cobra"

	"github.com/gatehouse-auth/gatehouse/cliauth"
	"github.com/gatehouse-auth/gatehouse/client/qrcode"
	"github.com/gatehouse-auth/gatehouse/internal/cli/command"
	"github.com/gatehouse-auth/gatehouse/internal/server"
	"github.com/gatehouse-auth/gatehouse/internal/server/accountapi"
)

// codeAttempts is how many first codes an interactive enrolment asks for
// before giving up.
const codeAttempts = 3

// NewCmdAccountMFA is the `gatehouse account mfa` group.
func NewCmdAccountMFA(f *command.Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "mfa",
		Short: "Two-step verification (TOTP) of your account",
		Long: `Two-step verification of the user you are logged in as: after the
password, sign-ins ask for a code from an authenticator app (TOTP).`,
		Example: `  gatehouse account mfa enroll`,
	}
	command.Group(cmd)
	cmd.AddCommand(NewCmdAccountMFAEnroll(f, nil))
	return cmd
}

// MFAEnrollOptions are the dependencies of `gatehouse account mfa
// enroll`.
type MFAEnrollOptions struct {
	IO   command.IOStreams
	Auth *cliauth.App
}

// NewCmdAccountMFAEnroll is `gatehouse account mfa enroll`; runF, when
// not nil, runs instead of its run function (for tests).
func NewCmdAccountMFAEnroll(f *command.Factory, runF func(*MFAEnrollOptions) error) *cobra.Command {
	opts := &MFAEnrollOptions{IO: f.IOStreams, Auth: f.Auth}
	return &cobra.Command{
		Use:   "enroll",
		Short: "Turn on two-step verification with an authenticator app",
		Long: `Enrol an authenticator app (TOTP) for the user you are logged in as.

The key is shown as a QR code to scan with the app, and as an otpauth URI
and a secret to type in. Then the first six-digit code from the app is
asked for (without a terminal, one line is read from stdin); once it is
accepted, sign-ins ask for a code, and ten recovery codes are printed.
They are shown this once: store them somewhere safe.

A login is needed ('gatehouse login'); an API key or client credentials
cannot enrol. If two-step verification is already on, turn it off on
the server's /account page, or ask an admin to run
'gatehouse users mfa-reset NAME', and enrol again.`,
		Example: `  gatehouse account mfa enroll`,
		Args:    command.UsageArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if runF != nil {
				return runF(opts)
			}
			return accountMFAEnrollRun(cmd.Context(), opts)
		},
	}
}

func accountMFAEnrollRun(ctx context.Context, opts *MFAEnrollOptions) error {
	api, err := newAccountAPI(ctx, opts.Auth)
	if err != nil {
		return err
	}
	var en accountapi.MFAEnrollResponse
	err = api.post(ctx, accountapi.PathMFAEnroll, struct{}{}, &en)
	var ae *accountAPIError
	if errors.As(err, &ae) && ae.Status == http.StatusConflict {
		return fmt.Errorf("two-step verification is already on for your account; to enrol a new app, "+
			"turn it off on %s%s (it asks for a current code) or ask an admin to run `gatehouse users mfa-reset NAME`, then enrol again",
			api.base, server.PathAccount)
	}
	if err != nil {
		return err
	}
	out := opts.IO.Out
	fmt.Fprintln(out, "Scan this QR code with your authenticator app:")
	fmt.Fprintln(out)
	if err := qrcode.Write(out, en.URI); err != nil {
		return err
	}
	fmt.Fprintf(out, "\nOr add the key by hand:\n  URI:    %s\n  Secret: %s\n\n", en.URI, en.Secret)

	in := bufio.NewReader(opts.IO.In)
	attempts := 1
	if opts.IO.IsTTY() {
		attempts = codeAttempts
	}
	var done accountapi.MFAConfirmResponse
	for i := 1; ; i++ {
		code, err := readCode(in, opts.IO.ErrOut)
		if err != nil {
			return err
		}
		err = api.post(ctx, accountapi.PathMFAConfirm, accountapi.MFAConfirmRequest{Code: code}, &done)
		if errors.As(err, &ae) && ae.Status == http.StatusBadRequest && i < attempts {
			fmt.Fprintln(opts.IO.ErrOut, "That code is not valid; try the current code from your app.")
			continue
		}
		if errors.As(err, &ae) && ae.Status == http.StatusBadRequest {
			return errors.New("the code was not accepted, so two-step verification is still off; " +
				"check the time on your phone and run `gatehouse account mfa enroll` again")
		}
		if err != nil {
			return err
		}
		break
	}
	fmt.Fprintln(out, "Two-step verification is on. Your recovery codes (each works once, in place of a code):")
	fmt.Fprintln(out)
	for _, c := range done.RecoveryCodes {
		fmt.Fprintf(out, "  %s\n", c)
	}
	fmt.Fprintln(out)
	fmt.Fprintln(opts.IO.ErrOut, "Store these recovery codes somewhere safe now: they are not shown again.")
	return nil
}

// readCode prompts on errOut and reads lines from in until one is not
// blank. The end of the input without a code is an error, not an empty
// code.
func readCode(in *bufio.Reader, errOut io.Writer) (string, error) {
	for {
		fmt.Fprint(errOut, "Code from your app: ")
		line, err := in.ReadString('\n')
		if code := strings.TrimSpace(line); code != "" {
			return code, nil
		}
		if errors.Is(err, io.EOF) {
			fmt.Fprintln(errOut)
			return "", errors.New("no code was entered (end of input); two-step verification is still off: run `gatehouse account mfa enroll` again")
		}
		if err != nil {
			return "", fmt.Errorf("read the code: %w", err)
		}
	}
}
