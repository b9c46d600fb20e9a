package credstore

import (
	"time"

	"github.com/gatehouse-auth/gatehouse/clock"
)

// DefaultKeyringTimeout bounds every keyring call unless WithTimeout says
// otherwise. A keyring that does not answer (no Secret Service running, a
// D-Bus session that never replies, an unlock prompt nobody sees) must not
// hang a command.
const DefaultKeyringTimeout = 3 * time.Second

// Option configures a File or Keyring store.
type Option func(*options)

type options struct {
	warn    func(string)
	timeout time.Duration
	clock   clock.Clock
}

func newOptions(opts []Option) options {
	o := options{timeout: DefaultKeyringTimeout, clock: clock.System}
	for _, opt := range opts {
		opt(&o)
	}
	if o.warn == nil {
		o.warn = func(string) {}
	}
	return o
}

// WithWarn sets where a store reports problems it recovers from: an
// unreadable or unknown-version file (treated as empty), a directory whose
// permissions it tightened. Each warning is one line without a trailing
// newline. Without it warnings are dropped.
func WithWarn(warn func(msg string)) Option {
	return func(o *options) { o.warn = warn }
}

// WithTimeout bounds each keyring call (Keyring only); d <= 0 keeps
// DefaultKeyringTimeout.
func WithTimeout(d time.Duration) Option {
	return func(o *options) {
		if d > 0 {
			o.timeout = d
		}
	}
}

// WithClock sets the clock that times keyring calls (for tests).
func WithClock(c clock.Clock) Option {
	return func(o *options) {
		if c != nil {
			o.clock = c
		}
	}
}
