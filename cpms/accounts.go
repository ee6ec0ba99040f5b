package cpms

import (
	"context"
	"errors"
	"slices"
	"strings"
	"time"

	"github.com/ern-cpms/cpms/internal/auth"
)

// NewUser is what an administrator gives to create an account.
type NewUser struct {
	Username    string
	DisplayName string
	Email       string
	Password    string // empty: a temporary password is generated and must be changed
	Roles       []RoleGrant
}

// CreateUser creates an account. An ERN admin may create users and give them roles in their
// ERN; an operator may do anything. It returns the temporary password when one was generated.
func (s *Service) CreateUser(ctx context.Context, p *Principal, nu NewUser, ri RequestInfo) (User, string, error) {
	return s.createUser(ctx, p, nu, ri, !s.cfg.Demo)
}

// createUser is CreateUser; passwordPolicy says whether a given password must meet the policy.
func (s *Service) createUser(ctx context.Context, p *Principal, nu NewUser, ri RequestInfo, passwordPolicy bool) (User, string, error) {
	now := s.Now()
	u := User{ID: s.newID(), Username: strings.ToLower(strings.TrimSpace(nu.Username)),
		DisplayName: strings.TrimSpace(nu.DisplayName), Email: strings.TrimSpace(nu.Email), CreatedAt: now}
	if err := u.Validate(); err != nil {
		return User{}, "", err
	}
	if err := s.authorizeUserAdmin(ctx, p, nil, nu.Roles, ri); err != nil {
		return User{}, "", err
	}
	for _, g := range nu.Roles {
		if err := g.Validate(now); err != nil {
			return User{}, "", err
		}
		if err := s.checkNetwork(ctx, g.ERN, g.Centre); err != nil {
			return User{}, "", err
		}
	}
	temp := ""
	pw := nu.Password
	if pw == "" {
		temp = s.temporaryPassword()
		pw, u.MustChangePassword = temp, true
	} else if passwordPolicy {
		if err := auth.CheckPasswordPolicy(pw); err != nil {
			return User{}, "", &Error{Kind: KindInvalid, Msg: "the password is too weak", Fields: []FieldError{{"password", err.Error()}}}
		}
	}
	h, err := auth.HashPassword(pw, s.cfg.Password)
	if err != nil {
		return User{}, "", err
	}
	u.PasswordHash = h
	// The account and its roles are stored in one transaction: never a user without the roles asked for.
	for _, g := range nu.Roles {
		g.ID, g.CreatedAt = s.newID(), now
		if p != nil && p.User != nil {
			g.GrantedBy = p.User.ID
		}
		u.Roles = append(u.Roles, g)
	}
	if err := s.store.CreateUser(ctx, u); err != nil {
		if errors.Is(err, ErrConflict) {
			return User{}, "", &Error{Kind: KindConflict, Msg: "that username is taken", Fields: []FieldError{{"username", "taken"}}}
		}
		return User{}, "", s.storeErr(err, "create the user")
	}
	if err := s.audit(ctx, p, ri, AuditEvent{Action: "user.create", ObjectType: "user", ObjectID: u.ID, Detail: u.Username}); err != nil {
		return User{}, "", err
	}
	for _, g := range u.Roles {
		if err := s.audit(ctx, p, ri, AuditEvent{Action: "role.grant", ObjectType: "user", ObjectID: u.ID,
			Detail: string(g.Role) + " " + g.ERN + " " + g.Centre}); err != nil {
			return User{}, "", err
		}
	}
	u, err = s.store.UserByID(ctx, u.ID)
	return u, temp, s.storeErr(err, "read the user")
}

// temporaryPassword is 16 characters from an unambiguous alphabet.
func (s *Service) temporaryPassword() string {
	const alphabet = "abcdefghjkmnpqrstuvwxyzACDEFGHJKLMNPQRSTUVWXYZ23456789"
	b := make([]byte, 16)
	if _, err := s.rand.Read(b); err != nil {
		panic("cpms: random source failed")
	}
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return string(b)
}

// authorizeUserAdmin lets an ERN admin act on an account (target, nil when creating one) and
// give roles (grants): the admin must administer every ERN the account holds a role in — so that
// nobody reaches accounts of networks they do not administer — and every ERN of the grants.
func (s *Service) authorizeUserAdmin(ctx context.Context, p *Principal, target *User, grants []RoleGrant, ri RequestInfo) error {
	if p != nil && p.Operator != "" {
		return nil
	}
	all := slices.Clone(grants)
	if target != nil {
		all = append(all, target.Roles...)
	}
	return s.coversGrants(ctx, p, ActManageUsers, all, ri)
}

