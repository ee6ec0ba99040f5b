package main

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// chromium finds Debian's Chromium and the npm packages of the browser tests, or skips (fails in CI).
func chromium(t *testing.T) (browser, root string) {
	t.Helper()
	root, _ = filepath.Abs("../..")
	browser = os.Getenv("CPMS_TEST_CHROMIUM")
	if browser == "" {
		browser = "/usr/bin/chromium"
	}
	var missing []string
	if _, err := os.Stat(browser); err != nil {
		missing = append(missing, "Chromium at "+browser)
	}
	if _, err := exec.LookPath("node"); err != nil {
		missing = append(missing, "node")
	}
	if _, err := os.Stat(filepath.Join(root, "node_modules", "playwright-core")); err != nil {
		missing = append(missing, "node_modules/playwright-core (npm ci)")
	}
	if len(missing) > 0 {
		if os.Getenv("CI") == "true" {
			t.Fatalf("CI requires %s", strings.Join(missing, ", "))
		}
		t.Skipf("browser test skipped: no %s", strings.Join(missing, ", "))
	}
	return browser, root
}

// The pages, driven in headless Chromium against the real server, each check on a fresh demo
// network: sign-in, dashboard, user menu and phone layout (shell.mjs); access requests, user
// administration, temporary passwords and the second factor (admin.mjs); the assistant
// capability (assistant.mjs); the audit trail for the deployment's helpdesk (audit.mjs); enrolment
// with consents, the patient list, freezing, the centre tier, the access records of the
// data-protection officer and transfers (patients.mjs); the study a centre's PACS stored for a
// patient, on the patient's page and nowhere else (images.mjs).
func TestBrowser(t *testing.T) {
	browser, root := chromium(t)
	for _, script := range []string{"shell.mjs", "admin.mjs", "assistant.mjs", "audit.mjs", "patients.mjs", "images.mjs"} {
		t.Run(script, func(t *testing.T) {
			s := startServer(t, nil)
			ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
			defer cancel()
			cmd := exec.CommandContext(ctx, "node", filepath.Join(root, "viewer", "e2e", script))
			cmd.Dir = root
			cmd.Env = append(os.Environ(), "BASE_URL="+s.base, "CHROMIUM="+browser)
			if script == "audit.mjs" {
				// The audit trail is for the deployment's helpdesk, which the operator adds.
				const pw = "a long helpdesk passphrase"
				if o, e, code := runCLIInput(t, nil, pw+"\n", "user", "add", "--data", s.data, "--username", "helpdesk1",
					"--display-name", "Deployment Helpdesk", "--role", "Helpdesk", "--password-stdin"); code != 0 {
					t.Fatalf("user add: %s %s", o, e)
				}
				cmd.Env = append(cmd.Env, "CPMS_E2E_HELPDESK_USER=helpdesk1", "CPMS_E2E_HELPDESK_PASSWORD="+pw)
			}
			if script == "images.mjs" {
				// The centre's PACS stores a study of the demo patient Roger Addel (his MRN and its issuer).
				const desc = "Synthetic CT of the chest"
				storeStudy(t, s, lastLine(s.cli(t, "token create", "--centre", "BE10", "--system", "pacs")), desc)
				cmd.Env = append(cmd.Env, "CPMS_E2E_STUDY_DESCRIPTION="+desc)
			}
			out, err := cmd.CombinedOutput()
			if err != nil {
				t.Fatalf("%s: %v\n%s", script, err, out)
			}
			t.Logf("%s", strings.TrimSpace(string(out)))
		})
	}
}
