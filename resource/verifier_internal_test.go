package resource

import "testing"

func TestScanToken(t *testing.T) {
	tests := []struct {
		tok  string
		dots int
		ok   bool
	}{
		{"a.b.c", 2, true},
		{"gatehouse_k1_abc-DEF~+/", 0, true},
		{"abc==", 0, true},
		{"==", 0, false},
		{"a=b", 0, false},
		{"a b", 0, false},
		{"a\"b", 0, false},
		{"a\nb", 0, false},
		{"a.b.c.d.e", 4, true},
	}
	for _, tt := range tests {
		dots, ok := scanToken(tt.tok)
		if dots != tt.dots || ok != tt.ok {
			t.Errorf("scanToken(%q) = %d, %v; want %d, %v", tt.tok, dots, ok, tt.dots, tt.ok)
		}
	}
}
