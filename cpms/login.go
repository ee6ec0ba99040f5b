package cpms

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"errors"
	"strings"
	"time"

	"github.com/ern-cpms/cpms/internal/auth"
)

// Token prefixes tell credentials apart at a glance (and let secret scanners find them).
const (
	prefixSession = auth.PrefixSession
	prefixUser    = auth.PrefixPersonal
	prefixSystem  = auth.PrefixSystem
)

// LoginRequest is a password sign-in.
type LoginRequest struct {
	Username string
	Password string
	TOTP     string // a TOTP code or a recovery code; required once the user has enrolled TOTP
	RequestInfo
}

// LoginResult is a new session: Cookie is its secret value, shown to the browser only.
type LoginResult struct {
	Cookie  string
	Session Session
	User    User
}

// Login errors. Their messages are what the user sees; they do not say whether the username exists.
var (
	errBadCredentials = func() error {
		return Errorf(KindUnauthenticated, "wrong username or password").WithCode("invalid_credentials")
	}
	errTOTPRequired = func() error {
		return Errorf(KindUnauthenticated, "enter the code from your authenticator app").WithCode("totp_required")
	}
)

// Login checks a username, password and second factor and opens a session.
func (s *Service) Login(ctx context.Context, req LoginRequest) (LoginResult, error) {
	now := s.Now()
	uname := strings.ToLower(strings.TrimSpace(req.Username))
	fail := func(u *User, detail string, err error) (LoginResult, error) {
		e := AuditEvent{Action: "login", Outcome: OutcomeMinorFailure, Actor: uname, ObjectType: "user", Detail: detail}
		if u != nil {
			e.ActorID, e.ObjectID = u.ID, u.ID
		}
		if aerr := s.audit(ctx, nil, req.RequestInfo, e); aerr != nil {
			return LoginResult{}, aerr
		}
		return LoginResult{}, err
	}
	u, err := s.store.UserByUsername(ctx, uname)
	if errors.Is(err, ErrNotFound) || (err == nil && u.PasswordHash == "") {
		auth.VerifyPassword(s.dummyHash, req.Password) // same cost as a real check
		return fail(nil, "unknown user or no password", errBadCredentials())
	}
	if err != nil {
		return LoginResult{}, s.storeErr(err, "sign in")
	}
	if u.LockedUntil.After(now) {
		return fail(&u, "locked", Errorf(KindUnauthenticated, "too many failed attempts: the account is locked until %s UTC",
			u.LockedUntil.Format("2006-01-02 15:04")).WithCode("locked"))
	}
	ok, rehash, err := auth.VerifyPasswordParams(u.PasswordHash, req.Password, s.cfg.Password)
	if err != nil {
		s.log.Error("stored password hash unreadable", "user", u.ID, "err", err)
	}
	if !ok || u.Disabled {
		if !u.Disabled {
			s.countFailure(ctx, u.ID, now)
		}
		return fail(&u, "bad password or disabled", errBadCredentials())
	}
	method := "password"
	if u.TOTPEnabled {
		code := strings.TrimSpace(req.TOTP)
		if code == "" {
			return LoginResult{}, errTOTPRequired()
		}
		ok, err := s.checkSecondFactor(ctx, &u, code, now, req.RequestInfo)
		if err != nil {
			return LoginResult{}, err
		}
		if !ok {
			s.countFailure(ctx, u.ID, now)
			return fail(&u, "bad second factor", Errorf(KindUnauthenticated, "the code is not valid").WithCode("invalid_totp"))
		}
		method = "password+totp"
	}
	u, err = s.store.UpdateUser(ctx, u.ID, func(x *User) error {
		x.FailedLogins, x.LockedUntil = 0, time.Time{}
		if rehash {
			if h, err := auth.HashPassword(req.Password, s.cfg.Password); err == nil {
				x.PasswordHash = h
			}
		}
		return nil
	})
	if err != nil {
		return LoginResult{}, s.storeErr(err, "sign in")
	}
	return s.openSession(ctx, u, method, req.RequestInfo)
}

// checkSecondFactor accepts a TOTP code (once per time step) or an unused recovery code.
func (s *Service) checkSecondFactor(ctx context.Context, u *User, code string, now time.Time, ri RequestInfo) (bool, error) {
	digits := strings.ReplaceAll(code, " ", "")
	if len(digits) == 6 && strings.Trim(digits, "0123456789") == "" {
		step, ok := auth.VerifyTOTP(u.TOTPSecret, digits, now, u.TOTPLastStep)
		if !ok {
			return false, nil
		}
		// Record the step so the same code cannot be replayed, even on another instance.
		replayed := false
		_, err := s.store.UpdateUser(ctx, u.ID, func(x *User) error {
			replayed = step <= x.TOTPLastStep
			if !replayed {
				x.TOTPLastStep = step
			}
			return nil
		})
		return err == nil && !replayed, s.storeErr(err, "sign in")
	}
	used, err := s.store.UseRecoveryCode(ctx, u.ID, auth.HashRecoveryCode(code), now)
	if err != nil {
		return false, s.storeErr(err, "sign in")
	}
	if used {
		s.audit(ctx, &Principal{User: u}, ri, AuditEvent{Action: "login.recovery-code", ObjectType: "user", ObjectID: u.ID})
	}
	return used, nil
}

