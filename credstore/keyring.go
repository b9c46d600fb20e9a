package credstore

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
)

// KeyringFileName is the Keyring store's file of encrypted credentials.
const KeyringFileName = "credentials-keyring.json"

// DefaultService is the keyring service name Resolve uses when none is
// given.
const DefaultService = "gatehouse"

// ErrKeyringTimeout is returned (wrapped) when a keyring call does not
// answer within the store's timeout.
var ErrKeyringTimeout = errors.New("credstore: keyring timed out")

// Keyring is a Store that keeps secrets in a keyring: the OS keyring
// (macOS Keychain, Windows Credential Manager, the freedesktop Secret
// Service on Linux) when its backend is oskeyring.Backend.
//
// macOS and Windows limit the size of a keyring item, and a credential
// with an ID token and a refresh token can exceed it, so the keyring holds
// only a random 256-bit data key per profile (service, user = profile
// name). The credential itself is encrypted with that key (AES-256-GCM,
// bound to the service and profile name) in dir/credentials-keyring.json,
// a versioned JSON document written with the same atomic-write, locking
// and corrupt-file rules as File. Reading that file alone reveals nothing;
// List and a Get of a missing profile do not touch the keyring.
//
// Every keyring call runs in its own goroutine and gives up after the
// store's timeout (DefaultKeyringTimeout, see WithTimeout) with
// ErrKeyringTimeout, or when ctx ends; a call that hangs is abandoned,
// not waited for. A credential whose data key is missing from the keyring,
// or that does not decrypt, reads as ErrNotFound with a warning.
//
// A Keyring is safe for concurrent use by goroutines and processes.
type Keyring struct {
	service string
	dir     string
	path    string
	opts    options
	warn    warner
	backend KeyringBackend
}

var _ Store = (*Keyring)(nil)

// NewKeyring returns the keyring store on backend for service ("" means
// DefaultService) with its encrypted data file in dir. It does not touch
// the keyring; see Probe. For the OS keyring, backend is
// oskeyring.Backend{}:
//
//	kr := credstore.NewKeyring(oskeyring.Backend{}, "mycli", dir)
//
// NewKeyring panics if backend is nil.
func NewKeyring(backend KeyringBackend, service, dir string, opts ...Option) *Keyring {
	if backend == nil {
		panic("credstore: NewKeyring: nil backend (oskeyring.Backend{} is the OS keyring)")
	}
	if service == "" {
		service = DefaultService
	}
	o := newOptions(opts)
	return &Keyring{
		service: service,
		dir:     dir,
		path:    filepath.Join(dir, KeyringFileName),
		opts:    o,
		warn:    warner{warn: o.warn},
		backend: backend,
	}
}

// Name returns "keyring".
func (k *Keyring) Name() string { return "keyring" }

// Service returns the keyring service name the data keys are stored under.
func (k *Keyring) Service() string { return k.service }

// Path returns the encrypted data file's path, dir/credentials-keyring.json.
func (k *Keyring) Path() string { return k.path }

// location identifies the data behind the store (see Migrate).
func (k *Keyring) location() string { return "keyring:" + k.service + ":" + k.path }

// Probe checks that the keyring works — sets, reads back and deletes a
// random probe item — within the store's timeout for each call.
func (k *Keyring) Probe(ctx context.Context) error {
	var id [8]byte
	_, _ = rand.Read(id[:])
	user := "gatehouse-probe-" + hex.EncodeToString(id[:])
	_, _ = rand.Read(id[:])
	want := hex.EncodeToString(id[:])

	if err := k.set(ctx, user, want); err != nil {
		return fmt.Errorf(probePrefix+"%w", err)
	}
	got, getErr := k.get(ctx, user)
	delErr := k.del(ctx, user)
	switch {
	case getErr != nil:
		return fmt.Errorf(probePrefix+"%w", getErr)
	case got != want:
		return errors.New(probePrefix + "read back a different value than was stored")
	case delErr != nil:
		return fmt.Errorf(probePrefix+"%w", delErr)
	}
	return nil
}

// probePrefix starts every Probe error.
const probePrefix = "credstore: keyring probe: "

// sealed is one profile's entry in the data file.
type sealed struct {
	Nonce      []byte `json:"nonce"`
	Ciphertext []byte `json:"ciphertext"`
}

// read returns the current document; an unusable file is an empty
// document and a warning.
func (k *Keyring) read() (*document[sealed], error) {
	doc, problem, err := readDocument[sealed](k.path)
	if err != nil {
		return nil, err
	}
	if problem != nil {
		k.warn.say(unreadableMessage(k.path, problem))
	}
	return doc, nil
}

// Get returns the profile's credential, or ErrNotFound.
func (k *Keyring) Get(ctx context.Context, profile string) (*Credential, error) {
	if err := ValidateProfile(profile); err != nil {
		return nil, err
	}
	doc, err := k.read()
	if err != nil {
		return nil, err
	}
	box, ok := doc.Profiles[profile]
	if !ok {
		return nil, ErrNotFound
	}
	encoded, err := k.get(ctx, profile)
	if errors.Is(err, ErrNotFound) {
		k.warn.say(fmt.Sprintf("credstore: the keyring has no key for profile %q (service %q), so its stored credential cannot be read; log in again", profile, k.service))
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("credstore: get %q: %w", profile, err)
	}
	key, ok := decodeDataKey(encoded)
	if !ok {
		k.warn.say(fmt.Sprintf("credstore: the keyring item for profile %q (service %q) is not a data key; log in again", profile, k.service))
		return nil, ErrNotFound
	}
	plain, err := open(key, box, k.additionalData(profile))
	if err != nil {
		k.warn.say(fmt.Sprintf("credstore: the stored credential of profile %q does not decrypt with its keyring key (%v); log in again", profile, err))
		return nil, ErrNotFound
	}
	var c Credential
	if err := json.Unmarshal(plain, &c); err != nil {
		k.warn.say(fmt.Sprintf("credstore: the stored credential of profile %q is malformed (%v); log in again", profile, err))
		return nil, ErrNotFound
	}
	k.warn.clear()
	return &c, nil
}

