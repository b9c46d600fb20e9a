// Package metrics is a small Prometheus client: counters and histograms
// with fixed label names, a few Go runtime and process gauges, and the
// text exposition format (version 0.0.4) served on /metrics.
//
// It replaces github.com/prometheus/client_golang, whose package
// initialisation (default collectors, protobuf descriptors, procfs
// regexps) ran in every gatehouse process, including the client commands
// that must start in a few milliseconds. Nothing here does any work until a
// Registry is made.
//
//	reg := metrics.NewRegistry()
//	reqs := reg.NewCounterVec("app_requests_total", "Requests by route.", "route")
//	reqs.WithLabelValues("token").Inc()
//	mux.Handle("GET /metrics", reg.Handler())
//
// Label values must come from a small fixed set chosen by the program
// (route names, status codes), never from requests: every distinct
// combination is a series kept for the life of the process.
package metrics

import (
	"bytes"
	"fmt"
	"io"
	"math"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
)

// ContentType is the media type of the text exposition format.
const ContentType = "text/plain; version=0.0.4; charset=utf-8"

// maxLabels bounds the label names of one metric; a fixed bound lets the
// children be found without allocating.
const maxLabels = 4

// Metric types as written on # TYPE lines.
const (
	typeCounter   = "counter"
	typeGauge     = "gauge"
	typeHistogram = "histogram"
)

// family is one metric family: everything under one name.
type family interface {
	// describe returns the family's name, help and type.
	describe() (name, help, typ string)
	// writeSamples appends the family's sample lines to b.
	writeSamples(b *bytes.Buffer)
}

// Registry holds metric families and writes them in the text format. It
// is safe for concurrent use.
type Registry struct {
	mu       sync.Mutex
	families map[string]family
}

// NewRegistry returns an empty Registry.
func NewRegistry() *Registry {
	return &Registry{families: make(map[string]family)}
}

// register adds f, panicking on an invalid or duplicate name (a
// programming error, as in client_golang's MustRegister).
func (r *Registry) register(f family) {
	name, _, _ := f.describe()
	if !validName(name) {
		panic(fmt.Sprintf("metrics: invalid metric name %q", name))
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, dup := r.families[name]; dup {
		panic(fmt.Sprintf("metrics: metric %q registered twice", name))
	}
	r.families[name] = f
}

// WriteTo writes every family in the text exposition format, sorted by
// name, each with its # HELP and # TYPE lines (also when it has no
// samples yet).
func (r *Registry) WriteTo(w io.Writer) (int64, error) {
	r.mu.Lock()
	fams := make([]family, 0, len(r.families))
	for _, f := range r.families {
		fams = append(fams, f)
	}
	r.mu.Unlock()
	slices.SortFunc(fams, func(a, b family) int {
		an, _, _ := a.describe()
		bn, _, _ := b.describe()
		return strings.Compare(an, bn)
	})
	var b bytes.Buffer
	for _, f := range fams {
		name, help, typ := f.describe()
		b.WriteString("# HELP ")
		b.WriteString(name)
		b.WriteByte(' ')
		b.WriteString(escapeHelp(help))
		b.WriteString("\n# TYPE ")
		b.WriteString(name)
		b.WriteByte(' ')
		b.WriteString(typ)
		b.WriteByte('\n')
		f.writeSamples(&b)
	}
	return b.WriteTo(w)
}

// Handler serves the registry's metrics in the text format.
func (r *Registry) Handler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		var b bytes.Buffer
		if _, err := r.WriteTo(&b); err != nil {
			http.Error(w, "metrics unavailable", http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", ContentType)
		w.Header().Set("Cache-Control", "no-store")
		_, _ = b.WriteTo(w)
	})
}

// labelSet is the fixed label names of a vector and the lookup of its
// children by label values.
type labelSet struct {
	names []string
}