// coversGrants checks action a against the ERN of every grant. A user without any role (a new
// account, or one waiting for an access request) may be handled by any ERN admin or helpdesk.
func (s *Service) coversGrants(ctx context.Context, p *Principal, a Action, grants []RoleGrant, ri RequestInfo) error {
	now := s.Now()
	if len(grants) == 0 {
		for _, g := range EffectiveGrants(p, now) {
			if g.Role == RoleERNAdmin || (a == ActResetCredentials && g.Role == RoleHelpdesk) {
				return nil
			}
		}
		return s.Authorize(ctx, p, a, Resource{ERN: "-"}, ri)
	}
	for _, g := range grants {
		if err := s.Authorize(ctx, p, a, Resource{ERN: g.ERN}, ri); err != nil {
			return err
		}
		// The credentials of administrators are reset by administrators: an ERN helpdesk must
		// not obtain an ERN admin's or another helpdesk's temporary password.
		if a == ActResetCredentials && (g.Role == RoleERNAdmin || g.Role == RoleHelpdesk) &&
			Authorize(p, ActResetCredentials, Resource{}, now) != nil {
			if err := s.Authorize(ctx, p, ActManageUsers, Resource{ERN: g.ERN}, ri); err != nil {
				return err
			}
		}
	}
	return nil
}

func (s *Service) checkNetwork(ctx context.Context, ern, centre string) error {
	var v Validation
	if ern != "" && centre != "" {
		// The common case, in one read.
		known, member, err := s.store.ERNMember(ctx, ern, centre)
		switch {
		case err != nil:
			return s.storeErr(err, "read the network")
		case !known:
			v.Add("ern", "no such ERN")
		case !member:
			v.Add("centre", "this centre is not a member of the ERN")
		}
	} else if ern != "" {
		e, err := s.store.ERN(ctx, ern)
		switch {
		case errors.Is(err, ErrNotFound):
			v.Add("ern", "no such ERN")
		case err != nil:
			return s.storeErr(err, "read the network")
		case centre != "" && !slices.Contains(e.Centres, centre):
			v.Add("centre", "this centre is not a member of the ERN")
		}
	} else if centre != "" {
		if _, err := s.store.Centre(ctx, centre); errors.Is(err, ErrNotFound) {
			v.Add("centre", "no such centre")
		}
	}
	return v.Err()
}

// Users lists users an administrator may see: those of the admin's ERNs (all for operators
// and deployment helpdesk).
func (s *Service) Users(ctx context.Context, p *Principal, f UserFilter) ([]User, error) {
	if p == nil || p.Operator == "" {
		if f.ERN == "" {
			if err := Authorize(p, ActResetCredentials, Resource{}, s.Now()); err != nil {
				// Not a deployment helpdesk: show the union of the ERNs the caller administers.
				return s.usersOfAdminERNs(ctx, p, f)
			}
		} else if err := s.authorizeAny(p, []Action{ActManageUsers, ActResetCredentials}, Resource{ERN: f.ERN}); err != nil {
			return nil, err
		}
	}
	us, err := s.store.Users(ctx, f)
	return us, s.storeErr(err, "list users")
}

func (s *Service) usersOfAdminERNs(ctx context.Context, p *Principal, f UserFilter) ([]User, error) {
	var erns []string
	for _, g := range EffectiveGrants(p, s.Now()) {
		if (g.Role == RoleERNAdmin || g.Role == RoleHelpdesk) && !slices.Contains(erns, g.ERN) {
			erns = append(erns, g.ERN)
		}
	}
	if len(erns) == 0 {
		return nil, Errorf(KindPermission, "your roles do not allow this")
	}
	seen := map[string]bool{}
	var out []User
	for _, ern := range erns {
		f.ERN = ern
		us, err := s.store.Users(ctx, f)
		if err != nil {
			return nil, s.storeErr(err, "list users")
		}
		for _, u := range us {
			if !seen[u.ID] {
				seen[u.ID] = true
				out = append(out, u)
			}
		}
	}
	// Users without any role yet (new accounts, pending access requests) are visible to admins.
	f.ERN = ""
	all, err := s.store.Users(ctx, f)
	if err != nil {
		return nil, s.storeErr(err, "list users")
	}
	for _, u := range all {
		if len(u.Roles) == 0 && !seen[u.ID] {
			out = append(out, u)
		}
	}
	slices.SortFunc(out, func(a, b User) int { return strings.Compare(a.Username, b.Username) })
	return out, nil
}

