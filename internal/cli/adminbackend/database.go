package adminbackend

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/gatehouse-auth/gatehouse/clock"
	"github.com/gatehouse-auth/gatehouse/internal/audit"
	"github.com/gatehouse-auth/gatehouse/internal/cli/command"
	"github.com/gatehouse-auth/gatehouse/internal/config"
	"github.com/gatehouse-auth/gatehouse/internal/server"
	"github.com/gatehouse-auth/gatehouse/internal/storage"
)

// auditActor is the Actor of audit events from admin commands.
const auditActor = "cli"

// Env is what the admin commands (clients, users, keys) work with:
// the configuration, the database opened directly, and the audit trail.
type Env struct {
	Config *config.Server
	Store  storage.Store
	// Audit receives the events of admin changes; a nil *audit.Logger
	// discards them.
	Audit *audit.Logger
	Clock clock.Clock

	sink io.Closer
}

// DatabaseHelp is appended to the Long help of admin commands.
const DatabaseHelp = `

This command works directly on the server's database: the SQLite database in
--data-dir (default ./gatehouse-data), or the database named by --db or
GATEHOUSE_DB. The settings may also come from the server's --config file.
Audit events go where audit.output says; "stdout" is written to stderr here
so that the command's output stays clean.`

// AddStorageFlags registers --config, --data-dir and --db on a command group
// for all its subcommands.
func AddStorageFlags(cmd *cobra.Command) {
	config.RegisterStorageFlags(cmd.PersistentFlags())
}

// openAdmin loads the configuration from cmd's flags and the environment and
// opens the database and the audit output.
func openAdmin(ctx context.Context, cmd *cobra.Command, streams command.IOStreams) (*Env, error) {
	cfg, err := config.Load(cmd.Flags(), streams.Getenv)
	if err != nil {
		return nil, &command.UsageError{Command: cmd.CommandPath(), Err: err}
	}
	if cfg.DB == "" {
		if _, err := os.Stat(cfg.DataDir); errors.Is(err, fs.ErrNotExist) {
			fmt.Fprintf(streams.ErrOut, "Note: %s does not exist; creating a new database there.\n", cfg.DataDir)
		}
	}
	st, _, err := server.OpenStore(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("open database: %w", err)
	}
	env := &Env{Config: cfg, Store: st, Clock: streams.Clock}
	w, sink, err := auditWriter(cfg.Audit.Output, streams.ErrOut)
	if err != nil {
		st.Close()
		return nil, fmt.Errorf("audit output: %w", err)
	}
	env.sink = sink
	env.Audit = audit.NewWithStore(w, st, streams.Clock)
	return env, nil
}

// auditWriter opens the audit output of an admin command. "stdout" and
// "stderr" both go to errOut, so that --json documents on stdout stay
// parseable; "off" gives a nil writer; anything else is a file that
// audit.OpenOutput opens for appending.
func auditWriter(output string, errOut io.Writer) (io.Writer, io.Closer, error) {
	switch output {
	case "", "stdout", "stderr":
		return errOut, nil, nil
	}
	wc, err := audit.OpenOutput(output)
	if err != nil || wc == nil {
		return nil, nil, err
	}
	return wc, wc, nil
}

// Close flushes the audit trail and closes the database.
func (a *Env) Close() error {
	var errs []error
	if a.Audit != nil {
		errs = append(errs, a.Audit.Close())
	}
	if a.sink != nil {
		errs = append(errs, a.sink.Close())
	}
	if a.Store != nil {
		errs = append(errs, a.Store.Close())
	}
	return errors.Join(errs...)
}

// Log records an admin change in the audit trail.
func (a *Env) Log(e audit.Event) {
	e.Actor = auditActor
	if e.Outcome == "" {
		e.Outcome = audit.Success
	}
	a.Audit.Log(e)
}

// Now is the current time in UTC.
func (a *Env) Now() time.Time { return a.Clock.Now().UTC() }

// RunDatabase opens the admin environment for cmd, runs fn with it and closes
// it, returning fn's error first.
func RunDatabase(cmd *cobra.Command, streams command.IOStreams, fn func(ctx context.Context, env *Env) error) error {
	ctx := cmd.Context()
	if ctx == nil {
		ctx = context.Background()
	}
	env, err := openAdmin(ctx, cmd, streams)
	if err != nil {
		return err
	}
	err = fn(ctx, env)
	if cerr := env.Close(); err == nil && cerr != nil {
		err = cerr
	}
	return err
}
