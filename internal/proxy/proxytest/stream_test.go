package proxytest

import (
	"bufio"
	"context"
	"net/http"
	"strings"
	"testing"
	"time"
)

// readEvent reads one server-sent event (up to the blank line).
func readEvent(r *bufio.Reader) (string, error) {
	var lines []string
	for {
		l, err := r.ReadString('\n')
		if err != nil {
			return strings.Join(lines, ""), err
		}
		if l == "\n" {
			return strings.Join(lines, ""), nil
		}
		lines = append(lines, l)
	}
}

// The first event arrives while the app is still waiting to write the
// second: the app flushes each event instead of buffering the stream.
func TestStreamFlushesEachEvent(t *testing.T) {
	clk := newSignalClock()
	_, ts := start(t, WithClock(clk))
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, ts.URL+"/stream?n=3&interval=30s", nil)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK || res.Header.Get("Content-Type") != "text/event-stream" {
		t.Fatalf("status %d, type %q", res.StatusCode, res.Header.Get("Content-Type"))
	}
	br := bufio.NewReader(res.Body)
	for i, want := range []string{"id: 1\ndata: event 1 of 3\n", "id: 2\ndata: event 2 of 3\n", "id: 3\ndata: event 3 of 3\n"} {
		if i > 0 {
			// The app waits for the interval before the next event: no
			// later event can have been written yet.
			if d := clk.waitTimer(t); d != 30*time.Second {
				t.Fatalf("interval %s", d)
			}
			clk.Advance(30 * time.Second)
		}
		ev, err := readEvent(br)
		if err != nil || ev != want {
			t.Fatalf("event %d: %q %v", i+1, ev, err)
		}
	}
	if l, err := br.ReadString('\n'); err == nil {
		t.Fatalf("more after the last event: %q", l)
	}
}

func TestStreamDefaultsAndBounds(t *testing.T) {
	_, ts := start(t)
	res, body := get(t, http.MethodGet, ts.URL+"/stream?interval=0s", nil)
	if res.StatusCode != http.StatusOK || strings.Count(body, "data: ") != 5 {
		t.Fatalf("default stream: %d %q", res.StatusCode, body)
	}
	for _, q := range []string{"n=0", "n=x", "n=100000", "interval=-1s", "interval=2m"} {
		if res, _ := get(t, http.MethodGet, ts.URL+"/stream?"+q, nil); res.StatusCode != http.StatusBadRequest {
			t.Errorf("/stream?%s: %d", q, res.StatusCode)
		}
	}
}
