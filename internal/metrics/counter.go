package metrics

import (
	"bytes"
	"math"
	"sync"
	"sync/atomic"
)

// Counter is a value that only goes up. It is safe for concurrent use.
type Counter struct {
	bits atomic.Uint64 // math.Float64bits of the value
}

// Inc adds 1.
func (c *Counter) Inc() { c.Add(1) }

// Add adds v, which must not be negative (a counter never goes down); a
// negative v panics, as in client_golang.
func (c *Counter) Add(v float64) {
	if v < 0 {
		panic("metrics: counter cannot decrease")
	}
	for {
		old := c.bits.Load()
		if c.bits.CompareAndSwap(old, math.Float64bits(math.Float64frombits(old)+v)) {
			return
		}
	}
}

// Value returns the current value.
func (c *Counter) Value() float64 { return math.Float64frombits(c.bits.Load()) }

// CounterVec is a family of counters that share a name and label names and
// differ in label values.
type CounterVec struct {
	name, help string
	labels     labelSet

	mu       sync.RWMutex
	children map[[maxLabels]string]*Counter
}

// NewCounterVec registers a counter family with the given label names (at
// most four; none makes a single counter, WithLabelValues()). It panics on
// an invalid or duplicate name.
func (r *Registry) NewCounterVec(name, help string, labelNames ...string) *CounterVec {
	v := &CounterVec{
		name: name, help: help,
		labels:   newLabelSet(name, labelNames),
		children: make(map[[maxLabels]string]*Counter),
	}
	r.register(v)
	return v
}

// WithLabelValues returns the counter for the label values, given in the
// order of the label names, creating it at zero on first use. It panics
// when the number of values is wrong.
func (v *CounterVec) WithLabelValues(values ...string) *Counter {
	k := v.labels.key(v.name, values)
	v.mu.RLock()
	c, ok := v.children[k]
	v.mu.RUnlock()
	if ok {
		return c
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	if c, ok := v.children[k]; ok {
		return c
	}
	c = new(Counter)
	v.children[k] = c
	return c
}

func (v *CounterVec) describe() (string, string, string) { return v.name, v.help, typeCounter }

func (v *CounterVec) writeSamples(b *bytes.Buffer) {
	v.mu.RLock()
	defer v.mu.RUnlock()
	for _, k := range sortedKeys(v.children) {
		b.WriteString(v.name)
		v.labels.writeLabels(b, k, "", "")
		b.WriteByte(' ')
		b.WriteString(formatFloat(v.children[k].Value()))
		b.WriteByte('\n')
	}
}

// funcMetric is a counter or gauge without labels whose value is read
// when the metrics are written.
type funcMetric struct {
	name, help, typ string
	value           func() float64
}

// NewGaugeFunc registers a gauge whose value fn returns when the metrics
// are written. fn must be safe for concurrent use and fast.
func (r *Registry) NewGaugeFunc(name, help string, fn func() float64) {
	r.register(&funcMetric{name: name, help: help, typ: typeGauge, value: fn})
}

// NewCounterFunc registers a counter whose value fn returns when the
// metrics are written; fn must never return less than before.
func (r *Registry) NewCounterFunc(name, help string, fn func() float64) {
	r.register(&funcMetric{name: name, help: help, typ: typeCounter, value: fn})
}

func (f *funcMetric) describe() (string, string, string) { return f.name, f.help, f.typ }

func (f *funcMetric) writeSamples(b *bytes.Buffer) {
	b.WriteString(f.name)
	b.WriteByte(' ')
	b.WriteString(formatFloat(f.value()))
	b.WriteByte('\n')
}