func (s *Service) countFailure(ctx context.Context, userID string, now time.Time) {
	_, err := s.store.UpdateUser(ctx, userID, func(x *User) error {
		x.FailedLogins++
		if d := auth.Lockout(x.FailedLogins, s.cfg.Lockout); d > 0 {
			x.LockedUntil = now.Add(d)
		}
		return nil
	})
	if err != nil {
		s.log.Error("recording a failed login", "user", userID, "err", err)
	}
}

// openSession creates a session for a user who has just proved who they are.
func (s *Service) openSession(ctx context.Context, u User, method string, ri RequestInfo) (LoginResult, error) {
	now := s.Now()
	plain, hash, err := auth.NewToken(s.rand, prefixSession)
	if err != nil {
		return LoginResult{}, err
	}
	sess := Session{ID: s.newID(), Hash: hash, UserID: u.ID, Method: method, CreatedAt: now, LastSeenAt: now,
		ExpiresAt: now.Add(s.cfg.SessionMax), Source: ri.Source, UserAgent: truncate(ri.UserAgent, 300)}
	if err := s.store.CreateSession(ctx, sess); err != nil {
		return LoginResult{}, s.storeErr(err, "sign in")
	}
	p := &Principal{User: &u, SessionID: sess.ID, Via: "session"}
	if err := s.audit(ctx, p, ri, AuditEvent{Action: "login", ObjectType: "session", ObjectID: sess.ID, Detail: method}); err != nil {
		s.store.DeleteSession(ctx, sess.ID)
		return LoginResult{}, err
	}
	return LoginResult{Cookie: plain, Session: sess, User: u}, nil
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}

// touchEvery limits how often activity is written for sessions and tokens.
const touchEvery = time.Minute

// AuthenticateSession returns the principal of a session cookie, or an unauthenticated error.
// It enforces the idle and absolute timeouts.
func (s *Service) AuthenticateSession(ctx context.Context, cookie string) (*Principal, error) {
	if !strings.HasPrefix(cookie, prefixSession+"_") {
		return nil, Errorf(KindUnauthenticated, "sign in first")
	}
	sess, err := s.store.SessionByHash(ctx, auth.HashToken(cookie))
	if errors.Is(err, ErrNotFound) {
		return nil, Errorf(KindUnauthenticated, "your session has ended: sign in again")
	}
	if err != nil {
		return nil, s.storeErr(err, "check the session")
	}
	now := s.Now()
	if !now.Before(sess.ExpiresAt) || now.Sub(sess.LastSeenAt) >= s.cfg.SessionIdle {
		s.store.DeleteSession(ctx, sess.ID)
		return nil, Errorf(KindUnauthenticated, "your session has ended: sign in again").WithCode("session_expired")
	}
	u, err := s.store.UserByID(ctx, sess.UserID)
	if err != nil || u.Disabled {
		return nil, Errorf(KindUnauthenticated, "sign in first")
	}
	p := &Principal{User: &u, Via: "session", SessionID: sess.ID}
	if sess.OnBehalfOf != "" {
		c, err := s.store.UserByID(ctx, sess.OnBehalfOf)
		appointed, aerr := s.store.IsAssistant(ctx, sess.OnBehalfOf, u.ID)
		if err == nil && aerr == nil && CanActFor(&u, &c, appointed, now) {
			p.OnBehalfOf = &c
		} else {
			s.store.SetSessionOnBehalfOf(ctx, sess.ID, "")
		}
	}
	p.MustEnrolTOTP = s.MustEnrolTOTP(&u, sess.Method, now)
	if now.Sub(sess.LastSeenAt) >= touchEvery {
		if err := s.store.TouchSession(ctx, sess.ID, now); err != nil {
			s.log.Warn("touching a session", "err", err)
		}
	}
	return p, nil
}

// MustEnrolTOTP: outside demo mode, users with a clinical role must enrol a second factor
// before they can do anything else. Sign-ins through the identity provider rely on its own.
func (s *Service) MustEnrolTOTP(u *User, method string, now time.Time) bool {
	return !s.cfg.Demo && method != "oidc" && !u.TOTPEnabled && u.NeedsSecondFactor(now)
}

