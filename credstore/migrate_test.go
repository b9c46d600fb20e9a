package credstore_test

import (
	"context"
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/gatehouse-auth/gatehouse/credstore"
)

func TestMigrateFileToKeyring(t *testing.T) {
	ctx := t.Context()
	dir := privateDir(t)
	from := credstore.NewFile(dir)
	to := newMockKeyring(t)
	want := map[string]*credstore.Credential{}
	for _, p := range []string{"prod", "dev", "ci"} {
		want[p] = sampleCredential(p)
		if err := from.Put(ctx, p, want[p]); err != nil {
			t.Fatal(err)
		}
	}
	moved, err := credstore.Migrate(ctx, from, to)
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff([]string{"ci", "dev", "prod"}, moved); d != "" {
		t.Errorf("moved (-want +got):\n%s", d)
	}
	for p, c := range want {
		got, err := to.Get(ctx, p)
		if err != nil {
			t.Fatalf("Get %s from the new store: %v", p, err)
		}
		if d := cmp.Diff(c, got); d != "" {
			t.Errorf("%s (-want +got):\n%s", p, d)
		}
	}
	if names, err := from.List(ctx); err != nil || len(names) != 0 {
		t.Errorf("old store still lists %q (%v)", names, err)
	}
}

// failingStore fails to Put one profile.
type failingStore struct {
	*credstore.Memory
	failOn string
}

var errDiskFull = errors.New("disk full")

func (f failingStore) Put(ctx context.Context, profile string, c *credstore.Credential) error {
	if profile == f.failOn {
		return errDiskFull
	}
	return f.Memory.Put(ctx, profile, c)
}

func TestMigrateFailureKeepsOldStore(t *testing.T) {
	ctx := t.Context()
	from := credstore.NewFile(privateDir(t))
	for _, p := range []string{"a", "b", "c"} {
		if err := from.Put(ctx, p, sampleCredential(p)); err != nil {
			t.Fatal(err)
		}
	}
	to := failingStore{Memory: credstore.NewMemory(), failOn: "b"}
	moved, err := credstore.Migrate(ctx, from, to)
	if !errors.Is(err, errDiskFull) {
		t.Fatalf("Migrate = %q, %v; want the Put error", moved, err)
	}
	if names, _ := from.List(ctx); len(names) != 3 {
		t.Errorf("old store lists %q after a failed migration, want all three", names)
	}
	if names, _ := to.List(ctx); len(names) != 0 {
		t.Errorf("new store keeps %q after a failed migration, want nothing", names)
	}
	// The locks were released: the profiles can be locked again.
	unlock, err := from.Lock(ctx, "a")
	if err != nil {
		t.Fatal(err)
	}
	unlock()
}

func TestMigrateOntoItself(t *testing.T) {
	ctx := t.Context()
	dir := privateDir(t)
	a, b := credstore.NewFile(dir), credstore.NewFile(dir)
	if err := a.Put(ctx, "p", sampleCredential("p")); err != nil {
		t.Fatal(err)
	}
	for _, to := range []credstore.Store{a, b} {
		if moved, err := credstore.Migrate(ctx, a, to); err != nil || len(moved) != 0 {
			t.Errorf("Migrate onto the same data = %q, %v; want nothing moved", moved, err)
		}
	}
	if _, err := a.Get(ctx, "p"); err != nil {
		t.Errorf("Get after migrating onto itself: %v", err)
	}
	m := failingStore{Memory: credstore.NewMemory()}
	if err := m.Put(ctx, "x", sampleCredential("x")); err != nil {
		t.Fatal(err)
	}
	if moved, err := credstore.Migrate(ctx, m, m); err != nil || len(moved) != 0 {
		t.Errorf("Migrate of a struct store onto itself = %q, %v", moved, err)
	}
}
