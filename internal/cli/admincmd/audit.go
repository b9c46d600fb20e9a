package admincmd

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/gatehouse-auth/gatehouse/internal/cli/adminbackend"
	"github.com/gatehouse-auth/gatehouse/internal/cli/command"
)

// NewCmdAudit is the `gatehouse audit` group.
func NewCmdAudit(f *command.Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "audit",
		Short: "Read and verify the tamper-evident audit trail",
		Long: `Read and verify the audit trail: every security event (logins, token
issuance and refusal, revocations, device approvals, admin changes) that the
server and the admin commands recorded.

Each event is stored in the database chained to the one before it by hash:
hash = SHA-256(prev_hash + "\n" + event). Changing, removing or reordering
an event breaks the chain there, and 'gatehouse audit verify' names the first
broken link. The JSON lines the server writes (audit.output) carry the same
seq, prev_hash and hash, so a copy kept elsewhere anchors the chain.` + adminbackend.DatabaseHelp,
		Example: `  gatehouse audit list --since 24h
  gatehouse audit list --user alice --type login.failure --limit 20
  gatehouse audit list --since 2030-01-02 --json | jq .
  gatehouse audit verify
  gatehouse audit prune --before 90d --archive audit-archive.jsonl`,
	}
	command.Group(cmd)
	adminbackend.AddStorageFlags(cmd)
	cmd.AddCommand(
		NewCmdAuditList(f, nil),
		NewCmdAuditVerify(f, nil),
		NewCmdAuditPrune(f, nil),
	)
	return cmd
}

// sinceLayouts are the absolute forms --since accepts besides RFC 3339.
var sinceLayouts = []string{"2006-01-02T15:04:05", "2006-01-02 15:04:05", "2006-01-02T15:04", "2006-01-02 15:04", "2006-01-02"}

// parseSince reads a --since value: a duration back from now ("90m", "24h",
// "7d") or a time (RFC 3339, or a date and time in UTC).
func parseSince(s string, now time.Time) (time.Time, error) {
	s = strings.TrimSpace(s)
	if days, ok := strings.CutSuffix(s, "d"); ok {
		if n, err := strconv.Atoi(days); err == nil && n >= 0 {
			return now.Add(-time.Duration(n) * 24 * time.Hour), nil
		}
	}
	if d, err := time.ParseDuration(s); err == nil {
		if d < 0 {
			return time.Time{}, fmt.Errorf("--since %s: the duration must not be negative", s)
		}
		return now.Add(-d), nil
	}
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t, nil
	}
	for _, layout := range sinceLayouts {
		if t, err := time.Parse(layout, s); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("--since %q: want a duration (90m, 24h, 7d) or a time (2030-01-02, 2030-01-02T15:04:05Z)", s)
}
