package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ern-cpms/cpms/internal/sqldb/sqldbtest"
)

// runCLI runs a command in-process, as the binary would, and returns its output.
func runCLI(t *testing.T, env map[string]string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	return runCLIInput(t, env, "", args...)
}

// runCLIInput is runCLI with standard input.
func runCLIInput(t *testing.T, env map[string]string, stdin string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	var o, e bytes.Buffer
	code = run(context.Background(), args, func(k string) string { return env[k] }, strings.NewReader(stdin), &o, &e)
	return o.String(), e.String(), code
}

func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// server is a `cpms serve` running in-process on a free port.
type server struct {
	base   string
	data   string
	env    map[string]string
	client *http.Client
}

// startServer starts `cpms serve --demo` with env and waits for /healthz (which answers only
// once the demo network is seeded). It stops the server when the test ends.
func startServer(t *testing.T, env map[string]string, extra ...string) *server {
	t.Helper()
	if env == nil {
		env = map[string]string{}
	}
	data := t.TempDir()
	addr := freeAddr(t)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int, 1)
	var out, errs bytes.Buffer
	args := append([]string{"serve", "--addr", addr, "--data", data, "--demo", "--log-level", "warn"}, extra...)
	go func() { done <- run(ctx, args, func(k string) string { return env[k] }, nil, &out, &errs) }()
	t.Cleanup(func() {
		cancel()
		select {
		case code := <-done:
			if code != 0 {
				t.Errorf("serve exited with %d: %s", code, errs.String())
			}
		case <-time.After(30 * time.Second):
			t.Error("serve did not shut down within 30 s")
		}
	})
	s := &server{base: "http://" + addr, data: data, env: env, client: http.DefaultClient}
	if slices.Contains(extra, "--tls-cert") {
		// The development certificate is self-signed: trust it for this client only.
		pem, err := os.ReadFile(extra[slices.Index(extra, "--tls-cert")+1])
		if err != nil {
			t.Fatal(err)
		}
		pool := x509.NewCertPool()
		pool.AppendCertsFromPEM(pem)
		s.base = "https://" + addr
		s.client = &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	}
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case code := <-done:
			t.Fatalf("serve exited with %d: %s", code, errs.String())
		default:
		}
		if resp, err := s.client.Get(s.base + "/healthz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return s
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatal("no /healthz within 60 s")
	return nil
}

// cli runs a command against the server's data while the server runs: cmd names the command
// and subcommand ("token create"), args its flags.
func (s *server) cli(t *testing.T, cmd string, args ...string) string {
	t.Helper()
	full := append(strings.Fields(cmd), append([]string{"--data", s.data}, args...)...)
	o, e, code := runCLI(t, s.env, full...)
	if code != 0 {
		t.Fatalf("cpms %s: exit %d: %s", strings.Join(full, " "), code, e)
	}
	return o
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return strings.TrimSpace(lines[len(lines)-1])
}

func getJSON(t *testing.T, c *http.Client, req *http.Request, wantStatus int, v any) {
	t.Helper()
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != wantStatus {
		t.Fatalf("%s %s: status %d, want %d: %s", req.Method, req.URL.Path, resp.StatusCode, wantStatus, body)
	}
	if v != nil {
		if err := json.Unmarshal(body, v); err != nil {
			t.Fatalf("%s %s: %v: %s", req.Method, req.URL.Path, err, body)
		}
	}
}

func newReq(t *testing.T, method, url string, body any) *http.Request {
	t.Helper()
	var r io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		r = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, url, r)
	if err != nil {
		t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	return req
}

