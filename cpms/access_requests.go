package cpms

import (
	"context"
	"errors"
	"strings"
)

// NewAccessRequest is a user's request for a profile (ERN → centre → role, with a comment).
type NewAccessRequest struct {
	ERN     string
	Centre  string
	Role    Role
	Comment string
}

// RequestAccess files an access request for the signed-in user.
func (s *Service) RequestAccess(ctx context.Context, p *Principal, nr NewAccessRequest, ri RequestInfo) (AccessRequest, error) {
	if err := s.Authorize(ctx, p, ActRequestAccess, Resource{}, ri); err != nil {
		return AccessRequest{}, err
	}
	if p.User == nil {
		return AccessRequest{}, Errorf(KindPermission, "only people request access")
	}
	var v Validation
	v.Check(nr.Role.Valid() && nr.Role != RoleHelpdesk, "role", "choose a profile")
	v.Check(ValidERNCode(nr.ERN), "ern", "choose an ERN")
	if nr.Role.NeedsCentre() {
		v.Check(ValidCentreCode(nr.Centre), "centre", "choose a centre")
	}
	v.Check(len(nr.Comment) <= 2000, "comment", "at most 2000 characters")
	if err := v.Err(); err != nil {
		return AccessRequest{}, err
	}
	if err := s.checkNetwork(ctx, nr.ERN, nr.Centre); err != nil {
		return AccessRequest{}, err
	}
	pending, err := s.store.AccessRequests(ctx, AccessFilter{Status: AccessPending, UserID: p.User.ID})
	if err != nil {
		return AccessRequest{}, s.storeErr(err, "read access requests")
	}
	for _, r := range pending {
		if r.ERN == nr.ERN && r.Centre == nr.Centre && r.Role == nr.Role {
			return AccessRequest{}, Errorf(KindConflict, "you already asked for this profile; it is waiting for a decision")
		}
	}
	r := AccessRequest{ID: s.newID(), UserID: p.User.ID, User: p.User.Ref(), ERN: nr.ERN, Centre: nr.Centre, Role: nr.Role,
		Comment: strings.TrimSpace(nr.Comment), Status: AccessPending, CreatedAt: s.Now()}
	if err := s.store.CreateAccessRequest(ctx, r); err != nil {
		return AccessRequest{}, s.storeErr(err, "file the request")
	}
	return r, s.audit(ctx, p, ri, AuditEvent{Action: "access.request", ObjectType: "access-request", ObjectID: r.ID,
		Detail: string(r.Role) + " " + r.ERN + " " + r.Centre})
}

// AccessRequests lists the requests the principal decides (those of their ERNs) and their own.
func (s *Service) AccessRequests(ctx context.Context, p *Principal, status AccessStatus) ([]AccessRequest, error) {
	if p == nil || (p.User == nil && p.Operator == "") {
		return nil, Errorf(KindUnauthenticated, "sign in first")
	}
	if p.Operator != "" {
		rs, err := s.store.AccessRequests(ctx, AccessFilter{Status: status})
		return rs, s.storeErr(err, "read access requests")
	}
	var erns []string
	for _, g := range EffectiveGrants(p, s.Now()) {
		if g.Role == RoleERNAdmin || g.Role == RoleCoordinator {
			erns = append(erns, g.ERN)
		}
	}
	seen := map[string]bool{}
	var out []AccessRequest
	add := func(f AccessFilter) error {
		rs, err := s.store.AccessRequests(ctx, f)
		if err != nil {
			return s.storeErr(err, "read access requests")
		}
		for _, r := range rs {
			if !seen[r.ID] {
				seen[r.ID] = true
				out = append(out, r)
			}
		}
		return nil
	}
	if len(erns) > 0 {
		if err := add(AccessFilter{Status: status, ERNs: erns}); err != nil {
			return nil, err
		}
	}
	if err := add(AccessFilter{Status: status, UserID: p.User.ID}); err != nil {
		return nil, err
	}
	return out, nil
}

// DecideAccessRequest approves (granting the role) or refuses a pending request. ERN admins and
// coordinators of the request's ERN decide; nobody decides their own request.
func (s *Service) DecideAccessRequest(ctx context.Context, p *Principal, id string, approve bool, comment string, ri RequestInfo) (AccessRequest, error) {
	r, err := s.store.AccessRequest(ctx, id)
	if errors.Is(err, ErrNotFound) {
		return AccessRequest{}, Errorf(KindNotFound, "no such access request")
	} else if err != nil {
		return AccessRequest{}, s.storeErr(err, "read the access request")
	}
	if err := s.Authorize(ctx, p, ActDecideAccess, Resource{ERN: r.ERN}, ri); err != nil {
		return AccessRequest{}, err
	}
	if r.Role == RoleERNAdmin {
		// Administrator profiles are given by administrators, not by coordinators.
		if err := s.Authorize(ctx, p, ActManageUsers, Resource{ERN: r.ERN}, ri); err != nil {
			return AccessRequest{}, err
		}
	}
	if (p.User != nil && p.User.ID == r.UserID) || (p.OnBehalfOf != nil && p.OnBehalfOf.ID == r.UserID) {
		return AccessRequest{}, Errorf(KindPermission, "someone else must decide your own request")
	}
	status := AccessRefused
	var g *RoleGrant
	if approve {
		status = AccessApproved
		g = &RoleGrant{ID: s.newID(), Role: r.Role, ERN: r.ERN, Centre: r.Centre, CreatedAt: s.Now()}
		if r.Role == RoleGuest {
			exp := s.Now().Add(GuestMinValidity)
			g.ExpiresAt = &exp
		}
		if p.User != nil {
			g.GrantedBy = p.User.ID
		}
	}
	by := UserRef{}
	if p.User != nil {
		by = p.User.Ref()
	} else {
		by = UserRef{Username: p.Actor()}
	}
	out, err := s.store.DecideAccessRequest(ctx, id, status, by, strings.TrimSpace(comment), s.Now(), g)
	if errors.Is(err, ErrConflict) {
		return AccessRequest{}, Errorf(KindConflict, "the request was already decided")
	} else if err != nil {
		return AccessRequest{}, s.storeErr(err, "decide the request")
	}
	return out, s.audit(ctx, p, ri, AuditEvent{Action: "access." + string(status), ObjectType: "access-request", ObjectID: id,
		Detail: string(r.Role) + " " + r.ERN + " " + r.Centre + " for " + r.User.Username})
}
