//go:build !linux

package metrics

// addProcessMetrics registers nothing outside Linux: the process metrics
// are read from /proc.
func addProcessMetrics(*Registry) {}