// AuthenticateToken returns the principal of a bearer token, or an unauthenticated error.
func (s *Service) AuthenticateToken(ctx context.Context, bearer string) (*Principal, error) {
	bad := Errorf(KindUnauthenticated, "the token is not valid").WithCode("invalid_token")
	if !strings.HasPrefix(bearer, prefixUser+"_") && !strings.HasPrefix(bearer, prefixSystem+"_") {
		return nil, bad
	}
	t, err := s.store.TokenByHash(ctx, auth.HashToken(bearer))
	if errors.Is(err, ErrNotFound) {
		return nil, bad
	}
	if err != nil {
		return nil, s.storeErr(err, "check the token")
	}
	now := s.Now()
	if !t.Usable(now) {
		return nil, bad
	}
	var p *Principal
	if t.UserID != "" {
		u, err := s.store.UserByID(ctx, t.UserID)
		if err != nil || u.Disabled {
			return nil, bad
		}
		p = &Principal{User: &u, Via: "token", TokenID: t.ID}
	} else {
		p = &Principal{System: t.System, Centre: t.Centre, Via: "system-token", TokenID: t.ID}
	}
	if t.LastUsedAt == nil || now.Sub(*t.LastUsedAt) >= touchEvery {
		if err := s.store.TokenUsed(ctx, t.ID, now); err != nil {
			s.log.Warn("recording token use", "err", err)
		}
	}
	return p, nil
}

// Logout ends the principal's session; LogoutAll ends every session of the user.
func (s *Service) Logout(ctx context.Context, p *Principal, ri RequestInfo) error {
	if p == nil || p.SessionID == "" {
		return nil
	}
	if err := s.store.DeleteSession(ctx, p.SessionID); err != nil && !errors.Is(err, ErrNotFound) {
		return s.storeErr(err, "sign out")
	}
	return s.audit(ctx, p, ri, AuditEvent{Action: "logout", ObjectType: "session", ObjectID: p.SessionID})
}

func (s *Service) LogoutAll(ctx context.Context, p *Principal, ri RequestInfo) (int, error) {
	if p == nil || p.User == nil {
		return 0, Errorf(KindUnauthenticated, "sign in first")
	}
	n, err := s.store.DeleteUserSessions(ctx, p.User.ID)
	if err != nil {
		return 0, s.storeErr(err, "sign out")
	}
	return n, s.audit(ctx, p, ri, AuditEvent{Action: "logout.all", ObjectType: "user", ObjectID: p.User.ID})
}

// CSRFToken is the anti-forgery token of the principal's session.
func (s *Service) CSRFToken(ctx context.Context, p *Principal) (string, error) {
	key, err := s.csrfKey(ctx)
	if err != nil || p == nil || p.SessionID == "" {
		return "", err
	}
	return auth.CSRFToken(key, p.SessionID), nil
}

// CheckCSRF verifies the anti-forgery token sent with an unsafe request of a session.
func (s *Service) CheckCSRF(ctx context.Context, p *Principal, token string) error {
	key, err := s.csrfKey(ctx)
	if err != nil {
		return err
	}
	if p == nil || p.SessionID == "" || !auth.CheckCSRF(key, p.SessionID, token) {
		return Errorf(KindPermission, "missing or wrong anti-forgery token: reload the page").WithCode("csrf")
	}
	return nil
}

func (s *Service) csrfKey(ctx context.Context) ([]byte, error) {
	k, err := s.Secret(ctx, "csrf-key")
	return k, err
}

// Secret returns a 32-byte deployment secret shared by every instance, creating it once.
func (s *Service) Secret(ctx context.Context, name string) ([]byte, error) {
	if len(s.cfg.MasterSecret) > 0 {
		m := hmac.New(sha256.New, s.cfg.MasterSecret)
		m.Write([]byte("cpms secret\x00" + name))
		return m.Sum(nil), nil
	}
	// A secret never changes once stored: read it from the database once per process, not on
	// every request that checks an anti-forgery token.
	if k, ok := s.secrets.Load(name); ok {
		return k.([]byte), nil
	}
	k, err := s.store.Secret(ctx, name, func() ([]byte, error) {
		b := make([]byte, 32)
		_, err := s.rand.Read(b)
		return b, err
	})
	if err != nil {
		return nil, s.storeErr(err, "read the deployment secrets")
	}
	s.secrets.Store(name, k)
	return k, nil
}

// SweepSessions deletes ended sessions; the server calls it now and then.
func (s *Service) SweepSessions(ctx context.Context) (int, error) {
	now := s.Now()
	return s.store.DeleteExpiredSessions(ctx, now, now.Add(-s.cfg.SessionIdle))
}

// Sessions lists the signed-in user's own sessions, in the order they began.
func (s *Service) Sessions(ctx context.Context, p *Principal) ([]Session, error) {
	if p == nil || p.User == nil {
		return nil, Errorf(KindUnauthenticated, "sign in first")
	}
	ss, err := s.store.UserSessions(ctx, p.User.ID)
	return ss, s.storeErr(err, "list sessions")
}
