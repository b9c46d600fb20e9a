package credstore

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
)

// FileName is the File store's data file inside its directory.
const FileName = "credentials.json"

// File is a Store that keeps every profile in one JSON document,
// dir/credentials.json:
//
//	{"version": 1, "profiles": {"default": {"kind": "user", ...}}}
//
// The file is 0600 and its directory 0700 (created if missing, tightened
// if wider). Every write goes to a temporary file created 0600 in the same
// directory, is fsynced and renamed over the old file, and the directory
// is fsynced: a crash or SIGKILL at any moment leaves the old document or
// the new one, never a partial one. A corrupt, truncated or unknown-version
// file reads as empty (ErrNotFound) with one warning through WithWarn; the
// next Put keeps a copy of it as credentials.json.unreadable and writes a
// valid document.
//
// Put and Delete rewrite the whole document, so they take the store-wide
// lock file dir/credentials.lock around their read-modify-write: two
// processes writing different profiles never lose each other's update.
// Lock takes the profile's own lock file, dir/<profile>.lock, which
// callers hold across their own read-decide-write (a token refresh).
//
// A File is safe for concurrent use by goroutines and processes.
type File struct {
	dir  string
	path string
	opts options
	warn warner
}

var _ Store = (*File)(nil)

// NewFile returns the file store in dir. Nothing is created until the
// first Put or Lock.
func NewFile(dir string, opts ...Option) *File {
	o := newOptions(opts)
	return &File{
		dir:  dir,
		path: filepath.Join(dir, FileName),
		opts: o,
		warn: warner{warn: o.warn},
	}
}

// Name returns "file".
func (f *File) Name() string { return "file" }

// Path returns the data file's path, dir/credentials.json.
func (f *File) Path() string { return f.path }

// location identifies the data behind the store (see Migrate).
func (f *File) location() string { return "file:" + f.path }

// read returns the current document; an unusable file is an empty
// document and a warning.
func (f *File) read() (*document[Credential], error) {
	doc, problem, err := readDocument[Credential](f.path)
	if err != nil {
		return nil, err
	}
	if problem != nil {
		f.warn.say(unreadableMessage(f.path, problem))
	} else {
		f.warn.clear()
	}
	return doc, nil
}

// Get returns the profile's credential, or ErrNotFound.
func (f *File) Get(ctx context.Context, profile string) (*Credential, error) {
	if err := ValidateProfile(profile); err != nil {
		return nil, err
	}
	doc, err := f.read()
	if err != nil {
		return nil, err
	}
	c, ok := doc.Profiles[profile]
	if !ok {
		return nil, ErrNotFound
	}
	return &c, nil
}

// Put stores c for the profile, replacing any previous credential.
func (f *File) Put(ctx context.Context, profile string, c *Credential) error {
	if err := ValidateProfile(profile); err != nil {
		return err
	}
	if c == nil {
		return errors.New("credstore: put: nil credential")
	}
	return f.update(ctx, func(doc *document[Credential]) bool {
		doc.Profiles[profile] = *c
		return true
	})
}

// Delete removes the profile's credential; a missing one is not an error.
func (f *File) Delete(ctx context.Context, profile string) error {
	if err := ValidateProfile(profile); err != nil {
		return err
	}
	if !dirExists(f.dir) {
		return nil
	}
	return f.update(ctx, func(doc *document[Credential]) bool {
		if _, ok := doc.Profiles[profile]; !ok {
			return false
		}
		delete(doc.Profiles, profile)
		return true
	})
}

// update runs change on the current document under the store-wide lock
// and writes the result if change reports a change.
func (f *File) update(ctx context.Context, change func(*document[Credential]) bool) error {
	if err := ensureDir(f.dir, f.opts.warn); err != nil {
		return err
	}
	unlock, err := lockFile(ctx, filepath.Join(f.dir, fileStoreLock))
	if err != nil {
		return err
	}
	defer unlock()
	removeStaleTemps(f.dir, FileName)

	doc, problem, err := readDocument[Credential](f.path)
	if err != nil {
		return err
	}
	if !change(doc) {
		return nil
	}
	if problem != nil {
		msg := fmt.Sprintf("credstore: replacing unreadable %s (%v)", f.path, problem)
		if kept := keepUnreadable(f.path); kept != "" {
			msg += "; the old file is kept as " + kept
		}
		f.opts.warn(msg)
	}
	data, err := doc.encode()
	if err != nil {
		return err
	}
	if err := writeFileAtomic(f.dir, FileName, data); err != nil {
		return err
	}
	f.warn.clear()
	return nil
}

// List returns the profiles that have a credential, sorted.
func (f *File) List(ctx context.Context) ([]string, error) {
	doc, err := f.read()
	if err != nil {
		return nil, err
	}
	return doc.names(), nil
}

// Lock takes the profile's lock file, dir/<profile>.lock, waiting until
// ctx ends.
func (f *File) Lock(ctx context.Context, profile string) (unlock func(), err error) {
	if err := ValidateProfile(profile); err != nil {
		return nil, err
	}
	if err := ensureDir(f.dir, f.opts.warn); err != nil {
		return nil, err
	}
	return lockFile(ctx, filepath.Join(f.dir, lockFileName(profile)))
}
