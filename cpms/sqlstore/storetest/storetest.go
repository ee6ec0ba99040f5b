// Package storetest is the contract test suite of cpms.Store: every implementation runs it,
// on every database engine it supports, so that they all behave alike.
//
// Beyond what the port's documentation says, the suite fixes these behaviours:
//   - times come back in UTC, truncated to the microsecond;
//   - a list query that finds nothing returns an empty list and no error;
//   - an ERN's thematic areas keep their order and its member centres come back by code, and
//     member centres must exist (else ErrNotFound);
//   - UserFilter with both ERN and Centre selects users holding one grant that matches both;
//   - operations naming a missing thing by key (RevokeRole, DismissAssistant, DeleteSession,
//     TouchSession, SetSessionOnBehalfOf, RevokeToken, TokenUsed, DecideAccessRequest) return
//     ErrNotFound, as do creations that refer to an unknown user;
//   - AppointAssistant is idempotent; TouchSession and TokenUsed never move a time back;
//     RevokeToken keeps the first revocation time;
//   - CreateUser stores the grants in u.Roles with the account; CreateAccessRequest makes a
//     request pending when its status is empty.
package storetest

import (
	"errors"
	"testing"
	"time"

	"github.com/ern-cpms/cpms/cpms"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// Run runs the contract suite. open returns a new, empty store for each subtest; closing it
// when the test ends is open's business.
func Run(t *testing.T, open func(t *testing.T) cpms.Store) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s cpms.Store)
	}{
		{"Ping", testPing},
		{"Network", testNetwork},
		{"NetworkUnknownCentre", testNetworkUnknownCentre},
		{"Users", testUsers},
		{"UserConflicts", testUserConflicts},
		{"UserFilters", testUserFilters},
		{"UpdateUser", testUpdateUser},
		{"UpdateUserConcurrent", testUpdateUserConcurrent},
		{"Grants", testGrants},
		{"RecoveryCodes", testRecoveryCodes},
		{"Assistants", testAssistants},
		{"Sessions", testSessions},
		{"DeleteSessions", testDeleteSessions},
		{"Tokens", testTokens},
		{"AccessRequests", testAccessRequests},
		{"AccessDecisionRace", testAccessDecisionRace},
		{"Audit", testAudit},
		{"AuditConcurrent", testAuditConcurrent},
		{"AuditLarge", testAuditLarge},
		{"Secrets", testSecrets},
		{"SecretsConcurrent", testSecretsConcurrent},
		{"Settings", testSettings},
		{"Patients", testPatients},
		{"PatientSearch", testPatientSearch},
		{"EnrolConcurrent", testEnrolConcurrent},
		{"Transfers", testTransfers},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { tc.fn(t, open(t)) })
	}
}

func testPing(t *testing.T, s cpms.Store) {
	if err := s.Ping(t.Context()); err != nil {
		t.Fatalf("Ping: %v", err)
	}
}

// t0 is the suite's "now". It has microseconds, which every store keeps.
var t0 = time.Date(2026, 3, 2, 9, 0, 0, 123456000, time.UTC)

// cet is a zone other than UTC, for times that the store must bring to UTC.
var cet = time.FixedZone("CET", 3600)

// odd is a time in another zone with nanoseconds: the store keeps it as norm(odd).
func odd(d time.Duration) time.Time { return t0.Add(d).Add(789 * time.Nanosecond).In(cet) }

// norm is how a store gives a time back.
func norm(t time.Time) time.Time { return t.UTC().Truncate(time.Microsecond) }

func normPtr(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	n := norm(*t)
	return &n
}

func ptr[T any](v T) *T { return &v }

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// wantDiff compares what a store returned with what the test expects: nil and empty lists are
// alike, and times compare as instants (time.Time's Equal method).
func wantDiff(t *testing.T, what string, want, got any) {
	t.Helper()
	if d := cmp.Diff(want, got, cmpopts.EquateEmpty()); d != "" {
		t.Errorf("%s: mismatch (-want +got):\n%s", what, d)
	}
}

// wantErr checks that err is (or wraps) target, ErrNotFound or ErrConflict.
func wantErr(t *testing.T, what string, err, target error) {
	t.Helper()
	if !errors.Is(err, target) {
		t.Errorf("%s: err = %v, want %v", what, err, target)
	}
}

// wantUTC checks that times come back in UTC.
func wantUTC(t *testing.T, what string, times ...time.Time) {
	t.Helper()
	for _, tm := range times {
		if tm.Location() != time.UTC {
			t.Errorf("%s: time %v is in %v, want UTC", what, tm, tm.Location())
		}
	}
}

// Fixtures.

func newUser(id, username, name string) cpms.User {
	return cpms.User{ID: id, Username: username, DisplayName: name, Email: username + "@example.org", CreatedAt: t0}
}

func grant(id string, role cpms.Role, ern, centre string, created time.Duration) cpms.RoleGrant {
	return cpms.RoleGrant{ID: id, Role: role, ERN: ern, Centre: centre, CreatedAt: t0.Add(created)}
}

func createUsers(t *testing.T, s cpms.Store, users ...cpms.User) {
	t.Helper()
	for _, u := range users {
		if err := s.CreateUser(t.Context(), u); err != nil {
			t.Fatalf("CreateUser %s: %v", u.Username, err)
		}
	}
}

// usernames lists the usernames of users, in order.
func usernames(users []cpms.User) []string {
	out := []string{}
	for _, u := range users {
		out = append(out, u.Username)
	}
	return out
}
