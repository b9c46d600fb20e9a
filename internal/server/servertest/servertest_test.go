package servertest_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/clock/clocktest"
	"github.com/gatehouse-auth/gatehouse/internal/server"
	"github.com/gatehouse-auth/gatehouse/internal/server/servertest"
	"github.com/gatehouse-auth/gatehouse/internal/storage"
	"github.com/gatehouse-auth/gatehouse/protocol"
)

func TestStartServesItsIssuer(t *testing.T) {
	clk := clocktest.New(time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC))
	s := servertest.Start(t, servertest.WithClock(clk), servertest.WithAlgorithm("EdDSA"))
	if s.Clock != clk {
		t.Error("the server does not run on the given clock")
	}
	resp, err := s.HTTP.Get(s.URL + server.PathDiscoveryOAuth)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var md struct {
		Issuer string `json:"issuer"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&md); err != nil || md.Issuer != s.URL {
		t.Errorf("discovery issuer = %q (%v), want %q", md.Issuer, err, s.URL)
	}
	if _, err := s.Store.GetUserByName(t.Context(), server.AdminUsername); err != nil {
		t.Errorf("no bootstrapped admin: %v", err)
	}
}

func TestAddClientSecretWorks(t *testing.T) {
	s := servertest.Start(t)
	sec := s.AddClient(t, storage.Client{ID: "bot", GrantTypes: []string{protocol.GrantClientCredentials}, Scopes: []string{"read"}})
	for _, tc := range []struct {
		secret string
		want   int
	}{{sec, http.StatusOK}, {"wrong", http.StatusUnauthorized}} {
		req, err := http.NewRequest(http.MethodPost, s.URL+server.PathToken, strings.NewReader(url.Values{"grant_type": {protocol.GrantClientCredentials}}.Encode()))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.SetBasicAuth("bot", tc.secret)
		resp, err := s.HTTP.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != tc.want {
			t.Errorf("secret %q: HTTP %d, want %d", tc.secret, resp.StatusCode, tc.want)
		}
	}
}

func TestApproveAsUser(t *testing.T) {
	s := servertest.Start(t)
	u := s.AddUser(t, "alice", "alice-password-1", "editor")
	if u.ID != "u-alice" || len(u.Roles) != 1 || u.PasswordHash == "" {
		t.Errorf("user = %+v", u)
	}
	now := s.Clock.Now()
	err := s.Store.CreateDeviceCode(t.Context(), &storage.DeviceCode{
		Hash: "h1", UserCode: "ABCDEFGH", ClientID: server.CLIClientID, Status: storage.DeviceStatusPending,
		Interval: 5 * time.Second, CreatedAt: now, ExpiresAt: now.Add(10 * time.Minute),
	})
	if err != nil {
		t.Fatal(err)
	}
	s.Approve(t, "abcd-efgh", "alice")
	dc, err := s.Store.GetDeviceCodeByUserCode(t.Context(), "ABCDEFGH")
	if err != nil {
		t.Fatal(err)
	}
	if dc.Status != storage.DeviceStatusApproved || dc.UserID != u.ID || !dc.AuthTime.Equal(now) {
		t.Errorf("device code = %+v", dc)
	}
}

func TestWithIssuerPath(t *testing.T) {
	s := servertest.Start(t, servertest.WithIssuerPath("/_gatehouse/auth"))
	if !strings.HasSuffix(s.URL, "/_gatehouse/auth") || !strings.HasPrefix(s.URL, s.TS.URL) {
		t.Fatalf("URL %q, listener %q", s.URL, s.TS.URL)
	}
	resp, err := s.HTTP.Get(s.URL + server.PathDiscoveryOIDC)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var md struct {
		Issuer        string `json:"issuer"`
		TokenEndpoint string `json:"token_endpoint"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&md); err != nil || md.Issuer != s.URL || md.TokenEndpoint != s.URL+server.PathToken {
		t.Errorf("discovery %+v (%v), want issuer %q", md, err, s.URL)
	}
	outside, err := s.HTTP.Get(s.TS.URL + server.PathDiscoveryOIDC)
	if err != nil {
		t.Fatal(err)
	}
	outside.Body.Close()
	if outside.StatusCode != http.StatusNotFound {
		t.Errorf("discovery outside the issuer path: %d, want 404", outside.StatusCode)
	}
}
