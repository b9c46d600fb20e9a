package policy

import (
	"embed"
	"fmt"
	"slices"
	"strings"
)

//go:embed presets/*.yaml
var presetFiles embed.FS

// Presets returns the names of the built-in policies, sorted.
func Presets() []string {
	entries, _ := presetFiles.ReadDir("presets")
	var names []string
	for _, e := range entries {
		names = append(names, strings.TrimSuffix(e.Name(), ".yaml"))
	}
	slices.Sort(names)
	return names
}

// Preset returns the built-in policy called name ("dagster"); its source
// is "preset:NAME".
func Preset(name string) (*Policy, error) {
	if !slices.Contains(Presets(), name) {
		return nil, fmt.Errorf("policy: unknown preset %q (known: %s)", name, strings.Join(Presets(), ", "))
	}
	data, err := presetFiles.ReadFile("presets/" + name + ".yaml")
	if err != nil {
		return nil, fmt.Errorf("policy: preset %s: %w", name, err)
	}
	return Parse(data, "preset:"+name)
}
