package password

import (
	"context"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// fast keeps argon2id cheap in tests.
var fast = Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}

func TestHashVerifyRoundTrip(t *testing.T) {
	ctx := context.Background()
	h := NewHasher(fast, 2)
	enc, err := h.Hash(ctx, "correct horse")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(enc, "$argon2id$v=19$m=64,t=1,p=1$") {
		t.Errorf("Hash = %q, want an argon2id PHC string with the hasher's parameters", enc)
	}
	ok, err := h.Verify(ctx, enc, "correct horse")
	if err != nil || !ok {
		t.Errorf("Verify(right password) = %v, %v; want true", ok, err)
	}
	for _, wrong := range []string{"correct horsE", "correct horse ", "", "correct hors"} {
		ok, err := h.Verify(ctx, enc, wrong)
		if err != nil || ok {
			t.Errorf("Verify(%q) = %v, %v; want false, nil", wrong, ok, err)
		}
	}
	enc2, _ := h.Hash(ctx, "correct horse")
	if enc2 == enc {
		t.Error("two hashes of the same password are equal; salt not random")
	}
}

// TestVerifyOtherParams checks that a hash keeps its own parameters: a
// Hasher with different defaults still verifies it.
func TestVerifyOtherParams(t *testing.T) {
	ctx := context.Background()
	old := NewHasher(Params{Memory: 32, Time: 2, Threads: 2, SaltLen: 8, KeyLen: 16}, 1)
	enc, err := old.Hash(ctx, "pa55word!")
	if err != nil {
		t.Fatal(err)
	}
	h := NewHasher(fast, 1)
	if ok, err := h.Verify(ctx, enc, "pa55word!"); err != nil || !ok {
		t.Errorf("Verify = %v, %v; want true", ok, err)
	}
	if !h.NeedsRehash(enc) {
		t.Error("NeedsRehash(hash with other params) = false")
	}
	enc2, _ := h.Hash(ctx, "x")
	if h.NeedsRehash(enc2) {
		t.Error("NeedsRehash(own hash) = true")
	}
}

// TestReferenceVector checks interoperability with the argon2 reference
// implementation (phc-winner-argon2 src/test.c: argon2id, t=2, m=2^16, p=1,
// "password", "somesalt").
func TestReferenceVector(t *testing.T) {
	if testing.Short() {
		t.Skip("64 MiB hash")
	}
	const enc = "$argon2id$v=19$m=65536,t=2,p=1$c29tZXNhbHQ$CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRPPc"
	h := NewHasher(fast, 1)
	ok, err := h.Verify(context.Background(), enc, "password")
	if err != nil || !ok {
		t.Errorf("Verify(reference vector) = %v, %v; want true", ok, err)
	}
}

func TestVerifyMalformed(t *testing.T) {
	ctx := context.Background()
	h := NewHasher(fast, 1)
	good, _ := h.Hash(ctx, "password1")
	parts := strings.Split(good, "$")
	salt, hash := parts[4], parts[5]
	for name, enc := range map[string]string{
		"empty":             "",
		"bcrypt":            "$2a$10$N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhWy",
		"argon2i":           "$argon2i$v=19$m=64,t=1,p=1$" + salt + "$" + hash,
		"old version":       "$argon2id$v=16$m=64,t=1,p=1$" + salt + "$" + hash,
		"no version":        "$argon2id$m=64,t=1,p=1$" + salt + "$" + hash,
		"no leading $":      strings.TrimPrefix(good, "$"),
		"extra field":       good + "$x",
		"missing hash":      "$argon2id$v=19$m=64,t=1,p=1$" + salt,
		"params order":      "$argon2id$v=19$t=1,m=64,p=1$" + salt + "$" + hash,
		"params missing":    "$argon2id$v=19$m=64,t=1$" + salt + "$" + hash,
		"param not number":  "$argon2id$v=19$m=x,t=1,p=1$" + salt + "$" + hash,
		"param negative":    "$argon2id$v=19$m=64,t=-1,p=1$" + salt + "$" + hash,
		"param leading 0":   "$argon2id$v=19$m=064,t=1,p=1$" + salt + "$" + hash,
		"zero time":         "$argon2id$v=19$m=64,t=0,p=1$" + salt + "$" + hash,
		"zero threads":      "$argon2id$v=19$m=64,t=1,p=0$" + salt + "$" + hash,
		"threads > 255":     "$argon2id$v=19$m=4096,t=1,p=256$" + salt + "$" + hash,
		"memory < 8p":       "$argon2id$v=19$m=8,t=1,p=2$" + salt + "$" + hash,
		"huge memory":       "$argon2id$v=19$m=4294967295,t=1,p=1$" + salt + "$" + hash,
		"huge time":         "$argon2id$v=19$m=64,t=100000,p=1$" + salt + "$" + hash,
		"salt not base64":   "$argon2id$v=19$m=64,t=1,p=1$!!!!$" + hash,
		"salt padded":       "$argon2id$v=19$m=64,t=1,p=1$" + salt + "==$" + hash,
		"short salt":        "$argon2id$v=19$m=64,t=1,p=1$YWJj$" + hash,
		"hash not base64":   "$argon2id$v=19$m=64,t=1,p=1$" + salt + "$" + hash[:len(hash)-1] + "*",
		"short hash":        "$argon2id$v=19$m=64,t=1,p=1$" + salt + "$YWJj",
		"empty hash":        "$argon2id$v=19$m=64,t=1,p=1$" + salt + "$",
		"url base64 salt":   "$argon2id$v=19$m=64,t=1,p=1$" + "-_-_-_-_-_-_-_-_-_-_-w" + "$" + hash,
		"whitespace inside": "$argon2id$v=19$m=64, t=1,p=1$" + salt + "$" + hash,
	} {
		ok, err := h.Verify(ctx, enc, "password1")
		if ok || !errors.Is(err, ErrMalformed) {
			t.Errorf("%s: Verify(%q) = %v, %v; want ErrMalformed", name, enc, ok, err)
		}
	}
}

