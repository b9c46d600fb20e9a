package metrics

import (
	"bytes"
	"fmt"
	"math"
	"slices"
	"sort"
	"sync"
	"sync/atomic"
)

// Histogram counts observations in buckets with fixed upper bounds and
// keeps their sum. It is safe for concurrent use.
type Histogram struct {
	upper  []float64       // bucket upper bounds, ascending, without +Inf
	counts []atomic.Uint64 // per bucket, not cumulative; the last is +Inf
	sum    atomic.Uint64   // math.Float64bits of the sum
}

// Observe records one observation.
func (h *Histogram) Observe(v float64) {
	// The first bucket whose upper bound is >= v ("le", less or equal);
	// len(upper) is the +Inf bucket.
	h.counts[sort.SearchFloat64s(h.upper, v)].Add(1)
	for {
		old := h.sum.Load()
		if h.sum.CompareAndSwap(old, math.Float64bits(math.Float64frombits(old)+v)) {
			return
		}
	}
}

// snapshot returns the cumulative bucket counts (the last is the total
// count) and the sum.
func (h *Histogram) snapshot() (cumulative []uint64, sum float64) {
	cumulative = make([]uint64, len(h.counts))
	var n uint64
	for i := range h.counts {
		n += h.counts[i].Load()
		cumulative[i] = n
	}
	return cumulative, math.Float64frombits(h.sum.Load())
}

// HistogramVec is a family of histograms that share a name, buckets and
// label names and differ in label values.
type HistogramVec struct {
	name, help string
	labels     labelSet
	upper      []float64
	le         []string // formatted upper bounds, then "+Inf"

	mu       sync.RWMutex
	children map[[maxLabels]string]*Histogram
}

// NewHistogramVec registers a histogram family with the given bucket upper
// bounds (strictly increasing, finite; a +Inf bucket is always added) and
// label names (at most four). It panics on an invalid or duplicate name or
// bad buckets.
func (r *Registry) NewHistogramVec(name, help string, buckets []float64, labelNames ...string) *HistogramVec {
	if len(buckets) == 0 {
		panic(fmt.Sprintf("metrics: %s: no buckets", name))
	}
	for i, b := range buckets {
		if math.IsNaN(b) || math.IsInf(b, 0) || (i > 0 && b <= buckets[i-1]) {
			panic(fmt.Sprintf("metrics: %s: buckets must be finite and strictly increasing", name))
		}
	}
	v := &HistogramVec{
		name: name, help: help,
		labels:   newLabelSet(name, labelNames),
		upper:    slices.Clone(buckets),
		children: make(map[[maxLabels]string]*Histogram),
	}
	for _, b := range buckets {
		v.le = append(v.le, formatFloat(b))
	}
	v.le = append(v.le, "+Inf")
	r.register(v)
	return v
}

// WithLabelValues returns the histogram for the label values, given in the
// order of the label names, creating it empty on first use. It panics when
// the number of values is wrong.
func (v *HistogramVec) WithLabelValues(values ...string) *Histogram {
	k := v.labels.key(v.name, values)
	v.mu.RLock()
	h, ok := v.children[k]
	v.mu.RUnlock()
	if ok {
		return h
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	if h, ok := v.children[k]; ok {
		return h
	}
	h = &Histogram{upper: v.upper, counts: make([]atomic.Uint64, len(v.upper)+1)}
	v.children[k] = h
	return h
}

func (v *HistogramVec) describe() (string, string, string) { return v.name, v.help, typeHistogram }

func (v *HistogramVec) writeSamples(b *bytes.Buffer) {
	v.mu.RLock()
	defer v.mu.RUnlock()
	for _, k := range sortedKeys(v.children) {
		cumulative, sum := v.children[k].snapshot()
		for i, le := range v.le {
			b.WriteString(v.name)
			b.WriteString("_bucket")
			v.labels.writeLabels(b, k, "le", le)
			b.WriteByte(' ')
			b.WriteString(formatFloat(float64(cumulative[i])))
			b.WriteByte('\n')
		}
		b.WriteString(v.name)
		b.WriteString("_sum")
		v.labels.writeLabels(b, k, "", "")
		b.WriteByte(' ')
		b.WriteString(formatFloat(sum))
		b.WriteByte('\n')
		b.WriteString(v.name)
		b.WriteString("_count")
		v.labels.writeLabels(b, k, "", "")
		b.WriteByte(' ')
		b.WriteString(formatFloat(float64(cumulative[len(cumulative)-1])))
		b.WriteByte('\n')
	}
}
