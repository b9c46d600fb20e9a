package jwtcmd

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/go-jose/go-jose/v4"
	"github.com/spf13/cobra"

	"github.com/gatehouse-auth/gatehouse/internal/cli/command"
)

// jwtKeygenRSABits is the size of RSA keys keygen makes.
const jwtKeygenRSABits = 3072

type KeygenOptions struct {
	IO command.IOStreams

	Alg     string
	Out     string
	JWKSOut string
	KID     string
	Force   bool
}

// NewCmdKeygen is `gatehouse jwt keygen`; runF, when not nil, runs instead of
// its run function (for tests of its flags).
func NewCmdKeygen(f *command.Factory, runF func(*KeygenOptions) error) *cobra.Command {
	opts := &KeygenOptions{IO: f.IOStreams}
	cmd := &cobra.Command{
		Use:   "keygen --out FILE [--alg ES256|EdDSA|RS256] [--jwks-out FILE]",
		Short: "Make a signing key pair and its public JWKS",
		Long: `Generate a private key for 'gatehouse jwt sign' and the public JWK Set to
register with the server, e.g. for a private_key_jwt client:

  gatehouse clients create NAME --grant client_credentials \
      --auth-method private_key_jwt --jwks-file FILE

The private key is written to --out with mode 0600: PKCS #8 PEM, or a
private JWK (with kid and alg) when the name ends in .json or .jwk. The
public JWK Set goes to --jwks-out, or to standard output. The kid is the
key's RFC 7638 thumbprint unless --kid is given. Existing files are not
overwritten without --force.`,
		Example: `  gatehouse jwt keygen --out client.pem --jwks-out client.jwks.json
  gatehouse jwt keygen --alg EdDSA --out client.jwk.json > client.jwks.json
  gatehouse jwt keygen --alg RS256 --kid 2026-01 --out rsa.pem --jwks-out rsa.jwks.json`,
		Args: command.UsageArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if runF != nil {
				return runF(opts)
			}
			return keygenRun(cmd.Context(), opts)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&opts.Alg, "alg", "ES256", "key `ALG`: ES256 (EC P-256), EdDSA (Ed25519) or RS256 (RSA 3072)")
	fl.StringVar(&opts.Out, "out", "", "write the private key to `FILE` (required; .json/.jwk: JWK, else PEM)")
	fl.StringVar(&opts.JWKSOut, "jwks-out", "", "write the public JWK Set to `FILE` (default: standard output)")
	fl.StringVar(&opts.KID, "kid", "", "key ID (default: the RFC 7638 thumbprint)")
	fl.BoolVar(&opts.Force, "force", false, "overwrite existing files")
	return cmd
}

func keygenRun(_ context.Context, opts *KeygenOptions) error {
	if opts.Out == "" {
		return command.UsageErrorf("--out FILE is required: where to write the private key")
	}
	if opts.JWKSOut != "" && filepath.Clean(opts.JWKSOut) == filepath.Clean(opts.Out) {
		return command.UsageErrorf("--out and --jwks-out must be different files")
	}
	var (
		key crypto.Signer
		err error
	)
	switch jose.SignatureAlgorithm(opts.Alg) {
	case jose.ES256:
		key, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	case jose.EdDSA:
		_, key, err = ed25519.GenerateKey(rand.Reader)
	case jose.RS256:
		key, err = rsa.GenerateKey(rand.Reader, jwtKeygenRSABits)
	default:
		return command.UsageErrorf("--alg %q: use ES256, EdDSA or RS256", opts.Alg)
	}
	if err != nil {
		return fmt.Errorf("generate key: %w", err)
	}
	kid := opts.KID
	if kid == "" {
		if kid, err = jwtThumbprint(key); err != nil {
			return err
		}
	}

	private, err := jwtEncodePrivateKey(key, opts.Out, kid, opts.Alg)
	if err != nil {
		return err
	}
	public, err := json.MarshalIndent(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{
		Key: key.Public(), KeyID: kid, Algorithm: opts.Alg, Use: "sig",
	}}}, "", "  ")
	if err != nil {
		return fmt.Errorf("encode JWKS: %w", err)
	}
	public = append(public, '\n')

	if err := jwtWriteNewFile(opts.Out, private, 0o600, opts.Force); err != nil {
		return err
	}
	if opts.JWKSOut == "" {
		if _, err := opts.IO.Out.Write(public); err != nil {
			return err
		}
	} else if err := jwtWriteNewFile(opts.JWKSOut, public, 0o644, opts.Force); err != nil {
		return err
	}

	fmt.Fprintf(opts.IO.ErrOut, "Wrote the %s private key (kid %s) to %s; keep it secret.\n", opts.Alg, kid, opts.Out)
	jwks := "FILE"
	if opts.JWKSOut != "" {
		jwks = opts.JWKSOut
		fmt.Fprintf(opts.IO.ErrOut, "Wrote the public JWK Set to %s.\n", opts.JWKSOut)
	}
	fmt.Fprintf(opts.IO.ErrOut, "Register it with: gatehouse clients create NAME --grant client_credentials --auth-method private_key_jwt --jwks-file %s\n", jwks)
	return nil
}

// jwtEncodePrivateKey encodes key as a private JWK (with kid and alg) when
// path ends in .json or .jwk, else as PKCS #8 PEM.
func jwtEncodePrivateKey(key crypto.Signer, path, kid, alg string) ([]byte, error) {
	ext := strings.ToLower(filepath.Ext(path))
	if ext == ".json" || ext == ".jwk" {
		b, err := json.MarshalIndent(jose.JSONWebKey{Key: key, KeyID: kid, Algorithm: alg, Use: "sig"}, "", "  ")
		if err != nil {
			return nil, fmt.Errorf("encode JWK: %w", err)
		}
		return append(b, '\n'), nil
	}
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, fmt.Errorf("encode private key: %w", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), nil
}

// jwtWriteNewFile writes data to a new file with mode perm, refusing to
// replace an existing one unless force.
func jwtWriteNewFile(path string, data []byte, perm os.FileMode, force bool) error {
	flag := os.O_WRONLY | os.O_CREATE | os.O_EXCL
	if force {
		flag = os.O_WRONLY | os.O_CREATE | os.O_TRUNC
	}
	f, err := os.OpenFile(path, flag, perm)
	if errors.Is(err, fs.ErrExist) {
		return command.UsageErrorf("%s already exists; pass --force to overwrite it", path)
	}
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if force {
		// An existing file keeps its mode; a private key must not stay
		// readable by others.
		if err := f.Chmod(perm); err != nil {
			f.Close()
			return fmt.Errorf("write %s: %w", path, err)
		}
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}
