package storetest

import (
	"testing"
	"time"

	"github.com/ern-cpms/cpms/cpms"
)

func session(id, userID string, created time.Duration) cpms.Session {
	return cpms.Session{ID: id, Hash: "hash-" + id, UserID: userID, Method: "password",
		CreatedAt: t0.Add(created), LastSeenAt: t0.Add(created), ExpiresAt: t0.Add(created + 12*time.Hour),
		Source: "192.0.2.10", UserAgent: "Mozilla/5.0"}
}

func normSession(x cpms.Session) cpms.Session {
	x.CreatedAt, x.LastSeenAt, x.ExpiresAt = norm(x.CreatedAt), norm(x.LastSeenAt), norm(x.ExpiresAt)
	return x
}

func testSessions(t *testing.T, s cpms.Store) {
	ctx := t.Context()
	createUsers(t, s, newUser("u-alice", "alice", "Alice"), newUser("u-bob", "bob", "Bob"))

	s1 := cpms.Session{ID: "s-1", Hash: "hash-1", UserID: "u-alice", OnBehalfOf: "u-bob", Method: "oidc",
		CreatedAt: odd(0), LastSeenAt: odd(time.Minute), ExpiresAt: odd(12 * time.Hour),
		Source: "2001:db8::1", UserAgent: "Firefox"}
	must(t, s.CreateSession(ctx, s1))
	want := normSession(s1)
	got, err := s.SessionByHash(ctx, "hash-1")
	must(t, err)
	wantDiff(t, "SessionByHash", want, got)
	wantUTC(t, "session times", got.CreatedAt, got.LastSeenAt, got.ExpiresAt)
	_, err = s.SessionByHash(ctx, "hash-nope")
	wantErr(t, "SessionByHash of an unknown hash", err, cpms.ErrNotFound)

	for _, tc := range []struct {
		name string
		x    cpms.Session
		want error
	}{
		{"same ID", func() cpms.Session { x := session("s-1", "u-bob", 0); x.Hash = "other"; return x }(), cpms.ErrConflict},
		{"same hash", func() cpms.Session { x := session("s-2", "u-bob", 0); x.Hash = "hash-1"; return x }(), cpms.ErrConflict},
		{"unknown user", session("s-3", "u-nobody", 0), cpms.ErrNotFound},
		{"unknown clinician", func() cpms.Session { x := session("s-4", "u-bob", 0); x.OnBehalfOf = "u-nobody"; return x }(), cpms.ErrNotFound},
	} {
		wantErr(t, "CreateSession with "+tc.name, s.CreateSession(ctx, tc.x), tc.want)
	}

	// Touching records activity and never moves it back.
	later := odd(2 * time.Hour)
	must(t, s.TouchSession(ctx, "s-1", later))
	must(t, s.TouchSession(ctx, "s-1", odd(time.Hour)))
	want.LastSeenAt = norm(later)
	got, err = s.SessionByHash(ctx, "hash-1")
	must(t, err)
	wantDiff(t, "session after touches", want, got)
	wantErr(t, "TouchSession of an unknown session", s.TouchSession(ctx, "s-nope", later), cpms.ErrNotFound)

	// On behalf of: cleared, set, unknown.
	must(t, s.SetSessionOnBehalfOf(ctx, "s-1", ""))
	want.OnBehalfOf = ""
	got, err = s.SessionByHash(ctx, "hash-1")
	must(t, err)
	wantDiff(t, "session acting for nobody", want, got)
	must(t, s.SetSessionOnBehalfOf(ctx, "s-1", "u-bob"))
	want.OnBehalfOf = "u-bob"
	got, err = s.SessionByHash(ctx, "hash-1")
	must(t, err)
	wantDiff(t, "session acting for bob", want, got)
	wantErr(t, "SetSessionOnBehalfOf an unknown session", s.SetSessionOnBehalfOf(ctx, "s-nope", "u-bob"), cpms.ErrNotFound)
	wantErr(t, "SetSessionOnBehalfOf an unknown clinician", s.SetSessionOnBehalfOf(ctx, "s-1", "u-nobody"), cpms.ErrNotFound)

	// UserSessions: by creation time, the user's only.
	s0 := session("s-0", "u-alice", -time.Hour)
	s2 := session("s-2", "u-alice", time.Hour)
	sb := session("s-b", "u-bob", 0)
	for _, x := range []cpms.Session{s2, sb, s0} {
		must(t, s.CreateSession(ctx, x))
	}
	list, err := s.UserSessions(ctx, "u-alice")
	must(t, err)
	wantDiff(t, "UserSessions", []cpms.Session{normSession(s0), want, normSession(s2)}, list)
	list, err = s.UserSessions(ctx, "u-nobody")
	if err != nil || len(list) != 0 {
		t.Errorf("UserSessions of an unknown user = %v, %v", list, err)
	}

	must(t, s.DeleteSession(ctx, "s-1"))
	wantErr(t, "DeleteSession again", s.DeleteSession(ctx, "s-1"), cpms.ErrNotFound)
	_, err = s.SessionByHash(ctx, "hash-1")
	wantErr(t, "SessionByHash of a deleted session", err, cpms.ErrNotFound)
	list, err = s.UserSessions(ctx, "u-alice")
	must(t, err)
	wantDiff(t, "UserSessions after a deletion", []cpms.Session{normSession(s0), normSession(s2)}, list)
}