// observe replaces the key derivation with one that counts calls in
// flight and blocks until release is closed.
type observer struct {
	inFlight, maxInFlight, calls atomic.Int32
	entered                      chan Params
	release                      chan struct{}
}

func observe(h *Hasher) *observer {
	o := &observer{entered: make(chan Params, 100), release: make(chan struct{})}
	real := h.derive
	h.derive = func(pw, salt []byte, tm, mem uint32, th uint8, kl uint32) []byte {
		n := o.inFlight.Add(1)
		for {
			m := o.maxInFlight.Load()
			if n <= m || o.maxInFlight.CompareAndSwap(m, n) {
				break
			}
		}
		o.calls.Add(1)
		o.entered <- Params{Memory: mem, Time: tm, Threads: th, SaltLen: uint32(len(salt)), KeyLen: kl}
		<-o.release
		defer o.inFlight.Add(-1)
		return real(pw, salt, tm, mem, th, kl)
	}
	return o
}

func TestConcurrencyBound(t *testing.T) {
	const bound, callers = 2, 6
	h := NewHasher(fast, bound)
	o := observe(h)
	enc, _ := NewHasher(fast, 1).Hash(context.Background(), "password1")

	var wg sync.WaitGroup
	for i := range callers {
		wg.Go(func() {
			var err error
			switch i % 3 {
			case 0:
				_, err = h.Hash(context.Background(), "password1")
			case 1:
				_, err = h.Verify(context.Background(), enc, "password1")
			default:
				h.VerifyDummy(context.Background(), "password1")
			}
			if err != nil {
				t.Error(err)
			}
		})
	}
	for range bound {
		<-o.entered
	}
	// Give the other callers time to get past the semaphore if it were
	// missing; with it they stay blocked.
	time.Sleep(50 * time.Millisecond)
	if n := o.inFlight.Load(); n != bound {
		t.Errorf("%d hashes in flight, want %d", n, bound)
	}
	close(o.release)
	wg.Wait()
	if m := o.maxInFlight.Load(); m != bound {
		t.Errorf("at most %d hashes ran at once, want %d", m, bound)
	}
	if c := o.calls.Load(); c != callers {
		t.Errorf("%d hashes ran, want %d", c, callers)
	}
}

