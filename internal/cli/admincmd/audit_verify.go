package admincmd

import (
	"context"
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/gatehouse-auth/gatehouse/internal/audit"
	"github.com/gatehouse-auth/gatehouse/internal/cli/adminbackend"
	"github.com/gatehouse-auth/gatehouse/internal/cli/command"
)

// AuditVerifyOptions are the streams, the backend and the flag values of `gatehouse audit verify`.
type AuditVerifyOptions struct {
	IO command.IOStreams
	// Backend is the database or the admin API (adminbackend.Run).
	Backend adminbackend.Backend
	Server  string

	JSON bool
}

// NewCmdAuditVerify is `gatehouse audit verify`; runF, when not nil, runs instead of its run
// function (for tests of its flags).
func NewCmdAuditVerify(f *command.Factory, runF func(*AuditVerifyOptions) error) *cobra.Command {
	opts := &AuditVerifyOptions{IO: f.IOStreams}
	cmd := &cobra.Command{
		Use:   "verify [--json]",
		Short: "Check the audit trail for tampering",
		Long: `Walk the whole audit trail and check every link of its hash chain: seqs
without gaps, each prev_hash equal to the hash of the event before, each
hash equal to SHA-256(prev_hash + "\n" + event), and the trail reaching the
chain head.

On success it prints "audit trail intact: N events" and the last hash
(compare it with a copy kept elsewhere: someone able to rewrite the whole
table from some event on could forge a consistent chain). If an event was
altered, removed or reordered it names the first broken link — its seq and
the expected and stored hashes — and exits with status 1.` + adminbackend.DatabaseHelp + adminbackend.TargetHelp,
		Example: `  gatehouse audit verify
  gatehouse audit verify --json --db postgres://gatehouse@db/gatehouse`,
		Args: command.UsageArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if runF != nil {
				return runF(opts)
			}
			return adminbackend.Run(cmd, f, opts.Server, func(ctx context.Context, b adminbackend.Backend) error {
				opts.Backend = b
				return auditVerifyRun(ctx, opts)
			})
		},
	}
	adminbackend.AddServerFlag(cmd, &opts.Server)
	cmd.Flags().BoolVar(&opts.JSON, "json", false, "print the result as JSON")
	return cmd
}

// auditVerifyJSON is the --json output of audit verify.
type auditVerifyJSON struct {
	Intact bool  `json:"intact"`
	Events int64 `json:"events"` // events checked (before the break, when broken)
	// LastSeq and LastHash are the last intact event's.
	LastSeq  int64  `json:"last_seq"`
	LastHash string `json:"last_hash,omitempty"`
	// The first broken link, when not intact.
	BrokenSeq int64  `json:"broken_seq,omitempty"`
	Problem   string `json:"problem,omitempty"`
	Expected  string `json:"expected,omitempty"`
	Stored    string `json:"stored,omitempty"`
	Error     string `json:"error,omitempty"`
	// PrunedThrough and CheckpointHash are the retention checkpoint the
	// kept events were checked from (absent when nothing was pruned).
	PrunedThrough  int64  `json:"pruned_through,omitempty"`
	CheckpointHash string `json:"checkpoint_hash,omitempty"`
}

// auditVerifyRun prints what verifying the audit trail found. Over the
// admin API the first broken link comes only in words, so a broken
// trail's JSON carries just intact, events and error.
func auditVerifyRun(ctx context.Context, opts *AuditVerifyOptions) error {
	res, err := opts.Backend.VerifyAudit(ctx)
	if err != nil {
		return fmt.Errorf("verify the audit trail: %w", err)
	}
	n, last := res.Checked, res.Last
	v := auditVerifyJSON{Intact: res.Broken == nil, Events: n, PrunedThrough: res.PrunedThrough, CheckpointHash: res.CheckpointHash}
	if last != nil {
		v.LastSeq, v.LastHash = last.Seq, last.Hash
	}
	var ce *audit.ChainError
	switch {
	case errors.As(res.Broken, &ce):
		v.BrokenSeq, v.Problem, v.Expected, v.Stored, v.Error = ce.Seq, ce.Problem, ce.Expected, ce.Stored, ce.Error()
	case res.Broken != nil:
		v.Error = res.Broken.Error()
	}
	if opts.JSON {
		if werr := writeJSON(opts.IO.Out, v); werr != nil {
			return werr
		}
	} else if res.Broken == nil {
		fmt.Fprintf(opts.IO.Out, "audit trail intact: %d events\n", n)
		if v.PrunedThrough > 0 {
			fmt.Fprintf(opts.IO.Out, "pruned through seq %d, checked from its hash %s\n", v.PrunedThrough, v.CheckpointHash)
		}
		if last != nil {
			fmt.Fprintf(opts.IO.Out, "last event: seq %d, hash %s\n", last.Seq, last.Hash)
		}
	}
	switch {
	case res.Broken == nil:
		return nil
	case ce == nil:
		return fmt.Errorf("audit trail broken: %w (%d events before it are intact)", res.Broken, n)
	case n == 0:
		return ce
	case n == 1:
		return fmt.Errorf("%w (seq 1 before it is intact)", ce)
	}
	return fmt.Errorf("%w (seq 1 to %d before it are intact)", ce, n)
}
