package oidc

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	coreoidc "github.com/coreos/go-oidc/v3/oidc"
	"github.com/google/go-cmp/cmp"
	"github.com/zitadel/oidc/v3/example/server/exampleop"
	"github.com/zitadel/oidc/v3/example/server/storage"
	"golang.org/x/oauth2"
)

// The tests below run a real OpenID provider, the example provider of the
// zitadel/oidc library (its in-memory storage, login form and users), on
// loopback, and drive the authorization code flow through it the way a
// browser does.

const (
	webClientID     = "cpms"
	webClientSecret = "cpms-secret"
	otherClientID   = "other-app"
	otherSecret     = "other-secret"
	userPassword    = "verysecure" // the example storage's user "id1"
	sealKey         = "0123456789abcdef0123456789abcdef"
)

type oidcFixture struct {
	issuer   string
	rpURL    string  // the relying party test server, serving /login and /callback
	web      *Client // CPMS's client
	other    *Client // another client registered at the same provider
	username string
}

func newOIDCFixture(t *testing.T) *oidcFixture {
	t.Helper()
	ctx := t.Context()

	// The relying party's address is needed to register its redirect URL,
	// and the provider's to configure the relying party: listen on both
	// before either serves.
	rpSrv := httptest.NewUnstartedServer(nil)
	opSrv := httptest.NewUnstartedServer(nil)
	f := &oidcFixture{
		issuer: "http://" + opSrv.Listener.Addr().String(),
		rpURL:  "http://" + rpSrv.Listener.Addr().String(),
	}
	redirect := f.rpURL + "/callback"
	users := storage.NewUserStore(f.issuer)
	f.username = users.GetUserByID("id1").Username
	store := storage.NewStorageWithClients(users, map[string]*storage.Client{
		webClientID:   storage.WebClient(webClientID, webClientSecret, redirect),
		otherClientID: storage.WebClient(otherClientID, otherSecret, redirect),
	})
	opSrv.Config.Handler = exampleop.SetupServer(f.issuer, store, nil, false)
	opSrv.Start()
	t.Cleanup(opSrv.Close)

	var err error
	f.web, err = New(ctx, Config{
		Issuer: f.issuer, ClientID: webClientID, ClientSecret: webClientSecret,
		RedirectURL: redirect, HTTPClient: opSrv.Client(),
	})
	if err != nil {
		t.Fatalf("New: %v (%s)", err, Detail(err))
	}
	f.other, err = New(ctx, Config{
		Issuer: f.issuer, ClientID: otherClientID, ClientSecret: otherSecret,
		RedirectURL: redirect, HTTPClient: opSrv.Client(),
	})
	if err != nil {
		t.Fatalf("New: %v (%s)", err, Detail(err))
	}

	// A minimal relying party, as the product's HTTP edge would be: the
	// login state travels in a sealed cookie.
	mux := http.NewServeMux()
	mux.HandleFunc("GET /login", func(w http.ResponseWriter, r *http.Request) {
		authURL, st, err := f.web.Begin(rand.Reader)
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		v, err := EncodeState([]byte(sealKey), st, time.Now().Add(10*time.Minute))
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		http.SetCookie(w, &http.Cookie{Name: "cpms_oidc", Value: v, Path: "/", HttpOnly: true, SameSite: http.SameSiteLaxMode})
		http.Redirect(w, r, authURL, http.StatusFound)
	})
	mux.HandleFunc("GET /callback", func(w http.ResponseWriter, r *http.Request) {
		c, err := r.Cookie("cpms_oidc")
		if err != nil {
			http.Error(w, "no login cookie", http.StatusBadRequest)
			return
		}
		st, err := DecodeState([]byte(sealKey), c.Value, time.Now())
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		q := r.URL.Query()
		id, err := f.web.Finish(r.Context(), st, q.Get("state"), q.Get("code"))
		if err != nil {
			http.Error(w, err.Error()+" | "+Detail(err), http.StatusForbidden)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(id)
	})
	rpSrv.Config.Handler = mux
	rpSrv.Start()
	t.Cleanup(rpSrv.Close)
	return f
}

// browser returns an HTTP client with its own cookie jar. If stopAtCallback
// is set it does not follow the provider's redirect to the relying party's
// callback, so the test can look at the code and state.
func (f *oidcFixture) browser(t *testing.T, stopAtCallback bool) *http.Client {
	t.Helper()
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	c := &http.Client{Jar: jar, Timeout: 30 * time.Second}
	if stopAtCallback {
		c.CheckRedirect = func(req *http.Request, via []*http.Request) error {
			if strings.HasPrefix(req.URL.String(), f.rpURL+"/callback") {
				return http.ErrUseLastResponse
			}
			return nil
		}
	}
	return c
}

var loginFormID = regexp.MustCompile(`<input type="hidden" name="id" value="([^"]+)">`)

// signIn follows start (the relying party's /login or an authorization URL)
// to the provider's login form, posts the example user's credentials and
// returns the last response.
func (f *oidcFixture) signIn(t *testing.T, c *http.Client, start string) *http.Response {
	t.Helper()
	resp, err := c.Get(start)
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	m := loginFormID.FindSubmatch(page)
	if resp.StatusCode != http.StatusOK || m == nil {
		t.Fatalf("no login form at %s: %d\n%s", resp.Request.URL, resp.StatusCode, page)
	}
	if !strings.HasPrefix(resp.Request.URL.String(), f.issuer+"/login/username") {
		t.Fatalf("login form served from %s, not the provider", resp.Request.URL)
	}
	resp, err = c.PostForm(f.issuer+"/login/username", url.Values{
		"id": {string(m[1])}, "username": {f.username}, "password": {userPassword},
	})
	if err != nil {
		t.Fatal(err)
	}
	return resp
}

// authorize runs a login for o up to the redirect back to the relying party
// and returns the state and code of that redirect.
func (f *oidcFixture) authorize(t *testing.T, o *Client) (st State, gotState, code string) {
	t.Helper()
	authURL, st, err := o.Begin(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	resp := f.signIn(t, f.browser(t, true), authURL)
	resp.Body.Close()
	loc, err := resp.Location()
	if resp.StatusCode != http.StatusFound || err != nil {
		t.Fatalf("sign-in ended with %d at %s, want a redirect to the callback", resp.StatusCode, resp.Request.URL)
	}
	q := loc.Query()
	if q.Get("code") == "" {
		t.Fatalf("callback %s has no code", loc)
	}
	return st, q.Get("state"), q.Get("code")
}

func (f *oidcFixture) wantIdentity() Identity {
	return Identity{
		Issuer:            f.issuer,
		Subject:           "id1",
		Email:             "test-user@zitadel.ch",
		EmailVerified:     true,
		Name:              "Test User",
		PreferredUsername: f.username,
	}
}

func TestOIDCLoginThroughBrowser(t *testing.T) {
	f := newOIDCFixture(t)
	resp := f.signIn(t, f.browser(t, false), f.rpURL+"/login")
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("callback answered %d: %s", resp.StatusCode, body)
	}
	if !strings.HasPrefix(resp.Request.URL.String(), f.rpURL+"/callback?") {
		t.Errorf("flow ended at %s, not the callback", resp.Request.URL)
	}
	var got Identity
	if err := json.Unmarshal(body, &got); err != nil {
		t.Fatalf("%v: %s", err, body)
	}
	if diff := cmp.Diff(f.wantIdentity(), got); diff != "" {
		t.Errorf("identity (-want +got):\n%s", diff)
	}
}

func TestOIDCBeginAuthURL(t *testing.T) {
	f := newOIDCFixture(t)
	authURL, st, err := f.web.Begin(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	u, err := url.Parse(authURL)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	want := map[string]string{
		"client_id":             webClientID,
		"response_type":         "code",
		"state":                 st.State,
		"nonce":                 st.Nonce,
		"code_challenge":        oauth2.S256ChallengeFromVerifier(st.Verifier),
		"code_challenge_method": "S256",
		"scope":                 "openid email profile",
		"redirect_uri":          f.rpURL + "/callback",
	}
	got := map[string]string{}
	for k := range want {
		got[k] = q.Get(k)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("authorization request (-want +got):\n%s", diff)
	}
	for name, v := range map[string]string{"state": st.State, "nonce": st.Nonce, "verifier": st.Verifier} {
		if len(v) != 43 {
			t.Errorf("%s %q: want 43 base64url characters", name, v)
		}
	}
	if _, _, err := f.web.Begin(strings.NewReader("too short")); !errors.Is(err, errRandom) {
		t.Errorf("Begin with a short random source: err = %v", err)
	}
}

func TestOIDCFinishRefuses(t *testing.T) {
	f := newOIDCFixture(t)
	tests := []struct {
		name string
		// change alters what Finish gets, given this login's values and a
		// second, unrelated login's state.
		change func(st *State, gotState, code *string, foreign State)
		want   error
	}{
		{"wrong state", func(st *State, gotState, code *string, foreign State) {
			*gotState = foreign.State
		}, ErrState},
		{"no stored state", func(st *State, gotState, code *string, foreign State) {
			*st = State{}
			*gotState = ""
		}, ErrState},
		{"foreign nonce", func(st *State, gotState, code *string, foreign State) {
			st.Nonce = foreign.Nonce
		}, ErrNonce},
		{"wrong PKCE verifier", func(st *State, gotState, code *string, foreign State) {
			st.Verifier = foreign.Verifier
		}, ErrExchange},
		{"no code", func(st *State, gotState, code *string, foreign State) {
			*code = ""
		}, ErrExchange},
		{"forged code", func(st *State, gotState, code *string, foreign State) {
			*code += "x"
		}, ErrExchange},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st, gotState, code := f.authorize(t, f.web)
			_, foreign, err := f.web.Begin(rand.Reader)
			if err != nil {
				t.Fatal(err)
			}
			tt.change(&st, &gotState, &code, foreign)
			id, err := f.web.Finish(t.Context(), st, gotState, code)
			if !errors.Is(err, tt.want) {
				t.Fatalf("Finish = %+v, %v (%s); want %v", id, err, Detail(err), tt.want)
			}
			if err.Error() != tt.want.Error() {
				t.Errorf("message %q carries more than the kind's", err)
			}
			if id != (Identity{}) {
				t.Errorf("refused login returned identity %+v", id)
			}
		})
	}
}

