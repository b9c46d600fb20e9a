package admincmd

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/gatehouse-auth/gatehouse/internal/admin"
	"github.com/gatehouse-auth/gatehouse/internal/audit"
	"github.com/gatehouse-auth/gatehouse/internal/cli/adminbackend"
	"github.com/gatehouse-auth/gatehouse/internal/cli/command"
	"github.com/gatehouse-auth/gatehouse/internal/storage"
)

// AuditListOptions are the streams, the backend and the flag values of `gatehouse audit list`.
type AuditListOptions struct {
	IO command.IOStreams
	// Backend is the database or the admin API (adminbackend.Run).
	Backend adminbackend.Backend
	Server  string

	Since string
	User  string
	Type  string
	Limit int
	JSON  bool
}

// defaultAuditLimit is how many events audit list shows without --limit.
const defaultAuditLimit = 100

// NewCmdAuditList is `gatehouse audit list`; runF, when not nil, runs instead of its run
// function (for tests of its flags).
func NewCmdAuditList(f *command.Factory, runF func(*AuditListOptions) error) *cobra.Command {
	opts := &AuditListOptions{IO: f.IOStreams}
	cmd := &cobra.Command{
		Use:   "list [--since DUR|TIME] [--user NAME] [--type TYPE] [--limit N] [--json]",
		Short: "List audit events",
		Long: `List the most recent audit events that match the filters, oldest first:
the last --limit (default 100; 0 for all) since --since.

--since takes a duration back from now (90m, 24h, 7d) or a time (RFC 3339,
or 2030-01-02 / 2030-01-02T15:04:05 in UTC). --user takes a user name, or
the ID of a deleted user. Event types include login.success, login.failure,
token.issued, token.refused, token.revoked, refresh.reuse, code.replay,
device.approved, client.created, user.created and key.rotated.

--json prints one JSON object per line: the event with its seq, prev_hash
and hash, as the server writes it to audit.output.` + adminbackend.DatabaseHelp + adminbackend.TargetHelp,
		Example: `  gatehouse audit list
  gatehouse audit list --since 24h --type login.failure
  gatehouse audit list --user alice --limit 0 --json`,
		Args: command.UsageArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if opts.Limit < 0 {
				return command.UsageErrorf("--limit must not be negative")
			}
			if opts.Since != "" {
				if _, err := parseSince(opts.Since, f.IOStreams.Clock.Now()); err != nil {
					return &command.UsageError{Err: err}
				}
			}
			if runF != nil {
				return runF(opts)
			}
			return adminbackend.Run(cmd, f, opts.Server, func(ctx context.Context, b adminbackend.Backend) error {
				opts.Backend = b
				return auditListRun(ctx, opts)
			})
		},
	}
	flags := cmd.Flags()
	flags.StringVar(&opts.Since, "since", "", "only events since `DUR` ago (24h, 7d) or since a TIME")
	flags.StringVar(&opts.User, "user", "", "only events about the user `NAME`")
	flags.StringVar(&opts.Type, "type", "", "only events of `TYPE`, e.g. login.failure")
	flags.IntVar(&opts.Limit, "limit", defaultAuditLimit, "show the last `N` matching events; 0 for all")
	flags.BoolVar(&opts.JSON, "json", false, "print JSON lines")
	adminbackend.AddServerFlag(cmd, &opts.Server)
	return cmd
}

func auditListRun(ctx context.Context, opts *AuditListOptions) error {
	now := opts.IO.Clock.Now().UTC()
	f := storage.AuditFilter{Type: opts.Type, Limit: opts.Limit, Latest: true}
	if opts.Since != "" {
		since, err := parseSince(opts.Since, now)
		if err != nil {
			return &command.UsageError{Err: err}
		}
		f.Since = since
	}
	if opts.User != "" {
		u, err := opts.Backend.GetUser(ctx, opts.User)
		switch {
		case err == nil:
			f.UserID = u.ID
		case admin.KindOf(err) == admin.NotFound:
			fmt.Fprintf(opts.IO.ErrOut, "Note: no user is called %q; listing the events of the user ID %q.\n", opts.User, opts.User)
			f.UserID = opts.User
		default:
			return fmt.Errorf("get user %q: %w", opts.User, err)
		}
	}
	recs, err := opts.Backend.ListAudit(ctx, f)
	if err != nil {
		return fmt.Errorf("list audit events: %w", err)
	}
	if opts.JSON {
		for _, r := range recs {
			if _, err := opts.IO.Out.Write(audit.RecordLine(r)); err != nil {
				return err
			}
		}
		return nil
	}
	tw := newTable(opts.IO.Out)
	fmt.Fprintln(tw, "SEQ\tTIME\tTYPE\tOUTCOME\tACTOR\tUSER\tCLIENT\tIP\tDETAILS")
	for _, r := range recs {
		var e audit.Event
		if err := json.Unmarshal(r.Event, &e); err != nil {
			fmt.Fprintf(tw, "%d\t%s\t%s\t-\t-\t-\t-\t-\t(unreadable event: %v)\n", r.Seq, jsonTime(r.Time), tableCell(r.Type), err)
			continue
		}
		user := e.Username
		if user == "" {
			user = e.UserID
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", r.Seq, jsonTime(e.Time), tableCell(e.Type),
			tableCell(e.Outcome), tableCell(e.Actor), tableCell(user), tableCell(e.ClientID), tableCell(e.IP), eventDetails(e))
	}
	return tw.Flush()
}

// eventDetails is the DETAILS cell: the reason, then the details as
// key=value in key order.
func eventDetails(e audit.Event) string {
	var parts []string
	if e.Reason != "" {
		parts = append(parts, e.Reason)
	}
	for _, k := range slices.Sorted(maps.Keys(e.Details)) {
		parts = append(parts, k+"="+e.Details[k])
	}
	return tableCell(strings.Join(parts, " "))
}

// tableCell makes s safe for one table cell: "-" when empty, control
// characters (tabs, newlines, terminal escapes) quoted.
func tableCell(s string) string {
	if strings.IndexFunc(s, func(r rune) bool { return r < 0x20 || r == 0x7f || r == 0x9b }) >= 0 {
		q := fmt.Sprintf("%q", s)
		return q[1 : len(q)-1]
	}
	return orDash(s)
}
