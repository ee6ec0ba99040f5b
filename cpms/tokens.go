package cpms

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/ern-cpms/cpms/internal/auth"
)

// NewToken asks for a bearer token: for a user (acting as that user) or for a centre's system.
type NewToken struct {
	Username string // a personal access token for this user…
	Centre   string // …or a system token for this centre…
	System   System // …and this kind of system
	Name     string
	TTL      time.Duration // 0: no expiry
}

// CreateToken creates a token and returns its plain value, shown once. Users create their own
// personal tokens; operators create any token; ERN admins create system tokens for centres of
// their ERN.
func (s *Service) CreateToken(ctx context.Context, p *Principal, nt NewToken, ri RequestInfo) (string, Token, error) {
	if p == nil {
		return "", Token{}, Errorf(KindUnauthenticated, "sign in first")
	}
	now := s.Now()
	t := Token{ID: s.newID(), Name: strings.TrimSpace(nt.Name), CreatedAt: now}
	if nt.TTL > 0 {
		exp := now.Add(nt.TTL)
		t.ExpiresAt = &exp
	}
	var v Validation
	prefix := prefixUser
	switch {
	case nt.Username != "" && nt.Centre == "" && nt.System == "":
		u, err := s.UserByUsername(ctx, nt.Username)
		if err != nil {
			return "", Token{}, err
		}
		if u.Disabled {
			v.Add("user", "the account is disabled")
		}
		if p.Operator == "" && (p.User == nil || p.User.ID != u.ID) {
			return "", Token{}, Errorf(KindPermission, "users create their own tokens")
		}
		t.UserID = u.ID
		if t.Name == "" {
			t.Name = "personal token of " + u.Username
		}
	case nt.Username == "" && nt.Centre != "":
		v.Check(nt.System.Valid(), "system", "pacs or his")
		if _, err := s.store.Centre(ctx, nt.Centre); errors.Is(err, ErrNotFound) {
			v.Add("centre", "no such centre")
		} else if err != nil {
			return "", Token{}, s.storeErr(err, "read the centre")
		}
		if err := v.Err(); err != nil {
			return "", Token{}, err
		}
		if p.Operator == "" && !s.administersCentre(ctx, p, nt.Centre) {
			return "", Token{}, Errorf(KindPermission, "only an ERN admin of the centre's ERN creates its system tokens")
		}
		t.Centre, t.System, prefix = nt.Centre, nt.System, prefixSystem
		if t.Name == "" {
			t.Name = nt.Centre + " " + string(nt.System)
		}
	default:
		v.Add("token", "give either a user or a centre and a system")
	}
	if err := v.Err(); err != nil {
		return "", Token{}, err
	}
	plain, hash, err := auth.NewToken(s.rand, prefix)
	if err != nil {
		return "", Token{}, err
	}
	t.Hash = hash
	if err := s.store.CreateToken(ctx, t); err != nil {
		return "", Token{}, s.storeErr(err, "create the token")
	}
	return plain, t, s.audit(ctx, p, ri, AuditEvent{Action: "token.create", ObjectType: "token", ObjectID: t.ID, Detail: t.Name})
}

func (s *Service) administersCentre(ctx context.Context, p *Principal, centre string) bool {
	erns, err := s.store.ERNs(ctx)
	if err != nil {
		return false
	}
	for _, e := range erns {
		for _, c := range e.Centres {
			if c == centre && Authorize(p, ActManageUsers, Resource{ERN: e.Code}, s.Now()) == nil {
				return true
			}
		}
	}
	return false
}

// RevokeToken revokes a token by ID; its owner, an operator or (for system tokens) an ERN admin
// of the centre may.
func (s *Service) RevokeToken(ctx context.Context, p *Principal, id string, ri RequestInfo) error {
	if p == nil {
		return Errorf(KindUnauthenticated, "sign in first")
	}
	t, err := s.store.Token(ctx, id)
	if errors.Is(err, ErrNotFound) {
		return Errorf(KindNotFound, "no such token")
	} else if err != nil {
		return s.storeErr(err, "read the token")
	}
	allowed := p.Operator != "" ||
		(t.UserID != "" && p.User != nil && p.User.ID == t.UserID) ||
		(t.Centre != "" && s.administersCentre(ctx, p, t.Centre))
	if !allowed {
		return Errorf(KindPermission, "you may not revoke this token")
	}
	if err := s.store.RevokeToken(ctx, id, s.Now()); err != nil {
		return s.storeErr(err, "revoke the token")
	}
	return s.audit(ctx, p, ri, AuditEvent{Action: "token.revoke", ObjectType: "token", ObjectID: id})
}

// Tokens lists tokens an operator or owner may see.
func (s *Service) Tokens(ctx context.Context, p *Principal, f TokenFilter) ([]Token, error) {
	if p == nil {
		return nil, Errorf(KindUnauthenticated, "sign in first")
	}
	if p.Operator == "" {
		if p.User == nil {
			return nil, Errorf(KindPermission, "you may not list tokens")
		}
		f = TokenFilter{UserID: p.User.ID}
	}
	ts, err := s.store.Tokens(ctx, f)
	return ts, s.storeErr(err, "list tokens")
}
