package redisconn

import (
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	tests := []struct {
		url, addr, prefix string
		db                int
		wantErr           string
	}{
		{url: "redis://127.0.0.1:6379/3", addr: "127.0.0.1:6379", db: 3, prefix: DefaultKeyPrefix},
		{url: "redis://127.0.0.1:6379/3?key_prefix=team-a:", addr: "127.0.0.1:6379", db: 3, prefix: "team-a:"},
		{url: "redis://:pw@h:1/0?key_prefix=x:&read_timeout=2s", addr: "h:1", prefix: "x:"},
		{url: "redis://h:1/0?key_prefix=", wantErr: "key_prefix"},
		{url: "redis://h:1/0?key_prefix=a+b", wantErr: "key_prefix"},
		{url: "redis://h:1/0?key_prefix=a&key_prefix=b", wantErr: "key_prefix"},
		{url: "http://h:1/0", wantErr: "unsupported"},
		{url: "redis://:secret@h:1/0?bogus=1", wantErr: "bogus"},
	}
	for _, tt := range tests {
		got, err := Parse(tt.url)
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("Parse(%q) = %v, want error containing %q", tt.url, err, tt.wantErr)
			}
			if err != nil && strings.Contains(err.Error(), "secret") {
				t.Errorf("Parse(%q): error shows the password: %v", tt.url, err)
			}
			continue
		}
		if err != nil {
			t.Errorf("Parse(%q): %v", tt.url, err)
			continue
		}
		if got.Options.Addr != tt.addr || got.Options.DB != tt.db || got.KeyPrefix != tt.prefix {
			t.Errorf("Parse(%q) = addr %q db %d prefix %q, want %q %d %q", tt.url, got.Options.Addr, got.Options.DB, got.KeyPrefix, tt.addr, tt.db, tt.prefix)
		}
	}
}

func TestParseBoundsTimeouts(t *testing.T) {
	got, err := Parse("redis://h:1/0")
	if err != nil {
		t.Fatal(err)
	}
	o := got.Options
	if !o.ContextTimeoutEnabled || o.DialTimeout != DefaultDialTimeout || o.ReadTimeout != DefaultIOTimeout ||
		o.WriteTimeout != DefaultIOTimeout || o.PoolTimeout != DefaultPoolTimeout || o.MaxRetries != -1 || o.DialerRetries != 1 {
		t.Errorf("defaults not bounded: %+v", o)
	}
	got, err = Parse("redis://h:1/0?read_timeout=3s&max_retries=2")
	if err != nil {
		t.Fatal(err)
	}
	if got.Options.ReadTimeout.String() != "3s" || got.Options.MaxRetries != 2 {
		t.Errorf("URL parameters overridden: read_timeout %v max_retries %d", got.Options.ReadTimeout, got.Options.MaxRetries)
	}
}
