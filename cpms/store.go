package cpms

import (
	"context"
	"time"
)

// Store is the persistence port of the domain. cpms/sqlstore implements it on SQLite and
// PostgreSQL; one contract test suite runs against both. Methods return errors that satisfy
// errors.Is(err, ErrNotFound) or errors.Is(err, ErrConflict) where those apply. Several
// processes may share one store; every method is safe under that.
type Store interface {
	NetworkStore
	UserStore
	SessionStore
	TokenStore
	AccessStore
	AuditStore
	SecretStore
	PatientStore
	// Ping checks that the database answers.
	Ping(ctx context.Context) error
}

// NetworkStore keeps ERNs, their thematic areas and member centres.
type NetworkStore interface {
	PutCentre(ctx context.Context, c Centre) error // insert or update
	PutERN(ctx context.Context, e ERN) error       // insert or update, with areas and member centres
	Centre(ctx context.Context, code string) (Centre, error)
	Centres(ctx context.Context) ([]Centre, error) // by code
	ERN(ctx context.Context, code string) (ERN, error)
	ERNs(ctx context.Context) ([]ERN, error) // by code
	// ERNMember tells, in one read, whether the ERN exists and whether centre is a member.
	ERNMember(ctx context.Context, ern, centre string) (ernKnown, member bool, err error)
}

// UserFilter selects users. Empty fields match everything.
type UserFilter struct {
	ERN    string // holds a grant in this ERN
	Centre string // holds a grant at this centre
	Query  string // substring of username or display name, case-insensitive
	Limit  int    // 0: no limit
}

// UserStore keeps accounts, role grants, recovery codes and assistant appointments. Users
// come back with their Roles filled in (all grants, also expired ones, by creation time).
type UserStore interface {
	CreateUser(ctx context.Context, u User) error // ErrConflict on a taken username or OIDC identity
	UserByID(ctx context.Context, id string) (User, error)
	UserByUsername(ctx context.Context, username string) (User, error)
	UserByOIDC(ctx context.Context, issuer, subject string) (User, error)
	Users(ctx context.Context, f UserFilter) ([]User, error) // by username
	// UpdateUser reads the user, lets fn change it and writes the account fields back in one
	// transaction (Roles are not written: use GrantRole and RevokeRole). fn may run more than once.
	UpdateUser(ctx context.Context, id string, fn func(u *User) error) (User, error)
	GrantRole(ctx context.Context, userID string, g RoleGrant) error // ErrConflict if the same role, ERN and centre is already granted
	RevokeRole(ctx context.Context, userID, grantID string) error
	// SetRecoveryCodes replaces the user's recovery codes by these hashes.
	SetRecoveryCodes(ctx context.Context, userID string, hashes []string) error
	// UseRecoveryCode marks an unused code with this hash as used; false when there is none.
	UseRecoveryCode(ctx context.Context, userID, hash string, at time.Time) (bool, error)
	AppointAssistant(ctx context.Context, clinicianID, assistantID string, at time.Time) error
	DismissAssistant(ctx context.Context, clinicianID, assistantID string) error
	IsAssistant(ctx context.Context, clinicianID, assistantID string) (bool, error)
	Assistants(ctx context.Context, clinicianID string) ([]User, error)
	Principals(ctx context.Context, assistantID string) ([]User, error) // the clinicians an assistant serves
}

// SessionStore keeps browser sessions.
type SessionStore interface {
	CreateSession(ctx context.Context, s Session) error
	SessionByHash(ctx context.Context, hash string) (Session, error)
	// TouchSession records activity.
	TouchSession(ctx context.Context, id string, at time.Time) error
	SetSessionOnBehalfOf(ctx context.Context, id, clinicianID string) error
	DeleteSession(ctx context.Context, id string) error
	DeleteUserSessions(ctx context.Context, userID string) (int, error)
	UserSessions(ctx context.Context, userID string) ([]Session, error)
	// DeleteExpiredSessions removes sessions that ended before cutoff or were idle since idleBefore.
	DeleteExpiredSessions(ctx context.Context, cutoff, idleBefore time.Time) (int, error)
}

// TokenFilter selects tokens. Empty fields match everything.
type TokenFilter struct {
	UserID string
	Centre string
}

// TokenStore keeps bearer tokens, by hash.
type TokenStore interface {
	CreateToken(ctx context.Context, t Token) error
	TokenByHash(ctx context.Context, hash string) (Token, error)
	Token(ctx context.Context, id string) (Token, error)
	Tokens(ctx context.Context, f TokenFilter) ([]Token, error)     // by creation time
	RevokeToken(ctx context.Context, id string, at time.Time) error // idempotent; ErrNotFound for an unknown ID
	// TokenUsed records the last use; callers may throttle how often they call it.
	TokenUsed(ctx context.Context, id string, at time.Time) error
}

// AccessStore keeps access requests.
type AccessStore interface {
	CreateAccessRequest(ctx context.Context, r AccessRequest) error
	AccessRequest(ctx context.Context, id string) (AccessRequest, error)         // with User filled in
	AccessRequests(ctx context.Context, f AccessFilter) ([]AccessRequest, error) // newest first, with User
	// DecideAccessRequest records a decision on a pending request and, when approved, grants the
	// role in the same transaction. ErrConflict when the request is no longer pending.
	DecideAccessRequest(ctx context.Context, id string, status AccessStatus, by UserRef, comment string, at time.Time, grant *RoleGrant) (AccessRequest, error)
}

// AuditStore is the append-only, hash-chained audit trail.
type AuditStore interface {
	// AppendAudit links the events after the last stored one (see Link) and stores them in one
	// transaction, serialised with every other appender on the database. It returns them linked.
	AppendAudit(ctx context.Context, events []AuditEvent) ([]AuditEvent, error)
	// ScanAudit calls fn for each record with Seq > after, in order.
	ScanAudit(ctx context.Context, after int64, fn func(AuditEvent) error) error
	// AuditEvents returns the newest records matching the filter, newest first.
	AuditEvents(ctx context.Context, f AuditFilter) ([]AuditEvent, error)
}

// AuditFilter selects audit records.
type AuditFilter struct {
	Actor     string
	PatientID string
	ObjectID  string
	Action    string
	Limit     int
}

// SecretStore keeps secrets every instance must share (session and CSRF keys, the
// de-identification key of later work).
type SecretStore interface {
	// Secret returns the named secret, creating it with create the first time. When several
	// processes race, all of them get the one that was stored first.
	Secret(ctx context.Context, name string, create func() ([]byte, error)) ([]byte, error)
	// Setting and PutSetting keep small named values (e.g. the demo seeding marker).
	Setting(ctx context.Context, name string) (string, bool, error)
	PutSetting(ctx context.Context, name, value string) error
}

// Clock tells the time; tests use a fixed one.
type Clock func() time.Time
