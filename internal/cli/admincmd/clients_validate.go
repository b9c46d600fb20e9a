package admincmd

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"regexp"
	"strings"
	"sync"

	"github.com/go-jose/go-jose/v4"

	"github.com/gatehouse-auth/gatehouse/internal/admin"
	"github.com/gatehouse-auth/gatehouse/internal/cli/adminbackend"
	"github.com/gatehouse-auth/gatehouse/internal/cli/command"
	"github.com/gatehouse-auth/gatehouse/internal/clientreg"
)

// checkRoles removes duplicates and rejects names that cannot be roles.
// Whether a custom role exists is checked on the database
// (checkRolesExist) or by the admin API.
func checkRoles(in []string) ([]string, error) {
	out, err := admin.NormalizeRoles(in)
	return out, adminbackend.CommandError(err, "")
}

// checkScopes splits space-separated values and checks each scope token
// (clientreg.CheckScopes, shared with the admin API).
func checkScopes(in []string) ([]string, error) {
	out, err := clientreg.CheckScopes(in)
	if errors.Is(err, clientreg.ErrScopeComma) {
		return nil, command.UsageErrorf("%v; repeat --scope for each scope", err)
	}
	if err != nil {
		return nil, command.UsageErrorf("%v", err)
	}
	return out, nil
}

// The regexp is compiled on first use, not at package initialisation,
// which every gatehouse process (client commands included) would pay.
var nonSlugRE = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`[^a-z0-9]+`) })

// slugClientID derives a client ID from a client name: lower case, runs of
// other characters replaced by "-".
func slugClientID(name string) (string, error) {
	id := strings.Trim(nonSlugRE().ReplaceAllString(strings.ToLower(name), "-"), "-")
	if len(id) > 64 {
		id = strings.TrimRight(id[:64], "-")
	}
	if id == "" {
		return "", command.UsageErrorf("cannot derive a client ID from the name %q; pass one with --id", name)
	}
	return id, nil
}

// readJWKS reads a JSON Web Key Set of public keys for private_key_jwt and
// returns it compacted.
func readJWKS(path string) (string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return "", command.UsageErrorf("--jwks-file: %w", err)
	}
	var set jose.JSONWebKeySet
	if err := json.Unmarshal(data, &set); err != nil {
		return "", command.UsageErrorf("--jwks-file %s: not a JSON Web Key Set: %w", path, err)
	}
	if len(set.Keys) == 0 {
		return "", command.UsageErrorf("--jwks-file %s: the key set has no keys", path)
	}
	for i, k := range set.Keys {
		if !k.Valid() {
			return "", command.UsageErrorf("--jwks-file %s: key %d is not valid", path, i)
		}
		if !k.IsPublic() {
			return "", command.UsageErrorf("--jwks-file %s: key %d is a private key; register only public keys", path, i)
		}
	}
	var buf bytes.Buffer
	if err := json.Compact(&buf, data); err != nil {
		return "", fmt.Errorf("--jwks-file %s: %w", path, err)
	}
	return buf.String(), nil
}
