package cpmshttp_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/zitadel/oidc/v3/example/server/exampleop"
	"github.com/zitadel/oidc/v3/example/server/storage"

	"github.com/ern-cpms/cpms/cpms"
	"github.com/ern-cpms/cpms/cpms/cpmshttp"
	"github.com/ern-cpms/cpms/cpms/cpmstest"
	"github.com/ern-cpms/cpms/cpms/sqlstore"
	"github.com/ern-cpms/cpms/internal/auth/oidc"
	"github.com/ern-cpms/cpms/internal/sqldb/sqldbtest"
)

var loginFormID = regexp.MustCompile(`<input type="hidden" name="id" value="([^"]+)">`)

// Sign-in through a real OpenID provider (the zitadel/oidc library's example provider, on
// loopback) reaches the API's callback, which creates an account without roles the first time,
// opens a session, and finds the same account the next time.
func TestOIDCSignInThroughTheAPI(t *testing.T) {
	ctx := context.Background()
	apiSrv := httptest.NewUnstartedServer(nil)
	opSrv := httptest.NewUnstartedServer(nil)
	issuer := "http://" + opSrv.Listener.Addr().String()
	base := "http://" + apiSrv.Listener.Addr().String()
	users := storage.NewUserStore(issuer)
	username := users.GetUserByID("id1").Username
	opStore := storage.NewStorageWithClients(users, map[string]*storage.Client{
		"cpms": storage.WebClient("cpms", "cpms-secret", base+"/api/auth/oidc/callback"),
	})
	opSrv.Config.Handler = exampleop.SetupServer(issuer, opStore, nil, false)
	opSrv.Start()
	defer opSrv.Close()

	st, err := sqlstore.New(ctx, sqlstore.Config{DB: sqldbtest.OpenSQLite(t)})
	if err != nil {
		t.Fatal(err)
	}
	aud := cpms.NewAuditor(cpms.AuditorConfig{Store: st})
	defer aud.Close()
	svc, err := cpms.NewService(cpms.Config{Store: st, Auditor: aud, Password: cpmstest.CheapPassword})
	if err != nil {
		t.Fatal(err)
	}
	client, err := oidc.New(ctx, oidc.Config{Issuer: issuer, ClientID: "cpms", ClientSecret: "cpms-secret",
		RedirectURL: base + "/api/auth/oidc/callback"})
	if err != nil {
		t.Fatalf("%v (%s)", err, oidc.Detail(err))
	}
	authn := &cpmshttp.Authenticator{Service: svc}
	api, err := cpmshttp.New(cpmshttp.Config{Service: svc, Auth: authn, OIDC: &cpmshttp.OIDCLogin{Client: client, Label: "test IdP"}})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("/api/", api)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "home") })
	apiSrv.Config.Handler = cpmshttp.Observe(slogDiscard(), nil, authn.Wrap(mux))
	apiSrv.Start()
	defer apiSrv.Close()

	signIn := func() map[string]any {
		jar, _ := cookiejar.New(nil)
		c := &http.Client{Jar: jar, Timeout: 30 * time.Second}
		resp, err := c.Get(base + "/api/auth/oidc")
		if err != nil {
			t.Fatal(err)
		}
		page, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		m := loginFormID.FindSubmatch(page)
		if m == nil || !strings.HasPrefix(resp.Request.URL.String(), issuer) {
			t.Fatalf("no provider login form at %s: %s", resp.Request.URL, page)
		}
		resp, err = c.PostForm(issuer+"/login/username", url.Values{"id": {string(m[1])}, "username": {username}, "password": {"verysecure"}})
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || resp.Request.URL.String() != base+"/" {
			t.Fatalf("sign-in ended at %s with %d: %s", resp.Request.URL, resp.StatusCode, body)
		}
		resp, err = c.Get(base + "/api/me")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var me map[string]any
		json.NewDecoder(resp.Body).Decode(&me)
		if resp.StatusCode != 200 {
			t.Fatalf("/api/me after OIDC sign-in: %d %v", resp.StatusCode, me)
		}
		return me
	}
	resp, err := http.Get(base + "/api/auth/methods")
	if err != nil {
		t.Fatal(err)
	}
	var methods struct {
		OIDC *struct{ Label, URL string } `json:"oidc"`
	}
	json.NewDecoder(resp.Body).Decode(&methods)
	resp.Body.Close()
	if methods.OIDC == nil || methods.OIDC.Label != "test IdP" || methods.OIDC.URL != "/api/auth/oidc" {
		t.Errorf("/api/auth/methods = %+v", methods.OIDC)
	}
	first := signIn()
	if first["email"] != "test-user@zitadel.ch" || first["displayName"] != "Test User" || len(first["roles"].([]any)) != 0 || first["mustEnrolTotp"] != false {
		t.Errorf("first sign-in: %v", first)
	}
	second := signIn()
	if second["id"] != first["id"] {
		t.Errorf("second sign-in made another account: %v vs %v", second["id"], first["id"])
	}

	// A callback without the state cookie is refused.
	resp, err = http.Get(base + "/api/auth/oidc/callback?code=x&state=y")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 401 {
		t.Errorf("forged callback: %d, want 401", resp.StatusCode)
	}
}
