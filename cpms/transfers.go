package cpms

import (
	"context"
	"errors"
	"slices"
	"strings"
)

// RequestTransfer asks another centre of the patient's ERN to take over the patient's record.
// Whoever sees the patient identified may ask; one request at a time per patient.
func (s *Service) RequestTransfer(ctx context.Context, p *Principal, patientID, toCentre, comment string, ri RequestInfo) (Transfer, error) {
	pat, err := s.patient(ctx, p, patientID)
	if err != nil {
		return Transfer{}, err
	}
	if p.User == nil {
		return Transfer{}, Errorf(KindPermission, "only people ask for transfers")
	}
	var v Validation
	v.Check(ValidCentreCode(toCentre), "toCentre", "choose a centre")
	v.Check(toCentre != pat.Centre, "toCentre", "the patient is already at this centre")
	v.Check(len(comment) <= 2000, "comment", "at most 2000 characters")
	if err := v.Err(); err != nil {
		return Transfer{}, err
	}
	if err := s.checkNetwork(ctx, pat.ERN, toCentre); err != nil {
		return Transfer{}, err
	}
	by := p.User.Ref()
	if p.OnBehalfOf != nil {
		by = p.OnBehalfOf.Ref()
	}
	t := Transfer{ID: s.newID(), PatientID: pat.ID, CPMSID: pat.CPMSID, ERN: pat.ERN, FromCentre: pat.Centre, ToCentre: toCentre,
		RequestedBy: by, Comment: strings.TrimSpace(comment), Status: TransferPending, CreatedAt: s.Now()}
	if err := s.store.CreateTransfer(ctx, t); err != nil {
		if errors.Is(err, ErrConflict) {
			return Transfer{}, Errorf(KindConflict, "a transfer of this patient is already waiting for a decision")
		}
		return Transfer{}, s.storeErr(err, "file the transfer request")
	}
	return t, s.audit(ctx, p, ri, AuditEvent{Action: "patient.transfer.request", ObjectType: "transfer", ObjectID: t.ID,
		PatientID: pat.ID, Detail: pat.Centre + " → " + toCentre})
}

// Transfers lists the transfer requests from or to the principal's centres, or of one patient
// the principal sees. They carry the CPMS ID, never the name.
func (s *Service) Transfers(ctx context.Context, p *Principal, patientID string, status TransferStatus) ([]Transfer, error) {
	if p == nil || (p.User == nil && p.Operator == "") {
		return nil, Errorf(KindUnauthenticated, "sign in first")
	}
	f := TransferFilter{Status: status}
	if patientID != "" {
		if _, err := s.patient(ctx, p, patientID); err != nil {
			return nil, err
		}
		f.PatientID = patientID
	} else if p.Operator == "" {
		for _, g := range EffectiveGrants(p, s.Now()) {
			if g.Centre != "" && (g.Role == RoleHP || g.Role == RoleGuest) && !slices.Contains(f.Centres, g.Centre) {
				f.Centres = append(f.Centres, g.Centre)
			}
		}
		if len(f.Centres) == 0 {
			return nil, nil
		}
	}
	ts, err := s.store.Transfers(ctx, f)
	return ts, s.storeErr(err, "read transfer requests")
}

// DecideTransfer accepts or refuses a pending transfer. A clinician of the receiving centre in
// the patient's ERN decides; on acceptance the patient moves there and the deciding clinician
// becomes responsible for them. The CPMS ID does not change: it names the patient for good.
func (s *Service) DecideTransfer(ctx context.Context, p *Principal, id string, accept bool, comment string, ri RequestInfo) (Transfer, error) {
	t, err := s.store.Transfer(ctx, id)
	if errors.Is(err, ErrNotFound) {
		return Transfer{}, Errorf(KindNotFound, "no such transfer request")
	} else if err != nil {
		return Transfer{}, s.storeErr(err, "read the transfer request")
	}
	if err := s.Authorize(ctx, p, ActDecideTransfer, Resource{ERN: t.ERN, Centre: t.ToCentre}, ri); err != nil {
		return Transfer{}, err
	}
	if p.User == nil {
		return Transfer{}, Errorf(KindPermission, "only people decide transfers")
	}
	by := p.User.Ref()
	if p.OnBehalfOf != nil {
		by = p.OnBehalfOf.Ref()
	}
	status := TransferRefused
	if accept {
		status = TransferAccepted
	}
	now := s.Now()
	out, err := s.store.DecideTransfer(ctx, id, status, by, strings.TrimSpace(comment), now, func(pat *Patient) error {
		if pat.Centre != t.FromCentre {
			return Errorf(KindConflict, "the patient has moved since the request")
		}
		pat.Centre, pat.Clinician = t.ToCentre, by
		pat.Version++
		pat.UpdatedAt, pat.UpdatedBy = now, p.Actor()
		return nil
	})
	if err != nil {
		return Transfer{}, s.storeErr(err, "decide the transfer")
	}
	return out, s.audit(ctx, p, ri, AuditEvent{Action: "patient.transfer." + string(status), ObjectType: "transfer",
		ObjectID: id, PatientID: t.PatientID, Detail: t.FromCentre + " → " + t.ToCentre})
}
