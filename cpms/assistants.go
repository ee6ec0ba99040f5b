package cpms

import (
	"context"
	"errors"
)

// AppointAssistant lets a clinician (HP) appoint a user of the same centre, who holds the
// Assistant role there, to act on their behalf.
func (s *Service) AppointAssistant(ctx context.Context, p *Principal, assistantUsername string, ri RequestInfo) error {
	if p == nil || p.User == nil || p.OnBehalfOf != nil {
		return Errorf(KindPermission, "clinicians appoint their own assistants")
	}
	a, err := s.UserByUsername(ctx, assistantUsername)
	if err != nil {
		return err
	}
	if !CanActFor(&a, p.User, true, s.Now()) {
		return Errorf(KindInvalid, "the user must hold the Assistant role at one of your centres")
	}
	if err := s.store.AppointAssistant(ctx, p.User.ID, a.ID, s.Now()); err != nil && !errors.Is(err, ErrConflict) {
		return s.storeErr(err, "appoint the assistant")
	}
	return s.audit(ctx, p, ri, AuditEvent{Action: "assistant.appoint", ObjectType: "user", ObjectID: a.ID})
}

// DismissAssistant ends an appointment.
func (s *Service) DismissAssistant(ctx context.Context, p *Principal, assistantID string, ri RequestInfo) error {
	if p == nil || p.User == nil || p.OnBehalfOf != nil {
		return Errorf(KindPermission, "clinicians dismiss their own assistants")
	}
	if err := s.store.DismissAssistant(ctx, p.User.ID, assistantID); err != nil && !errors.Is(err, ErrNotFound) {
		return s.storeErr(err, "dismiss the assistant")
	}
	return s.audit(ctx, p, ri, AuditEvent{Action: "assistant.dismiss", ObjectType: "user", ObjectID: assistantID})
}

// Assistants lists a clinician's assistants; Principals lists the clinicians an assistant serves.
func (s *Service) Assistants(ctx context.Context, p *Principal) ([]User, error) {
	if p == nil || p.User == nil {
		return nil, Errorf(KindUnauthenticated, "sign in first")
	}
	us, err := s.store.Assistants(ctx, p.User.ID)
	return us, s.storeErr(err, "list assistants")
}

func (s *Service) Principals(ctx context.Context, p *Principal) ([]User, error) {
	if p == nil || p.User == nil {
		return nil, Errorf(KindUnauthenticated, "sign in first")
	}
	us, err := s.store.Principals(ctx, p.User.ID)
	return us, s.storeErr(err, "list clinicians")
}

// ActFor switches a session to act on behalf of a clinician ("" to act as oneself again).
func (s *Service) ActFor(ctx context.Context, p *Principal, clinicianID string, ri RequestInfo) error {
	if p == nil || p.User == nil || p.SessionID == "" {
		return Errorf(KindPermission, "acting on behalf of a clinician needs a browser session")
	}
	if clinicianID != "" {
		c, err := s.store.UserByID(ctx, clinicianID)
		if errors.Is(err, ErrNotFound) {
			return Errorf(KindNotFound, "no such clinician")
		} else if err != nil {
			return s.storeErr(err, "read the clinician")
		}
		ok, err := s.store.IsAssistant(ctx, clinicianID, p.User.ID)
		if err != nil {
			return s.storeErr(err, "read the appointment")
		}
		if !CanActFor(p.User, &c, ok, s.Now()) {
			return Errorf(KindPermission, "you are not this clinician's assistant")
		}
	}
	if err := s.store.SetSessionOnBehalfOf(ctx, p.SessionID, clinicianID); err != nil {
		return s.storeErr(err, "switch")
	}
	return s.audit(ctx, p, ri, AuditEvent{Action: "assistant.act-for", ObjectType: "user", ObjectID: clinicianID})
}

// Centres lists the centres, by code.
func (s *Service) Centres(ctx context.Context) ([]Centre, error) {
	cs, err := s.store.Centres(ctx)
	return cs, s.storeErr(err, "read the centres")
}

// ERNs lists the networks with their areas and centres, for access requests and role forms.
func (s *Service) ERNs(ctx context.Context) ([]ERN, []Centre, error) {
	es, err := s.store.ERNs(ctx)
	if err != nil {
		return nil, nil, s.storeErr(err, "read the networks")
	}
	cs, err := s.store.Centres(ctx)
	return es, cs, s.storeErr(err, "read the centres")
}