func (s *Service) authorizeAny(p *Principal, as []Action, r Resource) error {
	var err error
	for _, a := range as {
		if err = Authorize(p, a, r, s.Now()); err == nil {
			return nil
		}
	}
	return err
}

// UserByUsername finds a user for commands run by an operator.
func (s *Service) UserByUsername(ctx context.Context, username string) (User, error) {
	u, err := s.store.UserByUsername(ctx, strings.ToLower(strings.TrimSpace(username)))
	if errors.Is(err, ErrNotFound) {
		return User{}, Errorf(KindNotFound, "no user %q", username)
	}
	return u, s.storeErr(err, "read the user")
}

// User reads one user for an administrator.
func (s *Service) User(ctx context.Context, p *Principal, id string) (User, error) {
	u, err := s.store.UserByID(ctx, id)
	if errors.Is(err, ErrNotFound) {
		return User{}, Errorf(KindNotFound, "no such user")
	}
	if err != nil {
		return User{}, s.storeErr(err, "read the user")
	}
	if p == nil || p.User == nil || p.User.ID != id {
		if err := s.authorizeUserAdmin(ctx, p, &u, nil, RequestInfo{}); err != nil {
			if err2 := s.authorizeCredentialReset(ctx, p, &u, RequestInfo{}); err2 != nil {
				return User{}, err
			}
		}
	}
	return u, nil
}

// GrantRole gives a user a role; ERN admins grant roles in their ERN.
func (s *Service) GrantRole(ctx context.Context, p *Principal, userID string, g RoleGrant, ri RequestInfo) (RoleGrant, error) {
	if err := g.Validate(s.Now()); err != nil {
		return RoleGrant{}, err
	}
	if err := s.checkNetwork(ctx, g.ERN, g.Centre); err != nil {
		return RoleGrant{}, err
	}
	if err := s.authorizeUserAdmin(ctx, p, nil, []RoleGrant{g}, ri); err != nil {
		return RoleGrant{}, err
	}
	if _, err := s.store.UserByID(ctx, userID); err != nil {
		if errors.Is(err, ErrNotFound) {
			return RoleGrant{}, Errorf(KindNotFound, "no such user")
		}
		return RoleGrant{}, s.storeErr(err, "read the user")
	}
	return s.grant(ctx, p, userID, g, ri)
}

func (s *Service) grant(ctx context.Context, p *Principal, userID string, g RoleGrant, ri RequestInfo) (RoleGrant, error) {
	g.ID, g.CreatedAt = s.newID(), s.Now()
	if p != nil && p.User != nil {
		g.GrantedBy = p.User.ID
	}
	if err := s.store.GrantRole(ctx, userID, g); err != nil {
		if errors.Is(err, ErrConflict) {
			return RoleGrant{}, Errorf(KindConflict, "the user already has this role")
		}
		return RoleGrant{}, s.storeErr(err, "grant the role")
	}
	return g, s.audit(ctx, p, ri, AuditEvent{Action: "role.grant", ObjectType: "user", ObjectID: userID,
		Detail: string(g.Role) + " " + g.ERN + " " + g.Centre})
}

// RevokeRole removes a grant; ERN admins revoke roles in their ERN.
func (s *Service) RevokeRole(ctx context.Context, p *Principal, userID, grantID string, ri RequestInfo) error {
	u, err := s.store.UserByID(ctx, userID)
	if errors.Is(err, ErrNotFound) {
		return Errorf(KindNotFound, "no such user")
	} else if err != nil {
		return s.storeErr(err, "read the user")
	}
	i := slices.IndexFunc(u.Roles, func(g RoleGrant) bool { return g.ID == grantID })
	if i < 0 {
		return Errorf(KindNotFound, "no such role grant")
	}
	g := u.Roles[i]
	if err := s.authorizeUserAdmin(ctx, p, nil, []RoleGrant{g}, ri); err != nil {
		return err
	}
	if err := s.store.RevokeRole(ctx, userID, grantID); err != nil {
		return s.storeErr(err, "revoke the role")
	}
	return s.audit(ctx, p, ri, AuditEvent{Action: "role.revoke", ObjectType: "user", ObjectID: userID,
		Detail: string(g.Role) + " " + g.ERN + " " + g.Centre})
}

