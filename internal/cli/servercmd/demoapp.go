package servercmd

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/spf13/cobra"

	"github.com/gatehouse-auth/gatehouse/internal/cli/command"
	"github.com/gatehouse-auth/gatehouse/internal/demoapp"
)

// demoAppShutdown bounds how long `gatehouse demo-app` waits for requests
// in flight after SIGINT or SIGTERM.
const demoAppShutdown = 5 * time.Second

// DemoAppOptions are the options of `gatehouse demo-app`.
type DemoAppOptions struct {
	IO   command.IOStreams
	Addr string
}

// NewCmdDemoApp is `gatehouse demo-app`; runF, when not nil, runs instead of its run
// function (for tests of its flags).
func NewCmdDemoApp(f *command.Factory, runF func(*DemoAppOptions) error) *cobra.Command {
	opts := &DemoAppOptions{IO: f.IOStreams}
	cmd := &cobra.Command{
		Use:   "demo-app [--addr HOST:PORT]",
		Short: "Run a small web app that shows who the gateway signed in (to try gatehouse proxy)",
		Long: `Run a small web application to put behind 'gatehouse proxy' when you have
no application of your own at hand. It shows who the gateway says is signed
in, from the identity headers the gateway sets (X-Gatehouse-User, -User-Id,
-Email, -Roles, -Auth, -Assertion):

  /          who is signed in (an HTML page for browsers, one line of text otherwise)
  /api/me    the same as JSON
  /admin     a page the demo policy (gatehouse proxy --preset demo) keeps for admins
  /healthz   "ok" (public in the demo policy)

The app believes those headers from whoever reaches it, as applications
behind the gateway do, so it listens on a loopback address only. With port 0
it picks a free port. It prints "Demo app listening on http://ADDR" on
stderr once it accepts connections, and stops on SIGINT or SIGTERM.`,
		Example: `  # The app, and the gateway in front of it with the matching policy
  gatehouse demo-app --addr 127.0.0.1:3000 &
  gatehouse proxy --upstream http://127.0.0.1:3000 --preset demo
  # open http://127.0.0.1:4180 and sign in`,
		Args: command.UsageArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := demoapp.CheckAddr(opts.Addr); err != nil {
				return &command.UsageError{Command: cmd.CommandPath(), Err: err}
			}
			if runF != nil {
				return runF(opts)
			}
			return demoAppRun(cmd.Context(), opts)
		},
	}
	cmd.Flags().StringVar(&opts.Addr, "addr", "127.0.0.1:3000", "listen on `HOST:PORT`, a loopback address (port 0: a free port)")
	return cmd
}

func demoAppRun(ctx context.Context, opts *DemoAppOptions) error {
	ln, err := demoapp.Listen(opts.Addr)
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: demoapp.Handler(), ReadHeaderTimeout: 10 * time.Second}
	fmt.Fprintf(opts.IO.ErrOut, "Demo app listening on http://%s\n", ln.Addr())
	serveErr := make(chan error, 1)
	go func() { serveErr <- srv.Serve(ln) }()
	select {
	case err := <-serveErr:
		return fmt.Errorf("demo app: %w", err)
	case <-ctx.Done():
	}
	shutdownCtx, cancel := context.WithTimeout(context.Background(), demoAppShutdown)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("demo app: shut down: %w", err)
	}
	return nil
}
