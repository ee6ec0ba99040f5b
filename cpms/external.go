package cpms

import (
	"context"
	"errors"
	"regexp"
	"strconv"
	"strings"
)

// ExternalIdentity is a person as an identity provider (OpenID Connect, e.g. EU Login) vouches
// for them.
type ExternalIdentity struct {
	Issuer            string
	Subject           string
	Email             string
	EmailVerified     bool
	Name              string
	PreferredUsername string
}

var notUsernameRE = regexp.MustCompile(`[^a-z0-9._@-]+`)

// LoginExternal opens a session for a person the identity provider signed in. The first time, an
// account without roles is created and linked to the identity; the person then requests access
// to an ERN, centre and profile, as in CPMS.
func (s *Service) LoginExternal(ctx context.Context, id ExternalIdentity, ri RequestInfo) (LoginResult, error) {
	if id.Issuer == "" || id.Subject == "" {
		return LoginResult{}, Errorf(KindUnauthenticated, "the identity provider gave no subject")
	}
	u, err := s.store.UserByOIDC(ctx, id.Issuer, id.Subject)
	if errors.Is(err, ErrNotFound) {
		u, err = s.createExternalUser(ctx, id, ri)
	}
	if err != nil {
		return LoginResult{}, s.storeErr(err, "sign in")
	}
	if u.Disabled {
		s.audit(ctx, nil, ri, AuditEvent{Action: "login", Outcome: OutcomeMinorFailure, Actor: u.Username, ActorID: u.ID,
			ObjectType: "user", ObjectID: u.ID, Detail: "oidc, disabled"})
		return LoginResult{}, Errorf(KindUnauthenticated, "this account is disabled").WithCode("disabled")
	}
	return s.openSession(ctx, u, "oidc", ri)
}

func (s *Service) createExternalUser(ctx context.Context, id ExternalIdentity, ri RequestInfo) (User, error) {
	base := strings.ToLower(id.PreferredUsername)
	if base == "" {
		base, _, _ = strings.Cut(strings.ToLower(id.Email), "@")
	}
	base = strings.Trim(notUsernameRE.ReplaceAllString(base, "."), ".-_@")
	if len(base) < 2 {
		base = "user"
	}
	if len(base) > 56 {
		base = base[:56]
	}
	display := strings.TrimSpace(id.Name)
	if display == "" {
		display = base
	}
	email := ""
	if id.EmailVerified {
		email = id.Email
	}
	for i := 0; i < 20; i++ {
		name := base
		if i > 0 {
			name = base + "-" + strconv.Itoa(i+1)
		}
		u := User{ID: s.newID(), Username: name, DisplayName: display, Email: email, CreatedAt: s.Now(),
			OIDCIssuer: id.Issuer, OIDCSubject: id.Subject}
		if err := u.Validate(); err != nil {
			u.Email = ""
		}
		err := s.store.CreateUser(ctx, u)
		if errors.Is(err, ErrConflict) {
			// The name is taken — or another instance linked this identity meanwhile.
			if x, err := s.store.UserByOIDC(ctx, id.Issuer, id.Subject); err == nil {
				return x, nil
			}
			continue
		}
		if err != nil {
			return User{}, err
		}
		s.audit(ctx, &Principal{User: &u}, ri, AuditEvent{Action: "user.create", ObjectType: "user", ObjectID: u.ID, Detail: "first sign-in through the identity provider"})
		return s.store.UserByID(ctx, u.ID)
	}
	return User{}, Errorf(KindConflict, "could not choose a username for this identity")
}
