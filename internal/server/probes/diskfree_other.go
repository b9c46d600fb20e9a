//go:build !unix

package probes

import "errors"

// diskFree is not implemented here; /readyz then skips the disk check.
func diskFree(string) (uint64, error) { return 0, errors.ErrUnsupported }
