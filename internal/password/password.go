// Package password hashes and verifies user passwords with argon2id
// (RFC 9106) and checks the password policy.
//
// Hashes are PHC strings, "$argon2id$v=19$m=19456,t=2,p=1$<salt>$<hash>"
// with unpadded standard base64, so each hash carries its own parameters and
// old hashes keep verifying after DefaultParams change (NeedsRehash tells
// when to upgrade one at the next login).
//
// argon2id is deliberately expensive: each hash takes Params.Memory KiB and
// tens of milliseconds. A Hasher runs at most maxConcurrent of them at once
// so a burst of logins cannot exhaust memory or starve other requests;
// callers wait their turn, or give up when their context ends.
//
// VerifyDummy does the work of a real verification for a user that does
// not exist, so that the response time does not tell whether a user name is
// registered (SECURITY-CASES 30).
package password

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/crypto/argon2"
)

// Params are argon2id parameters.
type Params struct {
	Memory  uint32 // KiB
	Time    uint32 // passes over memory
	Threads uint8  // lanes
	SaltLen uint32 // bytes
	KeyLen  uint32 // bytes
}

// DefaultParams follow the OWASP Password Storage Cheat Sheet: argon2id
// with 19 MiB of memory, 2 iterations and 1 degree of parallelism.
var DefaultParams = Params{Memory: 19 * 1024, Time: 2, Threads: 1, SaltLen: 16, KeyLen: 32}

// Limits on parameters read from a stored hash, so that a corrupt or
// hostile row cannot make the server allocate gigabytes or spin for minutes.
const (
	maxMemory  = 1 << 20 // KiB = 1 GiB
	maxTime    = 100
	minSaltLen = 8
	maxSaltLen = 1024
	minKeyLen  = 16
	maxKeyLen  = 1024
)

// ErrMalformed is returned (wrapped) by Verify for a string that is not an
// argon2id PHC hash this package can check.
var ErrMalformed = errors.New("password: malformed hash")

// Hasher hashes and verifies passwords with a bound on how many argon2id
// computations run at once. It is safe for concurrent use.
type Hasher struct {
	params Params
	sem    chan struct{}
	dummy  string
	// derive is argon2.IDKey; tests replace it to observe concurrency.
	derive func(password, salt []byte, time, memory uint32, threads uint8, keyLen uint32) []byte

	// release returns argon2's buffers to the operating system once no
	// hash has run for a while; see ReleaseMemoryWhenIdle.
	releaseMu    sync.Mutex
	releaseDelay time.Duration
	releaseTimer *time.Timer
	releaseFunc  func()
}

// NewHasher returns a Hasher that makes new hashes with p and runs at most
// maxConcurrent hash computations at once (runtime.GOMAXPROCS if
// maxConcurrent < 1). Zero fields of p take the DefaultParams value. Peak
// memory is about maxConcurrent × p.Memory KiB.
func NewHasher(p Params, maxConcurrent int) *Hasher {
	if p.Memory == 0 {
		p.Memory = DefaultParams.Memory
	}
	if p.Time == 0 {
		p.Time = DefaultParams.Time
	}
	if p.Threads == 0 {
		p.Threads = DefaultParams.Threads
	}
	if p.SaltLen == 0 {
		p.SaltLen = DefaultParams.SaltLen
	}
	if p.KeyLen == 0 {
		p.KeyLen = DefaultParams.KeyLen
	}
	if maxConcurrent < 1 {
		maxConcurrent = runtime.GOMAXPROCS(0)
	}
	h := &Hasher{
		params: p,
		sem:    make(chan struct{}, maxConcurrent),
		derive: argon2.IDKey,
	}
	// The dummy hash only has to cost the same to check; its salt and
	// "hash" are random bytes, so no password matches it and building it
	// costs nothing.
	salt := make([]byte, p.SaltLen)
	key := make([]byte, p.KeyLen)
	_, _ = rand.Read(salt)
	_, _ = rand.Read(key)
	h.dummy = encode(p, salt, key)
	return h
}

// Params returns the parameters the Hasher uses for new hashes.
func (h *Hasher) Params() Params { return h.params }

// Hash returns the argon2id PHC string of password with a new random salt.
// It waits for a free slot first and returns ctx.Err() if ctx ends before
// one frees up. It does not check the policy; see CheckPolicy.
func (h *Hasher) Hash(ctx context.Context, password string) (string, error) {
	salt := make([]byte, h.params.SaltLen)
	_, _ = rand.Read(salt)
	key, err := h.compute(ctx, h.params, []byte(password), salt)
	if err != nil {
		return "", fmt.Errorf("password: hash: %w", err)
	}
	return encode(h.params, salt, key), nil
}

// Verify reports whether password matches encoded, a PHC string made by
// Hash (with any parameters). A mismatch is (false, nil); a malformed
// string is an error wrapping ErrMalformed; ctx ending while waiting for a
// slot returns ctx.Err().
func (h *Hasher) Verify(ctx context.Context, encoded, password string) (bool, error) {
	p, salt, want, err := decode(encoded)
	if err != nil {
		return false, err
	}
	got, err := h.compute(ctx, p, []byte(password), salt)
	if err != nil {
		return false, fmt.Errorf("password: verify: %w", err)
	}
	return subtle.ConstantTimeCompare(got, want) == 1, nil
}

