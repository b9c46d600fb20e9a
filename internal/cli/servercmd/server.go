package servercmd

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/url"

	"github.com/spf13/cobra"

	"github.com/gatehouse-auth/gatehouse/internal/cli/command"
	"github.com/gatehouse-auth/gatehouse/internal/config"
	"github.com/gatehouse-auth/gatehouse/internal/password"
	"github.com/gatehouse-auth/gatehouse/internal/server"
)

// envAdminPassword names the variable with the first admin's password.
const envAdminPassword = "GATEHOUSE_ADMIN_PASSWORD"

// envAdminUser names the variable with the first admin's username.
const envAdminUser = "GATEHOUSE_ADMIN_USER"

// ServerOptions are the options of `gatehouse server`.
type ServerOptions struct {
	IO command.IOStreams
	// Config is the loaded configuration.
	Config *config.Server
	// AdminPassword is the password of the admin user created on an empty
	// database ("" generates one and prints it once).
	AdminPassword string
}

// NewCmdServer is `gatehouse server`; runF, when not nil, runs instead of its run
// function (for tests of its flags).
func NewCmdServer(f *command.Factory, runF func(*ServerOptions) error) *cobra.Command {
	opts := &ServerOptions{IO: f.IOStreams}
	cmd := &cobra.Command{
		Use:   "server [flags]",
		Short: "Run the authorization server",
		Long: `Run the Gatehouse authorization server: OAuth 2.0 and OpenID Connect
endpoints, login pages, /healthz, /readyz and /metrics.

Settings come from the built-in defaults, then the YAML file named by
--config or GATEHOUSE_CONFIG_FILE, then GATEHOUSE_* environment variables,
then the flags given here; unknown keys and unsafe values are errors. See
docs/examples/server.yaml for every key.

On its first start on an empty database the server creates the user
"admin" (password from GATEHOUSE_ADMIN_PASSWORD, else generated and printed
once) and the public client gatehouse-cli used by 'gatehouse login'. It
also generates the secret key that encrypts signing keys at rest
(DIR/secret.key, or GATEHOUSE_SECRET_KEY); back it up.

--addr with port 0 listens on a free port; the issuer then uses the real
port unless --issuer is given. SIGINT or SIGTERM stop accepting connections
and drain in-flight requests for up to shutdown_timeout.`,
		Example: `  # Local development: SQLite in ./gatehouse-data, http://127.0.0.1:8080
  gatehouse server

  # Behind a TLS-terminating proxy, on PostgreSQL
  GATEHOUSE_DB=postgres://gatehouse@db/gatehouse gatehouse server \
      --addr 0.0.0.0:8080 --issuer https://auth.example.com

  # From a configuration file
  gatehouse server --config /etc/gatehouse/server.yaml`,
		Args: command.UsageArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := config.Load(cmd.Flags(), opts.IO.Getenv)
			if err != nil {
				return &command.UsageError{Command: cmd.CommandPath(), Err: err}
			}
			opts.Config = cfg
			opts.AdminPassword = opts.IO.Getenv(envAdminPassword)
			if runF != nil {
				return runF(opts)
			}
			return serverRun(cmd.Context(), opts)
		},
	}
	config.RegisterFlags(cmd.Flags())
	return cmd
}

func serverRun(ctx context.Context, opts *ServerOptions) error {
	cfg := opts.Config
	if opts.AdminPassword != "" {
		if err := password.CheckPolicy(opts.AdminPassword); err != nil {
			return command.UsageErrorf("%s: %w", envAdminPassword, err)
		}
	}
	log := slog.New(slog.NewTextHandler(opts.IO.ErrOut, &slog.HandlerOptions{Level: cfg.SlogLevel()}))
	tuneServerGC(opts.IO.Getenv)

	// Listen first: with port 0 the issuer needs the port the kernel chose.
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", cfg.Addr, err)
	}
	defer ln.Close()
	if err := bindIssuer(cfg, ln.Addr()); err != nil {
		return err
	}

	inst, err := server.Open(ctx, cfg, opts.AdminPassword, opts.IO.ErrOut, log, server.WithAdminUser(opts.IO.Getenv(envAdminUser)))
	if err != nil {
		return err
	}
	fmt.Fprintf(opts.IO.ErrOut, "Gatehouse listening on http://%s (issuer %s)\n", ln.Addr(), cfg.Issuer)
	serveErr := inst.Serve(ctx, ln)
	closeErr := inst.Close()
	if serveErr != nil {
		return fmt.Errorf("serve: %w", serveErr)
	}
	if closeErr != nil {
		return fmt.Errorf("shut down: %w", closeErr)
	}
	log.Info("stopped")
	return nil
}

// bindIssuer records the address actually bound in cfg: Addr becomes it,
// and an issuer on port 0 (derived from an --addr with port 0) gets the
// real port.
func bindIssuer(cfg *config.Server, addr net.Addr) error {
	tcp, ok := addr.(*net.TCPAddr)
	if !ok {
		return nil
	}
	_, port, err := net.SplitHostPort(cfg.Addr)
	if err != nil || port != "0" {
		return nil
	}
	cfg.Addr = tcp.String()
	u, err := url.Parse(cfg.Issuer)
	if err != nil {
		return fmt.Errorf("issuer %q: %w", cfg.Issuer, err)
	}
	if u.Port() != "0" {
		return nil
	}
	u.Host = net.JoinHostPort(u.Hostname(), fmt.Sprint(tcp.Port))
	cfg.Issuer = u.String()
	if err := cfg.Validate(); err != nil {
		return errors.Join(errors.New("issuer with the bound port"), err)
	}
	return nil
}
