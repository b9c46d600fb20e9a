package servercmd

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"

	"github.com/spf13/cobra"

	"github.com/gatehouse-auth/gatehouse/internal/cli/command"
	"github.com/gatehouse-auth/gatehouse/internal/config"
	"github.com/gatehouse-auth/gatehouse/internal/server"
)

// HealthcheckOptions are the options of `gatehouse healthcheck`, the
// probe of a container's HEALTHCHECK: the image has no shell and no HTTP
// client besides this binary.
type HealthcheckOptions struct {
	IO     command.IOStreams
	Config *config.Server
	Client *http.Client
}

// NewCmdHealthcheck is `gatehouse healthcheck`; runF, when not nil, runs instead of its run
// function (for tests of its flags).
func NewCmdHealthcheck(f *command.Factory, runF func(*HealthcheckOptions) error) *cobra.Command {
	opts := &HealthcheckOptions{IO: f.IOStreams}
	cmd := &cobra.Command{
		Use:   "healthcheck [flags]",
		Short: "Check that the local server answers (for container health checks)",
		Long: `Ask the server on this machine for its /healthz page and exit 0 if it
answers 200, 1 otherwise. It reads the same settings as 'gatehouse server'
(--config, GATEHOUSE_ADDR, GATEHOUSE_ISSUER...) to find the port and the
issuer's path, and connects to the loopback address when the server
listens on all addresses.`,
		Example: `  # A Dockerfile's health check
  HEALTHCHECK CMD ["gatehouse", "healthcheck"]

  # By hand, for a server on another port
  gatehouse healthcheck --addr 127.0.0.1:9090`,
		Args:   command.UsageArgs(cobra.NoArgs),
		Hidden: true,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := config.Load(cmd.Flags(), opts.IO.Getenv)
			if err != nil {
				return &command.UsageError{Command: cmd.CommandPath(), Err: err}
			}
			opts.Config = cfg
			if runF != nil {
				return runF(opts)
			}
			return healthcheckRun(cmd.Context(), opts)
		},
	}
	config.RegisterFlags(cmd.Flags())
	return cmd
}

// healthURL is the /healthz URL of the server cfg describes, reached
// locally: a wildcard listen address becomes the loopback one.
func healthURL(cfg *config.Server) (string, error) {
	host, port, err := net.SplitHostPort(cfg.Addr)
	if err != nil {
		return "", fmt.Errorf("healthcheck: addr %q: %w", cfg.Addr, err)
	}
	if ip := net.ParseIP(host); host == "" || ip != nil && ip.IsUnspecified() {
		host = "127.0.0.1"
	}
	return "http://" + net.JoinHostPort(host, port) + cfg.IssuerPath() + server.PathHealthz, nil
}

func healthcheckRun(ctx context.Context, opts *HealthcheckOptions) error {
	u, err := healthURL(opts.Config)
	if err != nil {
		return err
	}
	hc := opts.Client
	if hc == nil {
		hc = &http.Client{Timeout: 5 * time.Second}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return fmt.Errorf("healthcheck: %w", err)
	}
	resp, err := hc.Do(req)
	if err != nil {
		return fmt.Errorf("healthcheck: %w", err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<10))
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("healthcheck: %s answered %s", u, resp.Status)
	}
	fmt.Fprintln(opts.IO.Out, "ok")
	return nil
}
