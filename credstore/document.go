package credstore

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"slices"
	"sync"
)

// FormatVersion is the version of the JSON documents the File and Keyring
// stores write: {"version": 1, "profiles": {"<name>": ...}}. A document
// with another version is treated as empty (with a warning), never guessed
// at, and the next write replaces it after keeping a copy.
const FormatVersion = 1

// document is the on-disk form of a store: one entry per profile.
type document[T any] struct {
	Version  int          `json:"version"`
	Profiles map[string]T `json:"profiles"`
}

func newDocument[T any]() *document[T] {
	return &document[T]{Version: FormatVersion, Profiles: map[string]T{}}
}

// names returns the document's profile names, sorted.
func (d *document[T]) names() []string {
	return slices.Sorted(maps.Keys(d.Profiles))
}

// encode returns the document as indented JSON with a final newline; map
// keys come out sorted, so the file is stable and diffable.
func (d *document[T]) encode() ([]byte, error) {
	b, err := json.MarshalIndent(d, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("credstore: encode: %w", err)
	}
	return append(b, '\n'), nil
}

// readDocument reads the document at path. A missing file is an empty
// document. A file that is empty, truncated, not JSON, of another shape or
// of an unknown version is also an empty document, and problem says why;
// only a file that cannot be read at all (permissions, I/O) is an error.
func readDocument[T any](path string) (doc *document[T], problem, err error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return newDocument[T](), nil, nil
	}
	if err != nil {
		return nil, nil, fmt.Errorf("credstore: read %s: %w", path, err)
	}
	if len(bytes.TrimSpace(data)) == 0 {
		return newDocument[T](), errors.New("empty file"), nil
	}
	// The version is read first, so that a newer format is reported as
	// such rather than as a parse error of its profiles.
	var head struct {
		Version  *int            `json:"version"`
		Profiles json.RawMessage `json:"profiles"`
	}
	if !json.Valid(data) {
		return newDocument[T](), errors.New("not valid JSON (truncated or edited?)"), nil
	}
	if err := json.Unmarshal(data, &head); err != nil {
		return newDocument[T](), errors.New("not a credentials document (want a JSON object with version and profiles)"), nil
	}
	switch {
	case head.Version == nil:
		return newDocument[T](), errors.New("no format version"), nil
	case *head.Version != FormatVersion:
		return newDocument[T](), fmt.Errorf("unknown format version %d (this program reads version %d; was it written by a newer one?)", *head.Version, FormatVersion), nil
	}
	doc = newDocument[T]()
	if len(head.Profiles) > 0 && !bytes.Equal(head.Profiles, []byte("null")) {
		if err := json.Unmarshal(head.Profiles, &doc.Profiles); err != nil {
			return newDocument[T](), fmt.Errorf("malformed profiles (%v)", err), nil
		}
	}
	return doc, nil, nil
}

// keepUnreadable renames an unreadable document out of the way before it
// is replaced, so that data written by a newer version, or a file someone
// edited by hand, can still be recovered: "credentials.json" becomes
// "credentials.json.unreadable" (0600 like the original; an older copy is
// replaced).
func keepUnreadable(path string) string {
	dst := path + ".unreadable"
	if err := os.Rename(path, dst); err != nil {
		return ""
	}
	return dst
}

// warner sends a warning once for as long as it stays the same, so a
// long-running program that reads a broken file on every token lookup
// warns once, not every time.
type warner struct {
	warn func(string)
	mu   sync.Mutex
	last string
}

func (w *warner) say(msg string) {
	w.mu.Lock()
	repeat := msg == w.last
	w.last = msg
	w.mu.Unlock()
	if !repeat {
		w.warn(msg)
	}
}

// clear forgets the last warning, after the store read cleanly again.
func (w *warner) clear() {
	w.mu.Lock()
	w.last = ""
	w.mu.Unlock()
}

// unreadableMessage is the warning for a document readDocument could not
// use.
func unreadableMessage(path string, problem error) string {
	return fmt.Sprintf("credstore: ignoring %s: %v; stored credentials are unavailable until the next login rewrites it", path, problem)
}