// Put stores c for the profile, replacing any previous credential. The
// profile's data key is reused if the keyring has one, else created.
func (k *Keyring) Put(ctx context.Context, profile string, c *Credential) error {
	if err := ValidateProfile(profile); err != nil {
		return err
	}
	if c == nil {
		return errors.New("credstore: put: nil credential")
	}
	plain, err := json.Marshal(c)
	if err != nil {
		return fmt.Errorf("credstore: put %q: %w", profile, err)
	}
	if err := ensureDir(k.dir, k.opts.warn); err != nil {
		return err
	}
	// The data key is fetched or made under the store-wide lock, so two
	// writers of one profile cannot each set a key and keep the other's
	// ciphertext.
	unlock, err := lockFile(ctx, filepath.Join(k.dir, keyringStoreLock))
	if err != nil {
		return err
	}
	defer unlock()
	removeStaleTemps(k.dir, KeyringFileName)

	key, err := k.dataKey(ctx, profile)
	if err != nil {
		return err
	}
	box, err := seal(key, plain, k.additionalData(profile))
	if err != nil {
		return fmt.Errorf("credstore: put %q: %w", profile, err)
	}
	doc, problem, err := readDocument[sealed](k.path)
	if err != nil {
		return err
	}
	if problem != nil {
		msg := fmt.Sprintf("credstore: replacing unreadable %s (%v)", k.path, problem)
		if kept := keepUnreadable(k.path); kept != "" {
			msg += "; the old file is kept as " + kept
		}
		k.opts.warn(msg)
	}
	doc.Profiles[profile] = box
	data, err := doc.encode()
	if err != nil {
		return err
	}
	if err := writeFileAtomic(k.dir, KeyringFileName, data); err != nil {
		return err
	}
	k.warn.clear()
	return nil
}

// dataKey returns the profile's data key from the keyring, making and
// storing a new one if there is none (or it is not a key).
func (k *Keyring) dataKey(ctx context.Context, profile string) ([]byte, error) {
	encoded, err := k.get(ctx, profile)
	switch {
	case err == nil:
		if key, ok := decodeDataKey(encoded); ok {
			return key, nil
		}
	case !errors.Is(err, ErrNotFound):
		return nil, fmt.Errorf("credstore: put %q: %w", profile, err)
	}
	key := make([]byte, dataKeySize)
	_, _ = rand.Read(key)
	if err := k.set(ctx, profile, base64.StdEncoding.EncodeToString(key)); err != nil {
		return nil, fmt.Errorf("credstore: put %q: %w", profile, err)
	}
	return key, nil
}

// Delete removes the profile's credential and its keyring item; a missing
// one is not an error.
func (k *Keyring) Delete(ctx context.Context, profile string) error {
	if err := ValidateProfile(profile); err != nil {
		return err
	}
	if dirExists(k.dir) {
		if err := k.deleteEntry(ctx, profile); err != nil {
			return err
		}
	}
	// The file no longer names the key, so a failure here leaves an
	// orphan item, not a readable credential; still report it.
	if err := k.del(ctx, profile); err != nil && !errors.Is(err, ErrNotFound) {
		return fmt.Errorf("credstore: delete %q: %w", profile, err)
	}
	return nil
}

func (k *Keyring) deleteEntry(ctx context.Context, profile string) error {
	if err := ensureDir(k.dir, k.opts.warn); err != nil {
		return err
	}
	unlock, err := lockFile(ctx, filepath.Join(k.dir, keyringStoreLock))
	if err != nil {
		return err
	}
	defer unlock()
	removeStaleTemps(k.dir, KeyringFileName)
	doc, _, err := readDocument[sealed](k.path)
	if err != nil {
		return err
	}
	if _, ok := doc.Profiles[profile]; !ok {
		return nil
	}
	delete(doc.Profiles, profile)
	data, err := doc.encode()
	if err != nil {
		return err
	}
	return writeFileAtomic(k.dir, KeyringFileName, data)
}

// List returns the profiles that have a credential, sorted. It reads only
// the data file.
func (k *Keyring) List(ctx context.Context) ([]string, error) {
	doc, err := k.read()
	if err != nil {
		return nil, err
	}
	return doc.names(), nil
}

// Lock takes the profile's lock file, dir/<profile>.lock — the same file
// File uses, so the lock means the same whichever backend holds the
// credential.
func (k *Keyring) Lock(ctx context.Context, profile string) (unlock func(), err error) {
	if err := ValidateProfile(profile); err != nil {
		return nil, err
	}
	if err := ensureDir(k.dir, k.opts.warn); err != nil {
		return nil, err
	}
	return lockFile(ctx, filepath.Join(k.dir, lockFileName(profile)))
}

// additionalData binds a ciphertext to its service and profile, so an
// entry copied to another profile does not decrypt.
func (k *Keyring) additionalData(profile string) []byte {
	return []byte("gatehouse credstore v1\x00" + k.service + "\x00" + profile)
}
