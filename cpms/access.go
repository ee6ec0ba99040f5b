package cpms

import "time"

// Session is a signed-in browser. The store keys it by the SHA-256 of the cookie value, so a
// copy of the database does not yield usable cookies. ID is a separate public identifier.
type Session struct {
	ID         string    `json:"id"`
	Hash       string    `json:"-"`
	UserID     string    `json:"userId"`
	OnBehalfOf string    `json:"onBehalfOf,omitempty"` // clinician user ID while an assistant acts for them
	Method     string    `json:"method"`               // "password", "oidc"
	CreatedAt  time.Time `json:"createdAt"`
	LastSeenAt time.Time `json:"lastSeenAt"`
	ExpiresAt  time.Time `json:"expiresAt"` // absolute end, whatever the activity
	Source     string    `json:"source"`    // client address at sign-in
	UserAgent  string    `json:"userAgent"`
}

// Token is a bearer credential: a user's personal access token, or a centre system's token.
// Only its hash is stored; the plain token is shown once, when created.
type Token struct {
	ID         string     `json:"id"`
	Hash       string     `json:"-"`
	Name       string     `json:"name"`
	UserID     string     `json:"userId,omitempty"` // personal token
	Centre     string     `json:"centre,omitempty"` // system token
	System     System     `json:"system,omitempty"` // system token
	CreatedAt  time.Time  `json:"createdAt"`
	ExpiresAt  *time.Time `json:"expiresAt"`
	RevokedAt  *time.Time `json:"revokedAt"`
	LastUsedAt *time.Time `json:"lastUsedAt"`
}

// Usable reports whether the token may authenticate at t.
func (t Token) Usable(at time.Time) bool {
	return t.RevokedAt == nil && (t.ExpiresAt == nil || at.Before(*t.ExpiresAt))
}

// AccessStatus is where an access request stands.
type AccessStatus string

const (
	AccessPending  AccessStatus = "pending"
	AccessApproved AccessStatus = "approved"
	AccessRefused  AccessStatus = "refused"
)

// AccessRequest is a user's request for a profile in an ERN (and centre), decided by an ERN
// admin or coordinator of that ERN.
type AccessRequest struct {
	ID              string       `json:"id"`
	UserID          string       `json:"-"`
	User            UserRef      `json:"user"`
	ERN             string       `json:"ern"`
	Centre          string       `json:"centre"`
	Role            Role         `json:"role"`
	Comment         string       `json:"comment"`
	Status          AccessStatus `json:"status"`
	DecidedBy       string       `json:"decidedBy,omitempty"` // username
	DecisionComment string       `json:"decisionComment,omitempty"`
	CreatedAt       time.Time    `json:"createdAt"`
	DecidedAt       *time.Time   `json:"decidedAt"`
}

// UserRef is how other objects show a user.
type UserRef struct {
	ID          string `json:"id"`
	Username    string `json:"username"`
	DisplayName string `json:"displayName"`
}

// Ref returns the reference form of a user.
func (u *User) Ref() UserRef {
	return UserRef{ID: u.ID, Username: u.Username, DisplayName: u.DisplayName}
}

// AccessFilter selects access requests.
type AccessFilter struct {
	Status AccessStatus // empty: any
	ERNs   []string     // empty: any
	UserID string       // empty: any
}