func newLabelSet(metric string, names []string) labelSet {
	if len(names) > maxLabels {
		panic(fmt.Sprintf("metrics: %s: more than %d labels", metric, maxLabels))
	}
	for _, n := range names {
		if !validLabelName(n) {
			panic(fmt.Sprintf("metrics: %s: invalid label name %q", metric, n))
		}
	}
	return labelSet{names: slices.Clone(names)}
}

// key turns label values into a map key, panicking when their number does
// not match the label names (as client_golang's WithLabelValues does).
func (l labelSet) key(metric string, values []string) [maxLabels]string {
	if len(values) != len(l.names) {
		panic(fmt.Sprintf("metrics: %s: %d label values for %d labels", metric, len(values), len(l.names)))
	}
	var k [maxLabels]string
	copy(k[:], values)
	return k
}

// writeLabels appends {a="x",b="y"} for the label values of key plus an
// optional extra label (le for histogram buckets); nothing when there are
// no labels at all.
func (l labelSet) writeLabels(b *bytes.Buffer, key [maxLabels]string, extraName, extraValue string) {
	if len(l.names) == 0 && extraName == "" {
		return
	}
	b.WriteByte('{')
	for i, n := range l.names {
		if i > 0 {
			b.WriteByte(',')
		}
		writeLabel(b, n, key[i])
	}
	if extraName != "" {
		if len(l.names) > 0 {
			b.WriteByte(',')
		}
		writeLabel(b, extraName, extraValue)
	}
	b.WriteByte('}')
}

func writeLabel(b *bytes.Buffer, name, value string) {
	b.WriteString(name)
	b.WriteString(`="`)
	b.WriteString(escapeLabelValue(value))
	b.WriteByte('"')
}

// sortedKeys returns the keys of m in label-value order, for a stable
// exposition.
func sortedKeys[V any](m map[[maxLabels]string]V) [][maxLabels]string {
	keys := make([][maxLabels]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b [maxLabels]string) int {
		for i := range a {
			if c := strings.Compare(a[i], b[i]); c != 0 {
				return c
			}
		}
		return 0
	})
	return keys
}

// formatFloat writes a sample value the way Prometheus reads it.
func formatFloat(f float64) string {
	switch {
	case math.IsInf(f, +1):
		return "+Inf"
	case math.IsInf(f, -1):
		return "-Inf"
	case math.IsNaN(f):
		return "NaN"
	}
	return strconv.FormatFloat(f, 'g', -1, 64)
}

// escapeHelp escapes a # HELP text: backslash and line feed.
func escapeHelp(s string) string {
	if !strings.ContainsAny(s, "\\\n") {
		return s
	}
	return strings.NewReplacer(`\`, `\\`, "\n", `\n`).Replace(s)
}

// escapeLabelValue escapes a label value: backslash, double quote and
// line feed.
func escapeLabelValue(s string) string {
	if !strings.ContainsAny(s, "\\\"\n") {
		return s
	}
	return strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`).Replace(s)
}

// validName reports whether s matches [a-zA-Z_:][a-zA-Z0-9_:]*.
func validName(s string) bool {
	if s == "" {
		return false
	}
	for i, c := range s {
		ok := c == '_' || c == ':' || ('a' <= c && c <= 'z') || ('A' <= c && c <= 'Z') || (i > 0 && '0' <= c && c <= '9')
		if !ok {
			return false
		}
	}
	return true
}

// validLabelName reports whether s matches [a-zA-Z_][a-zA-Z0-9_]* and is
// not reserved (names starting with "__", and "le" used by histograms).
func validLabelName(s string) bool {
	if s == "" || strings.HasPrefix(s, "__") || s == "le" {
		return false
	}
	for i, c := range s {
		ok := c == '_' || ('a' <= c && c <= 'z') || ('A' <= c && c <= 'Z') || (i > 0 && '0' <= c && c <= '9')
		if !ok {
			return false
		}
	}
	return true
}
