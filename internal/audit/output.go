package audit

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// OpenOutput opens the destination named by the audit.output setting:
//
//   - "stdout" or "": os.Stdout (Close does nothing)
//   - "stderr": os.Stderr (Close does nothing)
//   - "off": a nil writer and a nil error; pass it to New, which then
//     discards events, and do not Close it
//   - anything else: a file path, opened for appending and created with
//     mode 0600 (missing directories 0700). An existing file keeps its
//     mode.
func OpenOutput(output string) (io.WriteCloser, error) {
	switch output {
	case "", "stdout":
		return nopCloser{os.Stdout}, nil
	case "stderr":
		return nopCloser{os.Stderr}, nil
	case "off":
		return nil, nil
	}
	if err := os.MkdirAll(filepath.Dir(output), 0o700); err != nil {
		return nil, fmt.Errorf("audit: open output: %w", err)
	}
	f, err := os.OpenFile(output, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("audit: open output: %w", err)
	}
	return f, nil
}

type nopCloser struct{ io.Writer }

func (nopCloser) Close() error { return nil }
