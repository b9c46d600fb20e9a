package e2e

import (
	"bufio"
	"encoding/json"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// TestAuditSurvivesSIGKILL checks SECURITY-CASES 71: a server killed with
// SIGKILL under client-credentials load has, in its audit trail, a
// token.issued event for every token it handed out (a response waits for
// its event's commit), and the trail still verifies.
func TestAuditSurvivesSIGKILL(t *testing.T) {
	t.Parallel()
	g := startServer(t, "--audit-output", "off")
	id, secret := createClient(t, g, "load", "--grant", "client_credentials")
	var issued atomic.Int64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for range 16 {
		wg.Go(func() {
			c := &http.Client{Timeout: 5 * time.Second}
			for {
				select {
				case <-stop:
					return
				default:
				}
				req, _ := http.NewRequest(http.MethodPost, g.URL+"/oauth2/token", strings.NewReader("grant_type=client_credentials"))
				req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
				req.SetBasicAuth(id, secret)
				resp, err := c.Do(req)
				if err != nil {
					return // the server is gone
				}
				var body struct {
					AccessToken string `json:"access_token"`
				}
				err = json.NewDecoder(resp.Body).Decode(&body)
				resp.Body.Close()
				if resp.StatusCode == http.StatusOK && err == nil && body.AccessToken != "" {
					issued.Add(1)
				}
			}
		})
	}
	time.Sleep(1500 * time.Millisecond)
	g.signal(t, syscall.SIGKILL)
	close(stop)
	wg.Wait()
	if exited, _ := g.wait(10 * time.Second); !exited {
		t.Fatal("the server survived SIGKILL")
	}
	if issued.Load() == 0 {
		t.Fatal("no token was issued before the kill")
	}

	out, errOut, code := runCLI(t, "", append([]string{"audit", "list", "--json", "--limit", "0", "--type", "token.issued"}, g.storage...)...)
	if code != 0 {
		t.Fatalf("audit list: exit %d\n%s", code, errOut)
	}
	var events int64
	sc := bufio.NewScanner(strings.NewReader(out))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var e struct {
			ClientID string `json:"client_id"`
		}
		if json.Unmarshal(sc.Bytes(), &e) == nil && e.ClientID == id {
			events++
		}
	}
	t.Logf("tokens received %d, token.issued events %d", issued.Load(), events)
	if events < issued.Load() {
		t.Errorf("%d tokens were handed out but only %d token.issued events survived SIGKILL", issued.Load(), events)
	}
	if out, errOut, code := runCLI(t, "", append([]string{"audit", "verify"}, g.storage...)...); code != 0 {
		t.Errorf("audit verify after SIGKILL: exit %d\n%s%s", code, out, errOut)
	}
}