// backends lists the storage configurations to run the server on: the embedded default always,
// PostgreSQL + S3 when the tests are given them (always in CI).
func backends(t *testing.T) map[string]map[string]string {
	out := map[string]map[string]string{"embedded": {}}
	pg := sqldbtest.Postgres(t)
	s3 := os.Getenv("CPMS_TEST_S3_URL")
	if s3 == "" && os.Getenv("CI") == "true" {
		t.Fatal("CI requires CPMS_TEST_S3_URL")
	}
	if pg != nil && s3 != "" {
		out["postgres+s3"] = map[string]string{"CPMS_DATABASE_URL": pg.URL(t), "CPMS_BLOB_URL": withBucket(s3, "srv"+fmt.Sprint(time.Now().UnixNano()%1e9))}
	} else if s3 == "" {
		t.Log("server on PostgreSQL + S3 skipped: CPMS_TEST_S3_URL is not set")
	}
	return out
}

// withBucket replaces the bucket of an s3:// URL.
func withBucket(u, bucket string) string {
	scheme, rest, _ := strings.Cut(u, "://")
	hostPart, query, _ := strings.Cut(rest, "?")
	host, _, _ := strings.Cut(hostPart, "/")
	out := scheme + "://" + host + "/" + bucket
	if query != "" {
		out += "?" + query
	}
	return out
}