// VerifyDummy does the work of Verify against a hash no password matches.
// Call it when the user does not exist so that the response takes as long
// as for a real user with a wrong password.
func (h *Hasher) VerifyDummy(ctx context.Context, password string) {
	_, _ = h.Verify(ctx, h.dummy, password)
}

// NeedsRehash reports whether encoded was made with parameters other than
// the Hasher's (or cannot be parsed), so the caller should store a new hash
// after the next successful login.
func (h *Hasher) NeedsRehash(encoded string) bool {
	p, _, _, err := decode(encoded)
	return err != nil || p != h.params
}

// compute runs argon2id once a semaphore slot is free.
func (h *Hasher) compute(ctx context.Context, p Params, password, salt []byte) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	select {
	case h.sem <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	defer func() {
		<-h.sem
		h.scheduleRelease()
	}()
	return h.derive(password, salt, p.Time, p.Memory, p.Threads, p.KeyLen), nil
}

// ReleaseMemoryWhenIdle makes the Hasher hand the memory of finished
// hashes back to the operating system once no hash has run for delay.
// Each argon2id computation allocates Params.Memory KiB (19 MiB by default)
// that the Go runtime would otherwise keep mapped for minutes, which would
// dominate the resident size of an idle server. Bursts of logins pay for
// this once, after the burst. A delay <= 0 turns it off.
func (h *Hasher) ReleaseMemoryWhenIdle(delay time.Duration) {
	h.releaseMu.Lock()
	defer h.releaseMu.Unlock()
	h.releaseDelay = delay
	if h.releaseFunc == nil {
		h.releaseFunc = debug.FreeOSMemory
	}
}

func (h *Hasher) scheduleRelease() {
	h.releaseMu.Lock()
	defer h.releaseMu.Unlock()
	if h.releaseDelay <= 0 {
		return
	}
	if h.releaseTimer == nil {
		h.releaseTimer = time.AfterFunc(h.releaseDelay, h.releaseIfIdle)
		return
	}
	h.releaseTimer.Reset(h.releaseDelay)
}

// releaseIfIdle frees memory unless a hash is running; a running hash
// schedules another release when it ends.
func (h *Hasher) releaseIfIdle() {
	if len(h.sem) > 0 {
		return
	}
	h.releaseMu.Lock()
	f := h.releaseFunc
	h.releaseMu.Unlock()
	f()
}

func encode(p Params, salt, key []byte) string {
	b64 := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s",
		argon2.Version, p.Memory, p.Time, p.Threads, b64.EncodeToString(salt), b64.EncodeToString(key))
}

// decode parses "$argon2id$v=19$m=M,t=T,p=P$SALT$HASH".
func decode(encoded string) (p Params, salt, key []byte, err error) {
	bad := func(format string, args ...any) (Params, []byte, []byte, error) {
		return Params{}, nil, nil, fmt.Errorf("%w: "+format, append([]any{ErrMalformed}, args...)...)
	}
	parts := strings.Split(encoded, "$")
	if len(parts) != 6 || parts[0] != "" {
		return bad("want $argon2id$v=19$m=..,t=..,p=..$salt$hash")
	}
	if parts[1] != "argon2id" {
		return bad("algorithm %q is not argon2id", parts[1])
	}
	if parts[2] != "v="+strconv.Itoa(argon2.Version) {
		return bad("unsupported version %q", parts[2])
	}
	fields := strings.Split(parts[3], ",")
	if len(fields) != 3 {
		return bad("want parameters m=..,t=..,p=..")
	}
	var vals [3]uint64
	for i, name := range []string{"m=", "t=", "p="} {
		v, ok := strings.CutPrefix(fields[i], name)
		if !ok {
			return bad("want parameter %s..", name)
		}
		n, perr := strconv.ParseUint(v, 10, 32)
		if perr != nil || (len(v) > 1 && v[0] == '0') {
			return bad("bad parameter %s%s", name, v)
		}
		vals[i] = n
	}
	if vals[2] < 1 || vals[2] > 255 {
		return bad("parallelism %d out of range", vals[2])
	}
	if vals[1] < 1 || vals[1] > maxTime {
		return bad("time %d out of range", vals[1])
	}
	if vals[0] < 8*vals[2] || vals[0] > maxMemory {
		return bad("memory %d KiB out of range", vals[0])
	}
	b64 := base64.RawStdEncoding.Strict()
	salt, serr := b64.DecodeString(parts[4])
	if serr != nil || len(salt) < minSaltLen || len(salt) > maxSaltLen {
		return bad("bad salt")
	}
	key, kerr := b64.DecodeString(parts[5])
	if kerr != nil || len(key) < minKeyLen || len(key) > maxKeyLen {
		return bad("bad hash")
	}
	p = Params{
		Memory:  uint32(vals[0]),
		Time:    uint32(vals[1]),
		Threads: uint8(vals[2]),
		SaltLen: uint32(len(salt)),
		KeyLen:  uint32(len(key)),
	}
	return p, salt, key, nil
}