func TestWaitRespectsContext(t *testing.T) {
	h := NewHasher(fast, 1)
	o := observe(h)
	done := make(chan struct{})
	go func() {
		defer close(done)
		if _, err := h.Hash(context.Background(), "password1"); err != nil {
			t.Error(err)
		}
	}()
	<-o.entered // the only slot is taken
	released := false
	release := func() {
		if !released {
			released = true
			close(o.release)
		}
	}
	defer release()

	// waitFor runs f, which must give up waiting for the slot, and fails
	// the test if f gets to hash instead.
	waitFor := func(f func() error) error {
		errc := make(chan error, 1)
		go func() { errc <- f() }()
		select {
		case err := <-errc:
			return err
		case <-o.entered:
			release()
			t.Fatal("a hash ran although the only slot was taken")
			return nil
		}
	}

	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(20*time.Millisecond, cancel) // cancel while Hash waits
	err := waitFor(func() error { _, err := h.Hash(ctx, "password2"); return err })
	if !errors.Is(err, context.Canceled) {
		t.Errorf("Hash cancelled while waiting = %v, want context.Canceled", err)
	}

	dctx, dcancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer dcancel()
	err = waitFor(func() error { _, err := h.Verify(dctx, h.dummy, "x"); return err })
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Verify past deadline while waiting = %v, want context.DeadlineExceeded", err)
	}

	release()
	<-done
	if c := o.calls.Load(); c != 1 {
		t.Errorf("%d hashes ran, want 1 (cancelled callers must not hash)", c)
	}

	// A context that is already done never takes a free slot.
	cancelled, cancel2 := context.WithCancel(context.Background())
	cancel2()
	if _, err := h.Hash(cancelled, "x"); !errors.Is(err, context.Canceled) {
		t.Errorf("Hash with done context = %v, want context.Canceled", err)
	}
}

// TestVerifyDummySameWork checks that an unknown user costs one argon2id
// computation with the hasher's parameters, like a real user's login.
func TestVerifyDummySameWork(t *testing.T) {
	h := NewHasher(fast, 1)
	o := observe(h)
	close(o.release)
	h.VerifyDummy(context.Background(), "password1")
	if c := o.calls.Load(); c != 1 {
		t.Fatalf("VerifyDummy ran %d hashes, want 1", c)
	}
	if got := <-o.entered; got != h.Params() {
		t.Errorf("VerifyDummy hashed with %+v, want %+v", got, h.Params())
	}
	if ok, err := h.Verify(context.Background(), h.dummy, ""); ok || err != nil {
		t.Errorf("Verify(dummy, \"\") = %v, %v; want false, nil", ok, err)
	}
}

func TestNewHasherDefaults(t *testing.T) {
	h := NewHasher(Params{}, 0)
	if h.Params() != DefaultParams {
		t.Errorf("Params() = %+v, want DefaultParams %+v", h.Params(), DefaultParams)
	}
	if cap(h.sem) < 1 {
		t.Errorf("semaphore size %d", cap(h.sem))
	}
}

func TestCheckPolicy(t *testing.T) {
	for _, tc := range []struct {
		pw   string
		want error
	}{
		{"", ErrTooShort},
		{"1234567", ErrTooShort},
		{"12345678", nil},
		{"ääääääää", nil},        // 8 characters, 16 bytes
		{"äääääää", ErrTooShort}, // 7 characters, 14 bytes
		{strings.Repeat("a", MaxBytes), nil},
		{strings.Repeat("a", MaxBytes+1), ErrTooLong},
		{strings.Repeat("ä", MaxBytes/2+1), ErrTooLong},
	} {
		if err := CheckPolicy(tc.pw); !errors.Is(err, tc.want) || (tc.want == nil) != (err == nil) {
			t.Errorf("CheckPolicy(%d bytes) = %v, want %v", len(tc.pw), err, tc.want)
		}
	}
}

func TestReleaseMemoryWhenIdle(t *testing.T) {
	h := NewHasher(fast, 2)
	released := make(chan struct{}, 10)
	h.ReleaseMemoryWhenIdle(20 * time.Millisecond)
	h.releaseMu.Lock()
	h.releaseFunc = func() { released <- struct{}{} }
	h.releaseMu.Unlock()
	for range 3 {
		if _, err := h.Hash(context.Background(), "correct horse battery"); err != nil {
			t.Fatal(err)
		}
	}
	select {
	case <-released:
	case <-time.After(5 * time.Second):
		t.Fatal("memory was not released after the hashes finished")
	}
	// Back-to-back hashes are one burst: one release, not three.
	time.Sleep(100 * time.Millisecond)
	if n := len(released); n != 0 {
		t.Errorf("%d extra releases after one burst", n)
	}
}

func TestNoReleaseUnlessAsked(t *testing.T) {
	h := NewHasher(fast, 1)
	if _, err := h.Hash(context.Background(), "correct horse battery"); err != nil {
		t.Fatal(err)
	}
	h.releaseMu.Lock()
	defer h.releaseMu.Unlock()
	if h.releaseTimer != nil {
		t.Fatal("a release was scheduled without ReleaseMemoryWhenIdle")
	}
}