// The spine end to end: demo server, tokens from the CLI while it runs, sessions with CSRF,
// administration, access requests, metrics, readiness and the audit trail.
func TestServerEndToEnd(t *testing.T) {
	for name, env := range backends(t) {
		t.Run(name, func(t *testing.T) {
			s := startServer(t, env)
			c := &http.Client{Timeout: 20 * time.Second}

			getJSON(t, c, newReq(t, "GET", s.base+"/readyz", nil), 200, nil)
			resp, err := c.Get(s.base + "/metrics")
			if err != nil {
				t.Fatal(err)
			}
			m, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if !bytes.Contains(m, []byte("go_goroutines")) || !bytes.Contains(m, []byte("cpms_http_requests_total")) {
				t.Errorf("/metrics lacks the Go collector or the HTTP metrics")
			}

			// Tokens created by the CLI while the server runs.
			tok := lastLine(s.cli(t, "token create", "--user", "bloodnethpuser1"))
			var me map[string]any
			req := newReq(t, "GET", s.base+"/api/me", nil)
			req.Header.Set("Authorization", "Bearer "+tok)
			getJSON(t, c, req, 200, &me)
			if me["username"] != "bloodnethpuser1" || !strings.Contains(fmt.Sprint(me["roles"]), "BE10") {
				t.Errorf("/api/me with a token = %v", me)
			}
			req = newReq(t, "GET", s.base+"/api/me", nil)
			req.Header.Set("Authorization", "Bearer cpms_pat_nonsense")
			getJSON(t, c, req, 401, nil)
			sys := lastLine(s.cli(t, "token create", "--centre", "BE10", "--system", "pacs"))
			req = newReq(t, "GET", s.base+"/api/me", nil)
			req.Header.Set("Authorization", "Bearer "+sys)
			getJSON(t, c, req, 200, &me)
			if me["system"] != "pacs" || me["centre"] != "BE10" {
				t.Errorf("/api/me with a system token = %v", me)
			}

			// A session: login, CSRF on unsafe requests, logout.
			jar, _ := cookiejar.New(nil)
			admin := &http.Client{Jar: jar, Timeout: 20 * time.Second}
			var login struct {
				CSRFToken string `json:"csrfToken"`
			}
			getJSON(t, admin, newReq(t, "POST", s.base+"/api/login", map[string]string{"username": "bloodnetadmin", "password": "wrong"}), 401, nil)
			getJSON(t, admin, newReq(t, "POST", s.base+"/api/login", map[string]string{"username": "bloodnetadmin", "password": "cpms-demo"}), 200, &login)
			if login.CSRFToken == "" {
				t.Fatal("login gave no CSRF token")
			}
			newUser := map[string]any{"username": "newclinician", "displayName": "New Clinician",
				"roles": []map[string]string{{"role": "HP", "ern": "EuroBloodNet", "centre": "CZ08"}}}
			getJSON(t, admin, newReq(t, "POST", s.base+"/api/admin/users", newUser), 403, nil) // no CSRF token
			req = newReq(t, "POST", s.base+"/api/admin/users", newUser)
			req.Header.Set("X-CSRF-Token", login.CSRFToken)
			var created struct {
				User              map[string]any `json:"user"`
				TemporaryPassword string         `json:"temporaryPassword"`
			}
			getJSON(t, admin, req, 201, &created)
			if created.TemporaryPassword == "" {
				t.Error("no temporary password for a new user")
			}

			// The new user asks for a second profile; the coordinator approves it.
			jar2, _ := cookiejar.New(nil)
			nc := &http.Client{Jar: jar2, Timeout: 20 * time.Second}
			getJSON(t, nc, newReq(t, "POST", s.base+"/api/login", map[string]string{"username": "newclinician", "password": created.TemporaryPassword}), 200, &login)
			// The temporary password allows nothing but changing it.
			req = newReq(t, "POST", s.base+"/api/access-requests", map[string]string{"ern": "ITHACA", "centre": "FR08", "role": "HP"})
			req.Header.Set("X-CSRF-Token", login.CSRFToken)
			getJSON(t, nc, req, 403, nil)
			req = newReq(t, "POST", s.base+"/api/account/password", map[string]string{"current": created.TemporaryPassword, "new": "correct horse battery staple"})
			req.Header.Set("X-CSRF-Token", login.CSRFToken)
			getJSON(t, nc, req, 204, nil)
			req = newReq(t, "POST", s.base+"/api/access-requests", map[string]string{"ern": "ITHACA", "centre": "FR08", "role": "HP", "comment": "joining the ITHACA team"})
			req.Header.Set("X-CSRF-Token", login.CSRFToken)
			var ar map[string]any
			getJSON(t, nc, req, 201, &ar)

			// EuroBloodNet's coordinator may not decide an ITHACA request.
			jar3, _ := cookiejar.New(nil)
			coord := &http.Client{Jar: jar3, Timeout: 20 * time.Second}
			getJSON(t, coord, newReq(t, "POST", s.base+"/api/login", map[string]string{"username": "bloodnetcoord", "password": "cpms-demo"}), 200, &login)
			req = newReq(t, "POST", s.base+"/api/access-requests/"+fmt.Sprint(ar["id"])+"/approve", map[string]string{"comment": "welcome"})
			req.Header.Set("X-CSRF-Token", login.CSRFToken)
			getJSON(t, coord, req, 403, nil)

			// The operator approves from the CLI's point of view: grant directly, then check /api/me.
			s.cli(t, "user grant", "--username", "newclinician", "--role", "HP", "--ern", "ITHACA", "--centre", "FR08")
			getJSON(t, nc, newReq(t, "GET", s.base+"/api/me", nil), 200, &me)
			if !strings.Contains(fmt.Sprint(me["roles"]), "ITHACA") {
				t.Errorf("granted role not visible: %v", me["roles"])
			}

			// A deployment-wide helpdesk, added from the command line, reads the audit trail.
			o, e, code := runCLIInput(t, s.env, "a long helpdesk passphrase\n", "user", "add", "--data", s.data, "--username", "helpdesk1",
				"--display-name", "Deployment Helpdesk", "--role", "Helpdesk", "--password-stdin")
			if code != 0 {
				t.Fatalf("user add: %s %s", o, e)
			}
			jar4, _ := cookiejar.New(nil)
			hd := &http.Client{Jar: jar4, Timeout: 20 * time.Second}
			getJSON(t, hd, newReq(t, "POST", s.base+"/api/login", map[string]string{"username": "helpdesk1", "password": "a long helpdesk passphrase"}), 200, &login)
			var events []map[string]any
			getJSON(t, hd, newReq(t, "GET", s.base+"/api/audit?actor=bloodnetcoord&limit=50", nil), 200, &events)
			if len(events) == 0 || !strings.Contains(fmt.Sprint(events), "denied.access.decide") {
				t.Errorf("the coordinator's refused decision is not in the audit trail: %v", events)
			}

			out := s.cli(t, "audit verify")
			if !strings.Contains(out, "intact") {
				t.Errorf("audit verify: %s", out)
			}
		})
	}
}

