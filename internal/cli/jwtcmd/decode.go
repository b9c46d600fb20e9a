package jwtcmd

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/gatehouse-auth/gatehouse/internal/cli/command"
)

type DecodeOptions struct {
	IO command.IOStreams

	Token string
	JSON  bool
}

// jwtJSON is the stable --json document of `jwt decode` and `jwt verify`.
type jwtJSON struct {
	Header map[string]any `json:"header"`
	Claims map[string]any `json:"claims"`
	// Times holds the NumericDate claims (iat, nbf, exp, auth_time) as
	// RFC 3339 UTC strings.
	Times map[string]string `json:"times"`
	// SignatureVerified is false for decode, which checks nothing, and
	// true for verify.
	SignatureVerified bool `json:"signature_verified"`
}

// NewCmdDecode is `gatehouse jwt decode`; runF, when not nil, runs instead of
// its run function (for tests of its flags).
func NewCmdDecode(f *command.Factory, runF func(*DecodeOptions) error) *cobra.Command {
	opts := &DecodeOptions{IO: f.IOStreams}
	cmd := &cobra.Command{
		Use:   "decode [TOKEN|-]",
		Short: "Show a JWT's header and claims without verifying it",
		Long: `Print the header and claims of a JWT as indented JSON, with the time
claims (iat, nbf, exp, auth_time) also shown as dates relative to now.

Nothing is checked: not the signature, not the expiry. Use 'gatehouse jwt
verify' before trusting what a token says. With '-', or no argument and
standard input not a terminal, the token is read from standard input.
A malformed token exits with status 2.`,
		Example: `  gatehouse jwt decode eyJhbGciOi...
  gatehouse token | gatehouse jwt decode -
  gatehouse jwt decode "$TOKEN" --json | jq -r .claims.sub`,
		Args: command.UsageArgs(cobra.MaximumNArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			tok, err := jwtReadArg(opts.IO, args)
			if err != nil {
				return err
			}
			opts.Token = tok
			if runF != nil {
				return runF(opts)
			}
			return decodeRun(cmd.Context(), opts)
		},
	}
	cmd.Flags().BoolVar(&opts.JSON, "json", false, "print one JSON document: header, claims, times, signature_verified (false)")
	return cmd
}

func decodeRun(_ context.Context, opts *DecodeOptions) error {
	p, err := jwtSplit(opts.Token)
	if err != nil {
		return err
	}
	fmt.Fprintln(opts.IO.ErrOut, "Note: the signature was not verified; use 'gatehouse jwt verify' before trusting these claims.")
	if opts.JSON {
		return jwtWriteObject(opts.IO.Out, jwtJSON{
			Header: p.Header, Claims: p.Claims, Times: jwtTimes(p.Claims),
		})
	}
	w := opts.IO.Out
	fmt.Fprintln(w, "Header:")
	if err := jwtWriteObject(w, p.Header); err != nil {
		return err
	}
	fmt.Fprintln(w, "Claims:")
	if err := jwtWriteObject(w, p.Claims); err != nil {
		return err
	}
	jwtWriteTimes(w, p.Claims, opts.IO.Clock.Now())
	return nil
}
