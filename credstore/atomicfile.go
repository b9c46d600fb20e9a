package credstore

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
)

// ensureDir creates dir (and missing parents) 0700. An existing directory
// that group or others may enter is tightened to 0700, with a warning; if
// that fails it is used as it is, with a warning, since the data files in
// it are 0600 anyway.
func ensureDir(dir string, warn func(string)) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("credstore: create %s: %w", dir, err)
	}
	fi, err := os.Stat(dir)
	if err != nil {
		return fmt.Errorf("credstore: %w", err)
	}
	if !fi.IsDir() {
		return fmt.Errorf("credstore: %s is not a directory", dir)
	}
	perm := fi.Mode().Perm()
	if runtime.GOOS == "windows" || perm&0o077 == 0 {
		return nil
	}
	if err := os.Chmod(dir, perm&0o700); err != nil {
		warn(fmt.Sprintf("credstore: %s is accessible to other users (%04o) and could not be restricted: %v", dir, perm, err))
		return nil
	}
	warn(fmt.Sprintf("credstore: restricted %s to its owner (was %04o, now %04o)", dir, perm, perm&0o700))
	return nil
}

// tempPrefix and tempSuffix frame the temporary files writeFileAtomic makes
// for name: ".credentials.json-123456.tmp".
func tempPrefix(name string) string { return "." + name + "-" }

const tempSuffix = ".tmp"

// writeFileAtomic replaces dir/name with data so that a reader, or the file
// left behind by a crash or SIGKILL at any moment, sees either the old
// content or the new, never a mix: the data goes to a temporary file
// created 0600 in the same directory, is fsynced, renamed over the target,
// and the directory is fsynced so the rename itself survives a power loss.
// Callers serialise writers with the store-wide lock.
func writeFileAtomic(dir, name string, data []byte) (err error) {
	f, err := os.CreateTemp(dir, tempPrefix(name)+"*"+tempSuffix) // mode 0600
	if err != nil {
		return fmt.Errorf("credstore: write %s: %w", name, err)
	}
	tmp := f.Name()
	defer func() {
		if err != nil {
			_ = os.Remove(tmp)
		}
	}()
	if _, err = f.Write(data); err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("credstore: write %s: %w", name, err)
	}
	if err = os.Rename(tmp, filepath.Join(dir, name)); err != nil {
		return fmt.Errorf("credstore: write %s: %w", name, err)
	}
	if err := syncDir(dir); err != nil {
		return fmt.Errorf("credstore: write %s: sync directory: %w", name, err)
	}
	return nil
}

// syncDir makes a rename in dir durable. Windows cannot open a directory
// for syncing and needs no such step.
func syncDir(dir string) error {
	if runtime.GOOS == "windows" {
		return nil
	}
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	return err
}

// removeStaleTemps deletes temporary files a killed writer left for name.
// It must be called with the store-wide lock held: then no live writer has
// a temporary file, so every one found is stale.
func removeStaleTemps(dir, name string) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return
	}
	for _, e := range entries {
		n := e.Name()
		if e.Type().IsRegular() && strings.HasPrefix(n, tempPrefix(name)) && strings.HasSuffix(n, tempSuffix) {
			_ = os.Remove(filepath.Join(dir, n))
		}
	}
}

// dirExists reports whether dir exists; errors other than "does not exist"
// count as existing so that the caller goes on and reports them.
func dirExists(dir string) bool {
	_, err := os.Stat(dir)
	return !errors.Is(err, fs.ErrNotExist)
}
