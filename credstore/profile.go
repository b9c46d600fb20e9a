package credstore

import (
	"errors"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// ErrInvalidProfile is returned (wrapped) for a profile name that no store
// accepts; see ValidateProfile.
var ErrInvalidProfile = errors.New("credstore: invalid profile name")

// MaxProfileLen is the longest profile name, in bytes.
const MaxProfileLen = 64

// Names of the store-wide lock files. A profile's lock file is
// "<profile>.lock", so these names are reserved and never profile names.
const (
	fileStoreLock    = "credentials.lock"
	keyringStoreLock = "credentials-keyring.lock"
)

// reservedProfiles are names whose lock file would be a store-wide lock
// file.
var reservedProfiles = []string{"credentials", "credentials-keyring"}

// ValidateProfile reports whether name can be a profile name. Every store
// applies the same rule, so a profile can always move between backends:
// 1 to MaxProfileLen bytes of UTF-8 without path separators ('/', '\'),
// control characters or leading/trailing spaces, not "." or "..", and not
// one of the reserved names "credentials" and "credentials-keyring". Any
// other character is fine ("prod:eu", "ünï cødé", "a.b@c").
func ValidateProfile(name string) error {
	bad := func(why string) error {
		return fmt.Errorf("%w %q: %s", ErrInvalidProfile, name, why)
	}
	switch {
	case name == "":
		return fmt.Errorf("%w: empty", ErrInvalidProfile)
	case len(name) > MaxProfileLen:
		return bad(fmt.Sprintf("longer than %d bytes", MaxProfileLen))
	case !utf8.ValidString(name):
		return bad("not valid UTF-8")
	case name == "." || name == "..":
		return bad("not a name")
	case strings.ContainsAny(name, `/\`):
		return bad("contains a path separator")
	case strings.TrimSpace(name) != name:
		return bad("leading or trailing space")
	}
	if strings.ContainsFunc(name, unicode.IsControl) {
		return bad("contains a control character")
	}
	for _, r := range reservedProfiles {
		if name == r {
			return bad("reserved")
		}
	}
	return nil
}

// windowsDevices are base names Windows maps to devices whatever the
// extension ("nul.lock" is the null device).
var windowsDevices = map[string]bool{
	"con": true, "prn": true, "aux": true, "nul": true,
	"com0": true, "com1": true, "com2": true, "com3": true, "com4": true,
	"com5": true, "com6": true, "com7": true, "com8": true, "com9": true,
	"lpt0": true, "lpt1": true, "lpt2": true, "lpt3": true, "lpt4": true,
	"lpt5": true, "lpt6": true, "lpt7": true, "lpt8": true, "lpt9": true,
}

// lockFileName is the sidecar lock file of a valid profile:
// "<profile>.lock", with every byte outside [a-z0-9._-@+=,~] — upper case
// included — percent-encoded ("my prod" → "my%20prod.lock", "Prod" →
// "%50rod.lock"). The names are portable and one-to-one even on
// case-insensitive file systems, so two profiles never share a lock file
// and no profile's lock is a store-wide one.
func lockFileName(profile string) string {
	var b strings.Builder
	for i := 0; i < len(profile); i++ {
		c := profile[i]
		if safeLockByte(c) && !(i == 0 && isWindowsDevice(profile)) {
			b.WriteByte(c)
			continue
		}
		fmt.Fprintf(&b, "%%%02X", c)
	}
	b.WriteString(".lock")
	return b.String()
}

func safeLockByte(c byte) bool {
	switch {
	case 'a' <= c && c <= 'z', '0' <= c && c <= '9':
		return true
	}
	return strings.IndexByte("._-@+=,~", c) >= 0
}

func isWindowsDevice(profile string) bool {
	stem, _, _ := strings.Cut(profile, ".")
	return windowsDevices[strings.ToLower(stem)]
}
