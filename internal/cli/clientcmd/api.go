package clientcmd

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"sort"
	"strings"

	"github.com/spf13/cobra"

	"github.com/gatehouse-auth/gatehouse/cliauth"
	"github.com/gatehouse-auth/gatehouse/internal/cli/command"
	"github.com/gatehouse-auth/gatehouse/internal/clientreg"
)

// APIOptions are the dependencies and flags of `gatehouse api`.
type APIOptions struct {
	IO      command.IOStreams
	Auth    *cliauth.App
	Method  string
	URL     string
	Data    string
	Headers []string
	Include bool
	// AllowAnyHost lets the token go to a host that is neither the
	// issuer's origin nor in the profile's api_hosts.
	AllowAnyHost bool
}

// NewCmdAPI is `gatehouse api`; runF, when not nil, runs instead of its
// run function (for tests of its flags).
func NewCmdAPI(f *command.Factory, runF func(*APIOptions) error) *cobra.Command {
	opts := &APIOptions{IO: f.IOStreams, Auth: f.Auth}
	cmd := &cobra.Command{
		Use:   "api [-X METHOD] URL [-d BODY] [-H 'KEY: VALUE']...",
		Short: "Make an authenticated HTTP request",
		Long: `Send an HTTP request with the credentials in force (see 'gatehouse status') and
print the response body. If the server answers 401, the token is refreshed
once and the request sent again. A login bound to this machine's key (DPoP,
see 'gatehouse login') sends "Authorization: DPoP <token>" with a fresh
proof of the key for each request, and follows a server's nonce challenge
(use_dpop_nonce) once.

A relative URL is resolved under the issuer, its path included ("/oauth2/userinfo",
"admin/v1/users"). The token is only ever sent to the URL given: a redirect
to another origin is not followed.

The token goes only to the issuer's origin (scheme, host and port) and to
the hosts listed in the profile's api_hosts (config.yaml: api_hosts:
[api.example.com]); a URL for any other host, "//other-host/x" included,
is refused unless --allow-any-host is given.

-d sends a body (and makes the default method POST): the text itself,
@FILE for a file's contents, or @- for stdin. Without a Content-Type
header, a body that starts with { or [ is sent as application/json, any
other as application/x-www-form-urlencoded.

An HTTP error status (400 and above) prints the body and exits with 1.`,
		Example: `  gatehouse api /oauth2/userinfo
  gatehouse api https://api.example.com/v1/things -H 'Accept: application/json'
  gatehouse api -X POST https://api.example.com/v1/things -d '{"name": "x"}'
  gatehouse api https://api.example.com/v1/import -d @things.json`,
		Args: command.UsageArgs(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.URL = args[0]
			if !cmd.Flags().Changed("method") && cmd.Flags().Changed("data") {
				opts.Method = http.MethodPost
			}
			if runF != nil {
				return runF(opts)
			}
			return apiRun(cmd.Context(), opts)
		},
	}
	fl := cmd.Flags()
	fl.StringVarP(&opts.Method, "method", "X", http.MethodGet, "the HTTP `METHOD`")
	fl.StringVarP(&opts.Data, "data", "d", "", "the request `BODY`: text, @FILE or @- for stdin")
	fl.StringArrayVarP(&opts.Headers, "header", "H", nil, "a request header `'KEY: VALUE'`; repeat it")
	fl.BoolVarP(&opts.Include, "include", "i", false, "print the status line and response headers first")
	fl.BoolVar(&opts.AllowAnyHost, "allow-any-host", false, "send the token to a host other than the issuer's and the profile's api_hosts")
	f.Auth.AddFlags(cmd)
	return cmd
}

func apiRun(ctx context.Context, opts *APIOptions) error {
	method := strings.ToUpper(strings.TrimSpace(opts.Method))
	if method == "" || strings.ContainsAny(method, " \t/") {
		return command.UsageErrorf("-X %q is not an HTTP method", opts.Method)
	}
	header, err := parseHeaders(opts.Headers)
	if err != nil {
		return err
	}
	body, err := requestBody(opts.IO.In, opts.Data)
	if err != nil {
		return err
	}
	hc, res, err := opts.Auth.Client(ctx)
	if err != nil {
		return err
	}
	target, err := resolveAPIURL(res.Issuer, opts.URL)
	if err != nil {
		return err
	}
	if !opts.AllowAnyHost {
		if err := checkAPIHost(target, res.Issuer, res.APIHosts); err != nil {
			return err
		}
	}
	var rd io.Reader
	if body != nil {
		// A *bytes.Reader lets the request be replayed after a 401.
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, target, rd)
	if err != nil {
		return command.UsageErrorf("request: %v", err)
	}
	req.Header = header
	if body != nil && req.Header.Get("Content-Type") == "" {
		req.Header.Set("Content-Type", guessContentType(body))
	}
	resp, err := hc.Do(req)
	if err != nil {
		if ferr := requestFailure(err, req.URL.Host); ferr != nil {
			return ferr
		}
		return err
	}
	defer resp.Body.Close()
	out := opts.IO.Out
	if opts.Include {
		fmt.Fprintf(out, "%s %s\n", resp.Proto, resp.Status)
		keys := make([]string, 0, len(resp.Header))
		for k := range resp.Header {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			for _, v := range resp.Header[k] {
				fmt.Fprintf(out, "%s: %s\n", k, v)
			}
		}
		fmt.Fprintln(out)
	}
	if _, err := io.Copy(out, resp.Body); err != nil {
		return fmt.Errorf("read the response: %w", err)
	}
	if resp.StatusCode >= 400 {
		msg := fmt.Sprintf("%s %s: HTTP %s", method, req.URL.Redacted(), resp.Status)
		if resp.StatusCode == http.StatusUnauthorized {
			msg += " (the credentials were refused even after a refresh; see 'gatehouse status')"
		}
		return errors.New(msg)
	}
	return nil
}

