package cpms

import (
	"context"
	"errors"
)

// The directory: who the deployment's users are, as other systems refer to them (the FHIR
// Practitioner resource, the clinician of an enrolment made by a hospital system). Any
// authenticated principal may read it; it shows no credentials and no contact details.

// Practitioner returns the user with this ID as the directory shows it.
func (s *Service) Practitioner(ctx context.Context, p *Principal, id string) (User, error) {
	if p == nil || (p.User == nil && p.System == "" && p.Operator == "") {
		return User{}, Errorf(KindUnauthenticated, "sign in first")
	}
	u, err := s.store.UserByID(ctx, id)
	if errors.Is(err, ErrNotFound) {
		return User{}, Errorf(KindNotFound, "no such practitioner")
	} else if err != nil {
		return User{}, s.storeErr(err, "read the directory")
	}
	return directoryEntry(u), nil
}

// Practitioners returns the users matching f (by username) as the directory shows them.
func (s *Service) Practitioners(ctx context.Context, p *Principal, f UserFilter) ([]User, error) {
	if p == nil || (p.User == nil && p.System == "" && p.Operator == "") {
		return nil, Errorf(KindUnauthenticated, "sign in first")
	}
	us, err := s.store.Users(ctx, f)
	if err != nil {
		return nil, s.storeErr(err, "read the directory")
	}
	for i := range us {
		us[i] = directoryEntry(us[i])
	}
	return us, nil
}

// directoryEntry keeps what the directory shows of a user: ID, username, display name, state
// and roles.
func directoryEntry(u User) User {
	return User{ID: u.ID, Username: u.Username, DisplayName: u.DisplayName, Disabled: u.Disabled,
		CreatedAt: u.CreatedAt, Roles: u.Roles}
}