func testDeleteSessions(t *testing.T, s cpms.Store) {
	ctx := t.Context()
	createUsers(t, s, newUser("u-alice", "alice", "Alice"), newUser("u-bob", "bob", "Bob"))
	for _, x := range []cpms.Session{session("a1", "u-alice", 0), session("a2", "u-alice", time.Minute), session("b1", "u-bob", 0)} {
		must(t, s.CreateSession(ctx, x))
	}
	n, err := s.DeleteUserSessions(ctx, "u-alice")
	if err != nil || n != 2 {
		t.Errorf("DeleteUserSessions = %d, %v; want 2", n, err)
	}
	n, err = s.DeleteUserSessions(ctx, "u-alice")
	if err != nil || n != 0 {
		t.Errorf("DeleteUserSessions again = %d, %v; want 0", n, err)
	}
	if list, err := s.UserSessions(ctx, "u-bob"); err != nil || len(list) != 1 {
		t.Errorf("bob's sessions after deleting alice's = %d, %v; want 1", len(list), err)
	}

	// Expiry: the absolute end and the idle limit, each strictly before its bound.
	cutoff, idle := t0.Add(24*time.Hour), t0.Add(20*time.Hour)
	mk := func(id string, created time.Duration, lastSeen, expires time.Time) cpms.Session {
		x := session(id, "u-alice", created)
		x.LastSeenAt, x.ExpiresAt = lastSeen, expires
		return x
	}
	sessions := []cpms.Session{
		mk("ended", 1*time.Minute, cutoff.Add(-time.Microsecond), cutoff.Add(-time.Microsecond)),
		mk("ends-at-cutoff", 2*time.Minute, cutoff, cutoff),
		mk("idle", 3*time.Minute, idle.Add(-time.Microsecond), cutoff.Add(time.Hour)),
		mk("seen-at-idle-bound", 4*time.Minute, idle, cutoff.Add(time.Hour)),
		mk("active", 5*time.Minute, cutoff, cutoff.Add(time.Hour)),
	}
	for _, x := range sessions {
		must(t, s.CreateSession(ctx, x))
	}
	n, err = s.DeleteExpiredSessions(ctx, cutoff, idle)
	if err != nil || n != 3 { // ended, idle, and bob's b1 (idle since t0)
		t.Errorf("DeleteExpiredSessions = %d, %v; want 3", n, err)
	}
	list, err := s.UserSessions(ctx, "u-alice")
	must(t, err)
	wantDiff(t, "sessions left after expiry", []cpms.Session{normSession(sessions[1]), normSession(sessions[3]), normSession(sessions[4])}, list)
	if list, err := s.UserSessions(ctx, "u-bob"); err != nil || len(list) != 0 {
		t.Errorf("bob's idle session after expiry: %d left, %v", len(list), err)
	}
}

