package server

import (
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/gatehouse-auth/gatehouse/internal/config"
)

func TestPagesShowTheConfiguredBrandEscaped(t *testing.T) {
	h := newHarness(t, func(c *config.Server) { c.UI.BrandName = "Acme <Data> & Co" })
	res, err := http.Get(h.url(PathLogin))
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	page := string(body)
	if !strings.Contains(page, `<p class="brand">Acme &lt;Data&gt; &amp; Co</p>`) || !strings.Contains(page, "· Acme &lt;Data&gt; &amp; Co</title>") {
		t.Fatalf("brand not shown escaped:\n%s", page)
	}
	if strings.Contains(page, "<Data>") {
		t.Fatal("brand not escaped")
	}
}