func TestOIDCCodeOfAnotherClient(t *testing.T) {
	f := newOIDCFixture(t)
	st, gotState, code := f.authorize(t, f.other)
	if _, err := f.web.Finish(t.Context(), st, gotState, code); !errors.Is(err, ErrExchange) {
		t.Errorf("Finish with another client's code: err = %v (%s), want ErrExchange", err, Detail(err))
	}
}

func TestOIDCCodeReplay(t *testing.T) {
	f := newOIDCFixture(t)
	st, gotState, code := f.authorize(t, f.web)
	got, err := f.web.Finish(t.Context(), st, gotState, code)
	if err != nil {
		t.Fatalf("first Finish: %v (%s)", err, Detail(err))
	}
	if diff := cmp.Diff(f.wantIdentity(), got); diff != "" {
		t.Errorf("identity (-want +got):\n%s", diff)
	}
	if _, err := f.web.Finish(t.Context(), st, gotState, code); !errors.Is(err, ErrExchange) {
		t.Errorf("replayed code: err = %v (%s), want ErrExchange", err, Detail(err))
	}
}

// TestOIDCIDTokenChecks takes a genuine ID token the provider issued to the
// other client and presents it where it does not belong.
func TestOIDCIDTokenChecks(t *testing.T) {
	f := newOIDCFixture(t)
	ctx := t.Context()
	st, _, code := f.authorize(t, f.other)
	tok, err := f.other.oauth.Exchange(coreoidc.ClientContext(ctx, f.other.client), code, oauth2.VerifierOption(st.Verifier))
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := tok.Extra("id_token").(string)
	if raw == "" {
		t.Fatal("no id_token in the token response")
	}
	late, err := New(ctx, Config{
		Issuer: f.issuer, ClientID: otherClientID, ClientSecret: otherSecret,
		RedirectURL: f.rpURL + "/callback", HTTPClient: f.other.client,
		Clock: func() time.Time { return time.Now().Add(25 * time.Hour) },
	})
	if err != nil {
		t.Fatal(err)
	}
	parts := strings.Split(raw, ".")
	tampered := parts[0] + "." + parts[1] + "." + strings.Repeat("A", len(parts[2]))
	tests := []struct {
		name  string
		o     *Client
		raw   string
		nonce string
		want  error
	}{
		{"its own client accepts it", f.other, raw, st.Nonce, nil},
		{"another audience", f.web, raw, st.Nonce, ErrIDToken},
		{"another login's nonce", f.other, raw, "a-nonce-from-elsewhere", ErrNonce},
		{"empty nonce", f.other, raw, "", ErrNonce},
		{"expired", late, raw, st.Nonce, ErrIDToken},
		{"bad signature", f.other, tampered, st.Nonce, ErrIDToken},
		{"not a JWT", f.other, "not-a-jwt", st.Nonce, ErrIDToken},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, id, err := tt.o.verifyIDToken(ctx, tt.raw, tt.nonce)
			if !errors.Is(err, tt.want) {
				t.Fatalf("verifyIDToken: err = %v (%s), want %v", err, Detail(err), tt.want)
			}
			if err == nil && (id.Subject != "id1" || id.Issuer != f.issuer) {
				t.Errorf("identity = %+v", id)
			}
		})
	}
}