// SetDisabled disables (or re-enables) an account and ends its sessions.
func (s *Service) SetDisabled(ctx context.Context, p *Principal, userID string, disabled bool, ri RequestInfo) error {
	u, err := s.User(ctx, p, userID)
	if err != nil {
		return err
	}
	if err := s.authorizeUserAdmin(ctx, p, &u, nil, ri); err != nil {
		return err
	}
	if _, err := s.store.UpdateUser(ctx, userID, func(x *User) error { x.Disabled = disabled; return nil }); err != nil {
		return s.storeErr(err, "update the user")
	}
	if disabled {
		if _, err := s.store.DeleteUserSessions(ctx, userID); err != nil {
			return s.storeErr(err, "end the user's sessions")
		}
	}
	action := "user.enable"
	if disabled {
		action = "user.disable"
	}
	return s.audit(ctx, p, ri, AuditEvent{Action: action, ObjectType: "user", ObjectID: userID})
}

// authorizeCredentialReset lets the deployment helpdesk, and the helpdesk and admins of every
// ERN a user holds a role in, reset that user's credentials.
func (s *Service) authorizeCredentialReset(ctx context.Context, p *Principal, target *User, ri RequestInfo) error {
	if p != nil && p.Operator != "" {
		return nil
	}
	return s.coversGrants(ctx, p, ActResetCredentials, target.Roles, ri)
}

// ResetPassword sets a temporary password that must be changed at next sign-in, unlocks the
// account and ends its sessions. It returns the temporary password, shown once.
func (s *Service) ResetPassword(ctx context.Context, p *Principal, userID string, ri RequestInfo) (string, error) {
	u, err := s.store.UserByID(ctx, userID)
	if errors.Is(err, ErrNotFound) {
		return "", Errorf(KindNotFound, "no such user")
	} else if err != nil {
		return "", s.storeErr(err, "read the user")
	}
	if err := s.authorizeCredentialReset(ctx, p, &u, ri); err != nil {
		return "", err
	}
	temp := s.temporaryPassword()
	h, err := auth.HashPassword(temp, s.cfg.Password)
	if err != nil {
		return "", err
	}
	if _, err := s.store.UpdateUser(ctx, userID, func(x *User) error {
		x.PasswordHash, x.MustChangePassword, x.FailedLogins, x.LockedUntil = h, true, 0, time.Time{}
		return nil
	}); err != nil {
		return "", s.storeErr(err, "reset the password")
	}
	if _, err := s.store.DeleteUserSessions(ctx, userID); err != nil {
		return "", s.storeErr(err, "end the user's sessions")
	}
	return temp, s.audit(ctx, p, ri, AuditEvent{Action: "user.reset-password", ObjectType: "user", ObjectID: userID})
}

// ResetTOTP removes a user's second factor (lost phone): they enrol again at next sign-in.
func (s *Service) ResetTOTP(ctx context.Context, p *Principal, userID string, ri RequestInfo) error {
	u, err := s.store.UserByID(ctx, userID)
	if errors.Is(err, ErrNotFound) {
		return Errorf(KindNotFound, "no such user")
	} else if err != nil {
		return s.storeErr(err, "read the user")
	}
	if err := s.authorizeCredentialReset(ctx, p, &u, ri); err != nil {
		return err
	}
	if _, err := s.store.UpdateUser(ctx, userID, func(x *User) error {
		x.TOTPEnabled, x.TOTPSecret, x.TOTPLastStep = false, "", 0
		return nil
	}); err != nil {
		return s.storeErr(err, "reset the second factor")
	}
	if err := s.store.SetRecoveryCodes(ctx, userID, nil); err != nil {
		return s.storeErr(err, "reset the second factor")
	}
	if _, err := s.store.DeleteUserSessions(ctx, userID); err != nil {
		return s.storeErr(err, "end the user's sessions")
	}
	return s.audit(ctx, p, ri, AuditEvent{Action: "user.reset-totp", ObjectType: "user", ObjectID: userID})
}