// resolveAPIURL makes raw absolute: a relative reference resolves against
// the issuer as a directory, so "admin/v1/users" lands under its path and
// "/oauth2/userinfo" at its origin.
func resolveAPIURL(issuer, raw string) (string, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return "", command.UsageErrorf("URL %q: %v", raw, err)
	}
	if u.IsAbs() {
		if u.Scheme != "http" && u.Scheme != "https" {
			return "", command.UsageErrorf("URL %q: only http and https", raw)
		}
		return u.String(), nil
	}
	if issuer == "" {
		return "", command.UsageErrorf("%q is relative and no issuer is known to resolve it against; give a full URL or set GATEHOUSE_ISSUER", raw)
	}
	base, err := url.Parse(strings.TrimSuffix(issuer, "/") + "/")
	if err != nil {
		return "", fmt.Errorf("issuer %q: %w", issuer, err)
	}
	// "/oauth2/userinfo" is under the issuer's path, as the issuer's own
	// endpoints are (https://gw.example/_gatehouse/auth/oauth2/userinfo),
	// not at the root of its origin.
	if u.Host == "" && strings.HasPrefix(u.Path, "/") && !strings.HasPrefix(raw, "//") {
		u.Path = strings.TrimLeft(u.Path, "/")
		u.RawPath = ""
	}
	return base.ResolveReference(u).String(), nil
}

// checkAPIHost refuses a target that would send the token somewhere the
// credentials were not meant for: only the issuer's origin (same scheme,
// host and port) and the profile's api_hosts may receive it, over https
// (or http on a loopback host). An api_hosts entry without a port matches
// the host on the scheme's default port only.
func checkAPIHost(target, issuer string, apiHosts []string) error {
	t, err := url.Parse(target)
	if err != nil {
		return command.UsageErrorf("URL %q: %v", target, err)
	}
	if iss, err := url.Parse(issuer); issuer != "" && err == nil &&
		t.Scheme == iss.Scheme && strings.EqualFold(hostPort(t), hostPort(iss)) {
		return nil
	}
	for _, h := range apiHosts {
		if !strings.Contains(h, ":") || strings.HasSuffix(h, "]") {
			h = net.JoinHostPort(strings.Trim(h, "[]"), defaultPort(t.Scheme))
		}
		if (t.Scheme == "https" || clientreg.LoopbackHost(t.Hostname())) && strings.EqualFold(hostPort(t), h) {
			return nil
		}
	}
	where := "the issuer's origin"
	if issuer == "" {
		where = "an issuer (none is known)"
	}
	return command.UsageErrorf("refusing to send the token to %s: it is not %s nor in the profile's api_hosts; "+
		"add the host to api_hosts in the profile, or pass --allow-any-host if you trust it", t.Host, where)
}

// hostPort is u's host:port with the scheme's default port made explicit.
func hostPort(u *url.URL) string {
	port := u.Port()
	if port == "" {
		port = defaultPort(u.Scheme)
	}
	return net.JoinHostPort(u.Hostname(), port)
}

func defaultPort(scheme string) string {
	if scheme == "http" {
		return "80"
	}
	return "443"
}

// parseHeaders reads -H "Key: value" flags.
func parseHeaders(flags []string) (http.Header, error) {
	h := http.Header{}
	for _, f := range flags {
		k, v, ok := strings.Cut(f, ":")
		k = strings.TrimSpace(k)
		if !ok || k == "" || strings.ContainsAny(k, " \t\r\n") || strings.ContainsAny(v, "\r\n") {
			return nil, command.UsageErrorf("-H %q: want 'KEY: VALUE'", f)
		}
		if strings.EqualFold(k, "Authorization") {
			return nil, command.UsageErrorf("-H Authorization: gatehouse api sets it from the credentials in force")
		}
		h.Add(k, strings.TrimSpace(v))
	}
	return h, nil
}

// requestBody reads -d: nil without one, the text, @FILE, or @- (stdin).
func requestBody(stdin io.Reader, data string) ([]byte, error) {
	switch {
	case data == "":
		return nil, nil
	case data == "@-":
		b, err := io.ReadAll(stdin)
		if err != nil {
			return nil, fmt.Errorf("read the body from stdin: %w", err)
		}
		return b, nil
	case strings.HasPrefix(data, "@"):
		b, err := os.ReadFile(data[1:])
		if err != nil {
			return nil, command.UsageErrorf("-d %s: %v", data, err)
		}
		return b, nil
	}
	return []byte(data), nil
}

// guessContentType is JSON for a body that looks like JSON, else a form.
func guessContentType(body []byte) string {
	t := bytes.TrimSpace(body)
	if len(t) > 0 && (t[0] == '{' || t[0] == '[') {
		return "application/json"
	}
	return "application/x-www-form-urlencoded"
}