func TestNewOIDCErrors(t *testing.T) {
	f := newOIDCFixture(t)
	ctx := t.Context()
	good := Config{Issuer: f.issuer, ClientID: webClientID, ClientSecret: webClientSecret, RedirectURL: f.rpURL + "/callback", HTTPClient: f.web.client}
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	tests := []struct {
		name   string
		ctx    context.Context
		change func(*Config)
		want   error
	}{
		{"no issuer", ctx, func(c *Config) { c.Issuer = "" }, ErrConfig},
		{"no client id", ctx, func(c *Config) { c.ClientID = "" }, ErrConfig},
		{"no redirect", ctx, func(c *Config) { c.RedirectURL = "" }, ErrConfig},
		{"issuer differs from discovery", ctx, func(c *Config) { c.Issuer += "/" }, ErrDiscovery},
		{"no provider there", ctx, func(c *Config) { c.Issuer = f.rpURL }, ErrDiscovery},
		{"cancelled", cancelled, func(c *Config) {}, ErrDiscovery},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := good
			tt.change(&cfg)
			_, err := New(tt.ctx, cfg)
			if !errors.Is(err, tt.want) {
				t.Errorf("err = %v (%s), want %v", err, Detail(err), tt.want)
			}
		})
	}
	// Scopes: openid is added when missing.
	cfg := good
	cfg.Scopes = []string{"email"}
	o, err := New(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"openid", "email"}, o.oauth.Scopes); diff != "" {
		t.Errorf("scopes (-want +got):\n%s", diff)
	}
}
