package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/cookiejar"
	"os"
	"os/exec"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/ern-cpms/cpms/internal/sqldb"
)

// TestMain lets a test start this test binary as the cpms command, in a process of its own that
// it can kill.
func TestMain(m *testing.M) {
	if args := os.Getenv("CPMS_TEST_AS_MAIN"); args != "" {
		var a []string
		if err := json.Unmarshal([]byte(args), &a); err != nil {
			panic(err)
		}
		main2(a)
		return
	}
	os.Exit(m.Run())
}

func main2(args []string) {
	os.Args = append([]string{"cpms"}, args...)
	main()
}

// startProcess runs `cpms serve --demo` in a child process and waits for /healthz.
func startProcess(t *testing.T, data, addr string) *exec.Cmd {
	t.Helper()
	args, _ := json.Marshal([]string{"serve", "--demo", "--addr", addr, "--data", data, "--log-level", "error"})
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "CPMS_TEST_AS_MAIN="+string(args))
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	for i := 0; i < 600; i++ {
		if resp, err := http.Get("http://" + addr + "/healthz"); err == nil {
			resp.Body.Close()
			return cmd
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatal("child server did not answer /healthz")
	return nil
}

// Killing the server with SIGKILL in the middle of writes leaves no half-written row: after a
// restart, every acknowledged account exists with its role, no account lacks the role it was
// created with, the database is intact and the audit chain verifies.
func TestSIGKILLDuringWrites(t *testing.T) {
	if testing.Short() {
		t.Skip("starts and kills server processes")
	}
	data := t.TempDir()
	addr := freeAddr(t)
	base := "http://" + addr
	cmd := startProcess(t, data, addr)

	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, Timeout: 10 * time.Second}
	var login struct {
		CSRFToken string `json:"csrfToken"`
	}
	getJSON(t, c, newReq(t, "POST", base+"/api/login", map[string]string{"username": "bloodnetadmin", "password": "cpms-demo"}), 200, &login)

	var (
		acked   sync.Map // username → true once the server answered 201
		n       atomic.Int64
		stop    atomic.Bool
		wg      sync.WaitGroup
		created atomic.Int64
	)
	for w := 0; w < 6; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for !stop.Load() {
				name := fmt.Sprintf("crash-%04d", n.Add(1))
				req := newReq(t, "POST", base+"/api/admin/users", map[string]any{"username": name, "displayName": "Crash Test " + name,
					"roles": []map[string]string{{"role": "HP", "ern": "EuroBloodNet", "centre": "CZ08"}}})
				req.Header.Set("X-CSRF-Token", login.CSRFToken)
				resp, err := c.Do(req)
				if err != nil {
					continue // the server is gone
				}
				resp.Body.Close()
				if resp.StatusCode == http.StatusCreated {
					acked.Store(name, true)
					created.Add(1)
				}
			}
		}()
	}
	// Let writes run, then kill in the middle of them.
	deadline := time.Now().Add(10 * time.Second)
	for created.Load() < 15 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	cmd.Wait()
	stop.Store(true)
	wg.Wait()
	if created.Load() == 0 {
		t.Fatal("no write was acknowledged before the kill")
	}

	// Restart on the same data.
	addr2 := freeAddr(t)
	startProcess(t, data, addr2)

	db, err := sqldb.Open(context.Background(), sqldb.Config{DataDir: data})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var check string
	if err := db.QueryRow(context.Background(), "PRAGMA integrity_check").Scan(&check); err != nil || check != "ok" {
		t.Fatalf("integrity_check = %q, %v", check, err)
	}
	rows, err := db.Query(context.Background(), `SELECT u.username, COUNT(g.id) FROM users u LEFT JOIN role_grants g ON g.user_id = u.id
		WHERE u.username LIKE 'crash-%' GROUP BY u.username`)
	if err != nil {
		t.Fatal(err)
	}
	stored := map[string]int{}
	for rows.Next() {
		var name string
		var roles int
		if err := rows.Scan(&name, &roles); err != nil {
			t.Fatal(err)
		}
		stored[name] = roles
	}
	rows.Close()
	for name, roles := range stored {
		if roles != 1 {
			t.Errorf("%s has %d roles after the crash, want 1 (a half-done creation is visible)", name, roles)
		}
	}
	missing := 0
	acked.Range(func(k, _ any) bool {
		if _, ok := stored[k.(string)]; !ok {
			missing++
			t.Errorf("%s was acknowledged but is gone after the crash", k)
		}
		return true
	})
	out, errOut, code := runCLI(t, nil, "audit", "verify", "--data", data)
	if code != 0 || !strings.Contains(out, "intact") {
		t.Fatalf("audit verify after the crash: %s %s", out, errOut)
	}
	t.Logf("%d accounts acknowledged before SIGKILL, %d stored, %d lost; %s", created.Load(), len(stored), missing, strings.TrimSpace(out))
}
