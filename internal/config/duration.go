package config

import (
	"fmt"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// Duration is a time.Duration written as a Go duration string ("90s",
// "15m", "720h") in YAML, in environment variables and in flags. A bare
// number is an error: "60" could mean seconds or minutes.
//
// Convert with time.Duration(d).
type Duration time.Duration

// String formats d like time.Duration.String without zero trailing units:
// "15m" rather than "15m0s".
func (d Duration) String() string {
	s := time.Duration(d).String()
	if strings.HasSuffix(s, "m0s") {
		s = s[:len(s)-2]
	}
	if strings.HasSuffix(s, "h0m") {
		s = s[:len(s)-2]
	}
	return s
}

// Set parses s; it makes *Duration a pflag.Value.
func (d *Duration) Set(s string) error {
	v, err := parseDuration(s)
	if err != nil {
		return err
	}
	*d = v
	return nil
}

// Type names the flag value type in help output.
func (d *Duration) Type() string { return "duration" }

// UnmarshalYAML decodes a duration string. Errors are reported as
// *yaml.TypeError so that the decoder collects all of them; they carry the
// line and column so that Load can name the key.
func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.ScalarNode {
		return &yaml.TypeError{Errors: []string{
			fmt.Sprintf("line %d column %d: expected a duration such as \"15m\"", n.Line, n.Column),
		}}
	}
	v, err := parseDuration(n.Value)
	if err != nil {
		return &yaml.TypeError{Errors: []string{fmt.Sprintf("line %d column %d: %v", n.Line, n.Column, err)}}
	}
	*d = v
	return nil
}

// MarshalYAML encodes d as its String form.
func (d Duration) MarshalYAML() (any, error) { return d.String(), nil }

func parseDuration(s string) (Duration, error) {
	v, err := time.ParseDuration(strings.TrimSpace(s))
	if err != nil {
		return 0, fmt.Errorf("invalid duration %q: use a Go duration such as \"90s\", \"15m\" or \"720h\"", s)
	}
	return Duration(v), nil
}
