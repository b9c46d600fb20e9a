package credstore_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"os"
	"time"

	"github.com/gatehouse-auth/gatehouse/credstore"
	"github.com/gatehouse-auth/gatehouse/credstore/oskeyring"
)

// ExampleNewFile stores a login and then updates it the way a token
// refresh does: lock the profile, re-read, decide, write, unlock.
func ExampleNewFile() {
	dir, err := os.MkdirTemp("", "gatehouse-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	ctx := context.Background()

	store := credstore.NewFile(dir, credstore.WithWarn(func(msg string) {
		fmt.Fprintln(os.Stderr, "warning:", msg)
	}))

	// After a login.
	err = store.Put(ctx, "default", &credstore.Credential{
		Kind:         credstore.KindUser,
		Issuer:       "https://id.example.com",
		AccessToken:  "eyJhbGciOiJFUzI1NiJ9.old-access-token",
		RefreshToken: "rt-0001-old-refresh-token",
		Expiry:       time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC),
	})
	if err != nil {
		log.Fatal(err)
	}

	// A refresh, safe against other processes refreshing the same profile.
	unlock, err := store.Lock(ctx, "default")
	if err != nil {
		log.Fatal(err)
	}
	cred, err := store.Get(ctx, "default")
	switch {
	case errors.Is(err, credstore.ErrNotFound):
		fmt.Println("not logged in")
	case err != nil:
		log.Fatal(err)
	default:
		// Another process may have refreshed already: use what is stored
		// if it is still fresh; here it is not, so "refresh" it.
		cred.AccessToken = "eyJhbGciOiJFUzI1NiJ9.new-access-token-wxyz"
		cred.RefreshToken = "rt-0002-new-refresh-token"
		cred.Expiry = cred.Expiry.Add(time.Hour)
		if err := store.Put(ctx, "default", cred); err != nil {
			log.Fatal(err)
		}
	}
	unlock()

	profiles, _ := store.List(ctx)
	cred, _ = store.Get(ctx, "default")
	fmt.Println(profiles)
	fmt.Println(cred.Expiry.Format(time.RFC3339), credstore.Mask(cred.AccessToken))
	fmt.Println(cred) // printing a Credential masks its secrets
	// Output:
	// [default]
	// 2025-06-01T13:00:00Z ****wxyz
	// {kind:user issuer:https://id.example.com access_token:****wxyz refresh_token:****oken expiry:2025-06-01T13:00:00Z}
}

// ExampleResolve picks the store the way the CLI does: flag, then
// GATEHOUSE_AUTH_STORAGE, then the config file, then auto.
func ExampleResolve() {
	dir, err := os.MkdirTemp("", "gatehouse-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)

	store, res, err := credstore.Resolve(context.Background(), credstore.ResolveInput{
		Env:     "file", // GATEHOUSE_AUTH_STORAGE=file
		Config:  "keyring",
		Dir:     dir,
		Keyring: oskeyring.Backend{}, // the OS keyring, for the keyring and auto settings
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(store.Name(), "from", res.Source)
	// Output: file from env GATEHOUSE_AUTH_STORAGE
}

func ExampleMask() {
	fmt.Println(credstore.Mask("gh_live_4f9d2c7e1a0b"))
	fmt.Println(credstore.Mask("short"))
	// Output:
	// ****1a0b
	// ****
}
