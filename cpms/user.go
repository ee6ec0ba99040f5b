package cpms

import (
	"log/slog"
	"regexp"
	"slices"
	"time"
)

// Role is a profile a user holds in an ERN (and usually a centre).
type Role string

const (
	RoleHP          Role = "HP"          // health professional
	RoleCoordinator Role = "Coordinator" // ERN coordinator: assistance requests, KPIs, approvals
	RoleDispatcher  Role = "Dispatcher"  // does the coordinator's assistance work on their behalf
	RoleResearcher  Role = "Researcher"  // anonymised queries of the research tier
	RoleGuest       Role = "Guest"       // external expert or enrolling guest, time-limited
	RoleAssistant   Role = "Assistant"   // acts on behalf of clinicians of the same centre
	RoleERNAdmin    Role = "ERN admin"   // administers users and roles of an ERN
	RoleHelpdesk    Role = "Helpdesk"    // resets passwords and second factors
	// RoleDataProtection is a centre's data-protection officer: reads who accessed the
	// centre's patients, without seeing their identity.
	RoleDataProtection Role = "Data protection"
)

// Roles lists every role, in the order the product shows them.
var Roles = []Role{RoleHP, RoleCoordinator, RoleDispatcher, RoleResearcher, RoleGuest, RoleAssistant, RoleERNAdmin, RoleHelpdesk, RoleDataProtection}

// Valid reports whether r is a known role.
func (r Role) Valid() bool { return slices.Contains(Roles, r) }

// NeedsCentre reports whether grants of r are tied to one centre.
func (r Role) NeedsCentre() bool {
	switch r {
	case RoleHP, RoleAssistant, RoleGuest, RoleDataProtection:
		return true
	}
	return false
}

// Clinical reports whether a role sees patient data, for which a second factor is required
// outside demo mode.
func (r Role) Clinical() bool {
	switch r {
	case RoleHP, RoleCoordinator, RoleDispatcher, RoleGuest, RoleAssistant, RoleDataProtection:
		return true
	}
	return false
}

// RoleGrant gives a user a role in an ERN, at a centre for the centre-bound roles. An empty ERN
// on a Helpdesk grant means the whole deployment. Guests' grants expire.
type RoleGrant struct {
	ID        string     `json:"id"`
	Role      Role       `json:"role"`
	ERN       string     `json:"ern"`
	Centre    string     `json:"centre"`
	ExpiresAt *time.Time `json:"expiresAt"`
	GrantedBy string     `json:"grantedBy,omitempty"` // user ID; empty for the system
	CreatedAt time.Time  `json:"createdAt"`
}

// Active reports whether the grant is in force at t.
func (g RoleGrant) Active(t time.Time) bool { return g.ExpiresAt == nil || t.Before(*g.ExpiresAt) }

// Guest grants last a panel's lifetime or 3 to 12 months.
const (
	GuestMinValidity = 90 * 24 * time.Hour
	GuestMaxValidity = 366 * 24 * time.Hour
)

// Validate checks a grant against the role's rules.
func (g RoleGrant) Validate(now time.Time) error {
	var v Validation
	v.Check(g.Role.Valid(), "role", "unknown role")
	if g.Role != RoleHelpdesk || g.ERN != "" {
		v.Check(ValidERNCode(g.ERN), "ern", "an ERN is required")
	}
	if g.Role.NeedsCentre() {
		v.Check(ValidCentreCode(g.Centre), "centre", "this role is held at a centre")
	} else if g.Centre != "" {
		v.Check(ValidCentreCode(g.Centre), "centre", "not a centre code")
	}
	if g.Role == RoleGuest {
		switch {
		case g.ExpiresAt == nil:
			v.Add("expiresAt", "a guest's access must end: 3 to 12 months")
		case g.ExpiresAt.Sub(now) > GuestMaxValidity:
			v.Add("expiresAt", "a guest's access lasts at most 12 months")
		}
	}
	if g.ExpiresAt != nil && !g.ExpiresAt.After(now) {
		v.Add("expiresAt", "must be in the future")
	}
	return v.Err()
}

// User is a person with an account. The credential fields never leave the service.
type User struct {
	ID          string      `json:"id"`
	Username    string      `json:"username"`
	DisplayName string      `json:"displayName"`
	Email       string      `json:"email"`
	Disabled    bool        `json:"disabled"`
	CreatedAt   time.Time   `json:"createdAt"`
	Roles       []RoleGrant `json:"roles"`

	PasswordHash       string    `json:"-"`
	MustChangePassword bool      `json:"-"`
	TOTPSecret         string    `json:"-"` // set while enrolling and once enabled
	TOTPEnabled        bool      `json:"totpEnabled"`
	TOTPLastStep       int64     `json:"-"` // last accepted time step: refuses replays
	FailedLogins       int       `json:"-"`
	LockedUntil        time.Time `json:"-"`
	OIDCIssuer         string    `json:"-"`
	OIDCSubject        string    `json:"-"`
}

// LogValue keeps names and e-mail addresses out of logs.
func (u User) LogValue() slog.Value {
	return slog.GroupValue(slog.String("id", u.ID), slog.String("username", u.Username))
}

var _ slog.LogValuer = User{}

// ActiveRoles returns the grants in force at t.
func (u *User) ActiveRoles(t time.Time) []RoleGrant {
	var out []RoleGrant
	for _, g := range u.Roles {
		if g.Active(t) {
			out = append(out, g)
		}
	}
	return out
}

// Centres lists the centres where the user holds an active role, without duplicates.
func (u *User) Centres(t time.Time) []string {
	var out []string
	for _, g := range u.ActiveRoles(t) {
		if g.Centre != "" && !slices.Contains(out, g.Centre) {
			out = append(out, g.Centre)
		}
	}
	return out
}

// NeedsSecondFactor reports whether the user holds a clinical role, which requires TOTP outside
// demo mode.
func (u *User) NeedsSecondFactor(t time.Time) bool {
	for _, g := range u.ActiveRoles(t) {
		if g.Role.Clinical() {
			return true
		}
	}
	return false
}

var (
	usernameRE = regexp.MustCompile(`^[a-z0-9][a-z0-9._@-]{1,63}$`)
	emailRE    = regexp.MustCompile(`^[^@\s]+@[^@\s]+$`)
)

// ValidUsername reports whether s is an acceptable user name: 2–64 lower-case letters, digits,
// dots, dashes, underscores or @.
func ValidUsername(s string) bool { return usernameRE.MatchString(s) }

// Validate checks the user's own fields.
func (u *User) Validate() error {
	var v Validation
	v.Check(ValidUsername(u.Username), "username", "2–64 lower-case letters, digits, . _ - or @")
	v.Check(u.DisplayName != "" && len(u.DisplayName) <= 200, "displayName", "required, at most 200 characters")
	v.Check(u.Email == "" || (len(u.Email) <= 254 && emailRE.MatchString(u.Email)), "email", "not an e-mail address")
	return v.Err()
}
