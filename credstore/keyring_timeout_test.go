package credstore

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/clock/clocktest"
)

// memoryBackend is a goroutine-safe keyring for tests inside the package.
type memoryBackend struct {
	mu    sync.Mutex
	items map[string]string
}

func (m *memoryBackend) Set(service, user, secret string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.items == nil {
		m.items = map[string]string{}
	}
	m.items[service+"\x00"+user] = secret
	return nil
}

func (m *memoryBackend) Get(service, user string) (string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	s, ok := m.items[service+"\x00"+user]
	if !ok {
		return "", ErrNotFound
	}
	return s, nil
}

func (m *memoryBackend) Delete(service, user string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.items, service+"\x00"+user)
	return nil
}

// hangingBackend never answers until released, like a Secret Service whose
// D-Bus peer is stuck or an unlock prompt nobody sees.
type hangingBackend struct {
	entered chan struct{}
	release chan struct{}
}

func newHangingBackend(t *testing.T) *hangingBackend {
	h := &hangingBackend{entered: make(chan struct{}, 16), release: make(chan struct{})}
	// The hung call holds the process-wide keyring mutex; let it go so
	// later tests can use the keyring.
	t.Cleanup(func() { close(h.release) })
	return h
}

func (h *hangingBackend) hang() error {
	h.entered <- struct{}{}
	<-h.release
	return errors.New("released")
}

func (h *hangingBackend) Set(string, string, string) error   { return h.hang() }
func (h *hangingBackend) Get(string, string) (string, error) { return "", h.hang() }
func (h *hangingBackend) Delete(string, string) error        { return h.hang() }

func TestKeyringTimeout(t *testing.T) {
	ctx := t.Context()
	clk := clocktest.New(time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC))
	k := NewKeyring(&memoryBackend{}, "svc", t.TempDir(), WithClock(clk), WithTimeout(3*time.Second))
	if err := k.Put(ctx, "p", &Credential{Kind: KindUser, AccessToken: "a"}); err != nil {
		t.Fatal(err)
	}
	hang := newHangingBackend(t)
	k.backend = hang

	done := make(chan error, 1)
	go func() {
		_, err := k.Get(ctx, "p")
		done <- err
	}()
	<-hang.entered // the call is in the keyring; its timer is running
	clk.Advance(2999 * time.Millisecond)
	select {
	case err := <-done:
		t.Fatalf("Get returned %v before the timeout", err)
	case <-time.After(50 * time.Millisecond):
	}
	clk.Advance(time.Millisecond)
	select {
	case err := <-done:
		if !errors.Is(err, ErrKeyringTimeout) {
			t.Errorf("Get on a hung keyring: error = %v, want ErrKeyringTimeout", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Get did not return after the timeout")
	}
}

func TestKeyringCallHonoursContext(t *testing.T) {
	k := NewKeyring(newHangingBackend(t), "svc", t.TempDir())
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- k.Probe(ctx) }()
	cancel()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("Probe after cancel: error = %v, want context.Canceled", err)
		}
	case <-time.After(2 * time.Second):
		t.Fatal("Probe did not return after its context was cancelled")
	}
}

func TestKeyringProbeTimeout(t *testing.T) {
	k := NewKeyring(newHangingBackend(t), "svc", t.TempDir(), WithTimeout(20*time.Millisecond))
	if err := k.Probe(t.Context()); !errors.Is(err, ErrKeyringTimeout) {
		t.Errorf("Probe on a hung keyring: error = %v, want ErrKeyringTimeout", err)
	}
}
