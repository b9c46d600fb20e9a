package admincmd

import (
	"context"
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"

	"github.com/gatehouse-auth/gatehouse/internal/audit"
	"github.com/gatehouse-auth/gatehouse/internal/cli/adminbackend"
	"github.com/gatehouse-auth/gatehouse/internal/cli/command"
)

// AuditPruneOptions are the streams, the opened database and the flag values of `gatehouse audit prune`.
type AuditPruneOptions struct {
	IO    command.IOStreams
	Admin *adminbackend.Env

	Before  string
	Archive string
}

// NewCmdAuditPrune is `gatehouse audit prune`; runF, when not nil, runs instead of its run
// function (for tests of its flags).
func NewCmdAuditPrune(f *command.Factory, runF func(*AuditPruneOptions) error) *cobra.Command {
	opts := &AuditPruneOptions{IO: f.IOStreams}
	cmd := &cobra.Command{
		Use:   "prune --before DUR|TIME [--archive FILE]",
		Short: "Delete old audit events, keeping the rest verifiable",
		Long: `Delete the audit events older than --before (a duration back from now, such
as 2160h or 90d, or a time), oldest first, in transactions of 1000 events.
Each transaction keeps a checkpoint: the seq and hash of the last deleted
event. 'gatehouse audit verify' then checks the kept events from that hash
on, so the kept part is still proved whole. The newest event is never
deleted.

With --archive the events are first appended to FILE (created 0600 if
missing) as the same JSON lines the server writes, chain members
included, and the file is synced before each delete: keep it where the
database administrators cannot write.

The server does the same every hour when audit.retention is set.` + adminbackend.DatabaseHelp,
		Example: `  gatehouse audit prune --before 90d --archive /var/backups/gatehouse-audit.jsonl
  gatehouse audit prune --before 2030-01-01`,
		Args: command.UsageArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if opts.Before == "" {
				return command.UsageErrorf("--before is required")
			}
			if _, err := parseSince(opts.Before, f.IOStreams.Clock.Now()); err != nil {
				return &command.UsageError{Err: err}
			}
			if runF != nil {
				return runF(opts)
			}
			return adminbackend.RunDatabase(cmd, f.IOStreams, func(ctx context.Context, env *adminbackend.Env) error {
				opts.Admin = env
				return auditPruneRun(ctx, opts)
			})
		},
	}
	cmd.Flags().StringVar(&opts.Before, "before", "", "delete events older than `DUR` (90d, 2160h) or a TIME")
	cmd.Flags().StringVar(&opts.Archive, "archive", "", "append the deleted events to `FILE` as JSON lines first")
	return cmd
}

func auditPruneRun(ctx context.Context, opts *AuditPruneOptions) error {
	before, err := parseSince(opts.Before, opts.Admin.Now())
	if err != nil {
		return &command.UsageError{Err: err}
	}
	var archive *os.File
	if opts.Archive != "" {
		archive, err = os.OpenFile(opts.Archive, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
		if err != nil {
			return fmt.Errorf("audit prune: %w", err)
		}
		defer archive.Close()
	}
	var w io.Writer
	if archive != nil {
		w = archive
	}
	n, err := audit.Prune(ctx, opts.Admin.Store, before, w)
	if n > 0 {
		opts.Admin.Audit.Log(audit.Event{Type: audit.Pruned, Outcome: audit.Success, Actor: "cli",
			Details: map[string]string{"events": fmt.Sprint(n), "before": before.UTC().Format("2006-01-02T15:04:05Z")}})
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(opts.IO.Out, "pruned %d audit events older than %s\n", n, before.UTC().Format("2006-01-02T15:04:05Z"))
	return nil
}