// ChangePassword lets users change their own password.
func (s *Service) ChangePassword(ctx context.Context, p *Principal, current, next string, ri RequestInfo) error {
	if p == nil || p.User == nil {
		return Errorf(KindUnauthenticated, "sign in first")
	}
	u, err := s.store.UserByID(ctx, p.User.ID)
	if err != nil {
		return s.storeErr(err, "read the user")
	}
	if ok, _, _ := auth.VerifyPassword(u.PasswordHash, current); !ok {
		s.audit(ctx, p, ri, AuditEvent{Action: "user.change-password", Outcome: OutcomeMinorFailure, ObjectType: "user", ObjectID: u.ID})
		return &Error{Kind: KindInvalid, Msg: "the current password is wrong", Fields: []FieldError{{"current", "wrong password"}}}
	}
	if err := auth.CheckPasswordPolicy(next); err != nil {
		return &Error{Kind: KindInvalid, Msg: "the new password is too weak", Fields: []FieldError{{"new", err.Error()}}}
	}
	if next == current {
		return &Error{Kind: KindInvalid, Msg: "choose a different password", Fields: []FieldError{{"new", "same as the current one"}}}
	}
	h, err := auth.HashPassword(next, s.cfg.Password)
	if err != nil {
		return err
	}
	if _, err := s.store.UpdateUser(ctx, u.ID, func(x *User) error {
		x.PasswordHash, x.MustChangePassword = h, false
		return nil
	}); err != nil {
		return s.storeErr(err, "change the password")
	}
	return s.audit(ctx, p, ri, AuditEvent{Action: "user.change-password", ObjectType: "user", ObjectID: u.ID})
}

// TOTPSetup starts (or restarts) enrolment of an authenticator app: a new secret is kept
// unconfirmed until TOTPConfirm. It returns the secret and its otpauth:// URI.
func (s *Service) TOTPSetup(ctx context.Context, p *Principal, issuer string, ri RequestInfo) (secret, uri string, err error) {
	if p == nil || p.User == nil {
		return "", "", Errorf(KindUnauthenticated, "sign in first")
	}
	if p.User.TOTPEnabled {
		return "", "", Errorf(KindConflict, "a second factor is already set up: ask the helpdesk to reset it")
	}
	secret, err = auth.NewTOTPSecret(s.rand)
	if err != nil {
		return "", "", err
	}
	if _, err := s.store.UpdateUser(ctx, p.User.ID, func(x *User) error {
		if x.TOTPEnabled {
			return Errorf(KindConflict, "a second factor is already set up")
		}
		x.TOTPSecret = secret
		return nil
	}); err != nil {
		return "", "", s.storeErr(err, "set up the second factor")
	}
	return secret, auth.TOTPURI(issuer, p.User.Username, secret), nil
}

// TOTPConfirm enables the second factor once the user proves the app works, and returns
// recovery codes, shown once.
func (s *Service) TOTPConfirm(ctx context.Context, p *Principal, code string, ri RequestInfo) ([]string, error) {
	if p == nil || p.User == nil {
		return nil, Errorf(KindUnauthenticated, "sign in first")
	}
	u, err := s.store.UserByID(ctx, p.User.ID)
	if err != nil {
		return nil, s.storeErr(err, "read the user")
	}
	if u.TOTPEnabled {
		return nil, Errorf(KindConflict, "the second factor is already set up")
	}
	if u.TOTPSecret == "" {
		return nil, Errorf(KindConflict, "start the set-up first")
	}
	step, ok := auth.VerifyTOTP(u.TOTPSecret, strings.TrimSpace(code), s.Now(), 0)
	if !ok {
		return nil, &Error{Kind: KindInvalid, Msg: "the code is not valid: check the time on your phone", Fields: []FieldError{{"code", "not valid"}}}
	}
	plain, hashes, err := auth.NewRecoveryCodes(s.rand, 10)
	if err != nil {
		return nil, err
	}
	if err := s.store.SetRecoveryCodes(ctx, u.ID, hashes); err != nil {
		return nil, s.storeErr(err, "set up the second factor")
	}
	if _, err := s.store.UpdateUser(ctx, u.ID, func(x *User) error {
		x.TOTPEnabled, x.TOTPLastStep = true, step
		return nil
	}); err != nil {
		return nil, s.storeErr(err, "set up the second factor")
	}
	return plain, s.audit(ctx, p, ri, AuditEvent{Action: "user.enrol-totp", ObjectType: "user", ObjectID: u.ID})
}
