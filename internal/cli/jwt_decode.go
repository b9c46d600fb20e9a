package cli

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/gatehouse-auth/gatehouse/internal/cli/command"
)

type jwtDecodeOptions struct {
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

func newJWTDecodeCmd(streams command.IOStreams) *cobra.Command {
	opts := &jwtDecodeOptions{IO: streams}
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
			tok, err := jwtReadArg(streams, args)
			if err != nil {
				return err
			}
			opts.Token = tok
			return jwtDecodeRun(cmd.Context(), opts)
		},
	}
	cmd.Flags().BoolVar(&opts.JSON, "json", false, "print one JSON document: header, claims, times, signature_verified (false)")
	return cmd
}

func jwtDecodeRun(_ context.Context, opts *jwtDecodeOptions) error {
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
