package secret

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
)

// maxKeyFileSize bounds how much of a key file is read; a key is 64 bytes.
const maxKeyFileSize = 4096

// LoadOrCreateKeyFile reads the server secret key from path (text in a form
// ParseKey accepts, surrounding white space ignored). If the file does not
// exist it generates a key, writes it as hex with mode 0600 (creating the
// parent directory with mode 0700) and reports created = true.
//
// The new file appears atomically: the key is written and synced to a
// temporary file in the same directory, which is then linked into place.
// Linking fails if the file exists, so two processes starting at once agree
// on one key; the loser reads the winner's. A crash never leaves a partial
// key file.
//
// On Unix a key file that group or others may read or write (any bit of
// mode 0077) is refused; the error says how to fix it.
func LoadOrCreateKeyFile(path string) (key *Key, created bool, err error) {
	key, err = loadKeyFile(path)
	if err == nil {
		return key, false, nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return nil, false, err
	}
	key, created, err = createKeyFile(path)
	if err != nil {
		return nil, false, err
	}
	return key, created, nil
}

func loadKeyFile(path string) (*Key, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("secret: open key file: %w", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("secret: stat key file: %w", err)
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("secret: key file %s is not a regular file", path)
	}
	if runtime.GOOS != "windows" && fi.Mode().Perm()&0o077 != 0 {
		return nil, fmt.Errorf("secret: key file %s has mode %04o and is accessible by group or others; run `chmod 600 %s`",
			path, fi.Mode().Perm(), path)
	}
	b, err := io.ReadAll(io.LimitReader(f, maxKeyFileSize+1))
	if err != nil {
		return nil, fmt.Errorf("secret: read key file: %w", err)
	}
	if len(b) > maxKeyFileSize {
		return nil, fmt.Errorf("secret: key file %s is larger than %d bytes", path, maxKeyFileSize)
	}
	k, err := ParseKey(string(b))
	if err != nil {
		return nil, fmt.Errorf("secret: key file %s: %w", path, err)
	}
	return k, nil
}

// createKeyFile writes a new key to path unless someone else gets there
// first, in which case it loads theirs (created = false).
func createKeyFile(path string) (*Key, bool, error) {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, false, fmt.Errorf("secret: create key directory: %w", err)
	}
	key := NewKey()
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return nil, false, fmt.Errorf("secret: create key file: %w", err)
	}
	tmpName := tmp.Name()
	defer os.Remove(tmpName) // after a successful link the key lives on under path
	if err := writeSynced(tmp, []byte(key.Encode()+"\n")); err != nil {
		return nil, false, fmt.Errorf("secret: write key file: %w", err)
	}
	switch err := os.Link(tmpName, path); {
	case err == nil:
	case errors.Is(err, fs.ErrExist):
		// Another process created the key meanwhile: use theirs.
		k, err := loadKeyFile(path)
		return k, false, err
	default:
		// Some file systems have no hard links. Rename is still atomic,
		// but it would replace a file created in the meantime; check
		// right before to keep that window small.
		if _, serr := os.Lstat(path); serr == nil {
			k, err := loadKeyFile(path)
			return k, false, err
		}
		if err := os.Rename(tmpName, path); err != nil {
			return nil, false, fmt.Errorf("secret: install key file: %w", err)
		}
	}
	syncDir(dir)
	return key, true, nil
}

func writeSynced(f *os.File, b []byte) error {
	if runtime.GOOS != "windows" {
		// CreateTemp uses 0600 already; be explicit about it.
		if err := f.Chmod(0o600); err != nil {
			f.Close()
			return err
		}
	}
	if _, err := f.Write(b); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// syncDir makes a new directory entry durable. Errors are ignored: some
// platforms cannot sync directories, and the file itself is already synced.
func syncDir(dir string) {
	if runtime.GOOS == "windows" {
		return
	}
	d, err := os.Open(dir)
	if err != nil {
		return
	}
	_ = d.Sync()
	_ = d.Close()
}