// Every command answers --help, and a bad configuration gets a clear message.
func TestCommandsHelpAndValidation(t *testing.T) {
	for _, c := range commands() {
		o, e, code := runCLI(t, nil, c.name, "--help")
		if code != 0 || !strings.Contains(o, "usage: cpms "+c.name) {
			t.Errorf("cpms %s --help: exit %d, out %q, err %q", c.name, code, o, e)
		}
	}
	for _, sub := range [][]string{{"user", "add"}, {"user", "list"}, {"token", "create"}, {"token", "revoke"}, {"audit", "verify"}, {"cert", "dev"}} {
		o, _, code := runCLI(t, nil, append(sub, "--help")...)
		if code != 0 || !strings.Contains(o, "usage: cpms "+sub[0]) {
			t.Errorf("cpms %s --help: exit %d, out %q", strings.Join(sub, " "), code, o)
		}
	}
	cases := []struct {
		env  map[string]string
		args []string
		want string
	}{
		{nil, []string{"serve", "--addr", "nonsense"}, "is not host:port"},
		{nil, []string{"serve", "--tls-cert", "x.pem"}, "go together"},
		{map[string]string{"CPMS_DATABASE_URL": "mysql://x"}, []string{"serve"}, "must start with postgres://"},
		{map[string]string{"CPMS_DEMO": "maybe"}, []string{"serve"}, "CPMS_DEMO"},
		{map[string]string{"CPMS_BLOB_URL": "ftp://x"}, []string{"migrate"}, "CPMS_BLOB_URL"},
		{nil, []string{"serve", "--oidc-issuer", "https://idp.example"}, "together"},
		{nil, []string{"token", "create"}, "either --user or --centre"},
		{nil, []string{"nonsense"}, "unknown command"},
	}
	for _, tc := range cases {
		_, e, code := runCLI(t, tc.env, tc.args...)
		if code != 2 || !strings.Contains(e, tc.want) {
			t.Errorf("cpms %v with %v: exit %d, stderr %q; want exit 2 mentioning %q", tc.args, tc.env, code, e, tc.want)
		}
	}
}

func TestCertDevServesHTTPS(t *testing.T) {
	dir := t.TempDir()
	if _, e, code := runCLI(t, nil, "cert", "dev", "--out", dir); code != 0 {
		t.Fatalf("cert dev: %s", e)
	}
	s := startServer(t, nil, "--tls-cert", filepath.Join(dir, "cert.pem"), "--tls-key", filepath.Join(dir, "key.pem"))
	resp, err := s.client.Post(s.base+"/api/login", "application/json", strings.NewReader(`{"username":"bloodnethpuser1","password":"cpms-demo"}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 || resp.TLS == nil {
		t.Fatalf("login over HTTPS: %d (TLS %v)", resp.StatusCode, resp.TLS != nil)
	}
	var c *http.Cookie
	for _, ck := range resp.Cookies() {
		c = ck
	}
	if c == nil || c.Name != "__Host-cpms_session" || !c.Secure || !c.HttpOnly || c.SameSite != http.SameSiteLaxMode {
		t.Errorf("session cookie over HTTPS = %+v; want __Host- prefixed, Secure, HttpOnly, SameSite=Lax", c)
	}
	if got := resp.Header.Get("Strict-Transport-Security"); !strings.HasPrefix(got, "max-age=") {
		t.Errorf("Strict-Transport-Security = %q over HTTPS", got)
	}
	if got := resp.Header.Get("X-Content-Type-Options"); got != "nosniff" {
		t.Errorf("X-Content-Type-Options = %q", got)
	}
}