func testTokens(t *testing.T, s cpms.Store) {
	ctx := t.Context()
	createUsers(t, s, newUser("u-alice", "alice", "Alice"), newUser("u-bob", "bob", "Bob"))
	exp := odd(30 * 24 * time.Hour)
	personal := cpms.Token{ID: "t-1", Hash: "th-1", Name: "laptop", UserID: "u-alice", CreatedAt: odd(time.Second), ExpiresAt: &exp}
	system := cpms.Token{ID: "t-2", Hash: "th-2", Name: "PACS", Centre: "BE10", System: cpms.SystemPACS, CreatedAt: odd(2 * time.Second)}
	his := cpms.Token{ID: "t-0", Hash: "th-0", Name: "HIS", Centre: "BE10", System: cpms.SystemHIS, CreatedAt: odd(3 * time.Second)}
	bobs := cpms.Token{ID: "t-3", Hash: "th-3", Name: "script", UserID: "u-bob", CreatedAt: odd(0)}
	for _, tk := range []cpms.Token{personal, system, his, bobs} {
		must(t, s.CreateToken(ctx, tk))
	}
	norms := func(list ...cpms.Token) []cpms.Token {
		out := make([]cpms.Token, len(list))
		for i, tk := range list {
			tk.CreatedAt = norm(tk.CreatedAt)
			tk.ExpiresAt, tk.RevokedAt, tk.LastUsedAt = normPtr(tk.ExpiresAt), normPtr(tk.RevokedAt), normPtr(tk.LastUsedAt)
			out[i] = tk
		}
		return out
	}
	wantPersonal := norms(personal)[0]

	got, err := s.TokenByHash(ctx, "th-1")
	must(t, err)
	wantDiff(t, "TokenByHash", wantPersonal, got)
	wantUTC(t, "token times", got.CreatedAt, *got.ExpiresAt)
	got, err = s.Token(ctx, "t-2")
	must(t, err)
	wantDiff(t, "Token", norms(system)[0], got)
	_, err = s.TokenByHash(ctx, "th-nope")
	wantErr(t, "TokenByHash of an unknown hash", err, cpms.ErrNotFound)
	_, err = s.Token(ctx, "t-nope")
	wantErr(t, "Token of an unknown ID", err, cpms.ErrNotFound)

	for _, tc := range []struct {
		name string
		tk   cpms.Token
		want error
	}{
		{"same ID", cpms.Token{ID: "t-1", Hash: "th-9", Name: "x", UserID: "u-bob", CreatedAt: t0}, cpms.ErrConflict},
		{"same hash", cpms.Token{ID: "t-9", Hash: "th-1", Name: "x", UserID: "u-bob", CreatedAt: t0}, cpms.ErrConflict},
		{"unknown user", cpms.Token{ID: "t-9", Hash: "th-9", Name: "x", UserID: "u-nobody", CreatedAt: t0}, cpms.ErrNotFound},
	} {
		wantErr(t, "CreateToken with "+tc.name, s.CreateToken(ctx, tc.tk), tc.want)
	}

	for _, tc := range []struct {
		name string
		f    cpms.TokenFilter
		want []cpms.Token
	}{
		{"all, by creation time", cpms.TokenFilter{}, norms(bobs, personal, system, his)},
		{"a user's", cpms.TokenFilter{UserID: "u-alice"}, norms(personal)},
		{"a centre's", cpms.TokenFilter{Centre: "BE10"}, norms(system, his)},
		{"user and centre", cpms.TokenFilter{UserID: "u-alice", Centre: "BE10"}, nil},
		{"unknown user", cpms.TokenFilter{UserID: "u-nobody"}, nil},
	} {
		list, err := s.Tokens(ctx, tc.f)
		if err != nil {
			t.Errorf("Tokens(%s): %v", tc.name, err)
			continue
		}
		wantDiff(t, "Tokens("+tc.name+")", tc.want, list)
	}

	// Revocation is idempotent and keeps the first time.
	rev := odd(time.Hour)
	must(t, s.RevokeToken(ctx, "t-1", rev))
	must(t, s.RevokeToken(ctx, "t-1", odd(2*time.Hour)))
	wantErr(t, "RevokeToken of an unknown token", s.RevokeToken(ctx, "t-nope", rev), cpms.ErrNotFound)
	wantPersonal.RevokedAt = ptr(norm(rev))

	// The last use only moves forward.
	used := odd(3 * time.Hour)
	must(t, s.TokenUsed(ctx, "t-1", used))
	must(t, s.TokenUsed(ctx, "t-1", odd(time.Minute)))
	wantErr(t, "TokenUsed of an unknown token", s.TokenUsed(ctx, "t-nope", used), cpms.ErrNotFound)
	wantPersonal.LastUsedAt = ptr(norm(used))

	got, err = s.TokenByHash(ctx, "th-1")
	must(t, err)
	wantDiff(t, "token after revocation and use", wantPersonal, got)
	if got.Usable(t0) {
		t.Error("a revoked token is usable")
	}
	got, err = s.Token(ctx, "t-3")
	must(t, err)
	wantDiff(t, "another token, untouched", norms(bobs)[0], got)
}
