package cpms

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// DemoPassword is the password of every demo user. It is only set when the demo network is
// loaded, which the server does only in demo mode.
const DemoPassword = "cpms-demo"

// DemoNetwork is the training network: two ERNs, six centres and one user per profile. Every
// person in it is fictitious.
func DemoNetwork() ([]Centre, []ERN, []NewUser) {
	centres := []Centre{
		{Code: "BE10", Name: "University Hospital Leuven", Country: "BE"},
		{Code: "BG07", Name: "Varna Expert Center of coagulopathies and rare anemias", Country: "BG"},
		{Code: "CY01", Name: "Archbishop Makarios III Hospital", Country: "CY"},
		{Code: "CZ08", Name: "University Hospital Brno", Country: "CZ"},
		{Code: "FR08", Name: "Assistance Publique-Hôpitaux de Paris, Hôpital Saint-Louis", Country: "FR"},
		{Code: "IT10", Name: "Riuniti hospitals Villa Sofia-Cervello - Palermo", Country: "IT"},
	}
	erns := []ERN{
		{Code: "EuroBloodNet", Name: "European Reference Network on Rare Haematological Diseases",
			ThematicAreas: []string{"Amyloidosis", "Rare lymphomas", "Rare anaemias", "Haemophilia"},
			Centres:       []string{"BE10", "BG07", "CY01", "CZ08", "FR08", "IT10"}},
		{Code: "ITHACA", Name: "European Reference Network on Rare Congenital Malformations and Rare Intellectual Disability",
			ThematicAreas: []string{"Intellectual disability", "Congenital malformations", "Neurodevelopmental disorders"},
			Centres:       []string{"BE10", "FR08", "IT10"}},
	}
	const ern = "EuroBloodNet"
	user := func(name, display string, role Role, centre string) NewUser {
		return NewUser{Username: name, DisplayName: display, Email: name + "@demo.invalid", Password: DemoPassword,
			Roles: []RoleGrant{{Role: role, ERN: ern, Centre: centre}}}
	}
	users := []NewUser{
		user("bloodnethpuser1", "Demo Clinician One", RoleHP, "BE10"),
		user("bloodnethpuser2", "Demo Clinician Two", RoleHP, "BG07"),
		user("bloodnethpuser3", "Demo Clinician Three", RoleHP, "CY01"),
		user("bloodnethpuser4", "Demo Clinician Four", RoleHP, "CZ08"),
		user("bloodnethpuser5", "Demo Clinician Five", RoleHP, "FR08"),
		user("bloodnetcoord", "Demo Coordinator", RoleCoordinator, "IT10"),
		user("bloodnetdispatcher", "Demo Dispatcher", RoleDispatcher, "IT10"),
		user("bloodnetdatabase", "Demo Researcher", RoleResearcher, ""),
		user("bloodnetguest", "Demo Guest Expert", RoleGuest, "BE10"),
		user("bloodnetadmin", "Demo ERN Administrator", RoleERNAdmin, ""),
		// Beyond the CPMS training accounts: an assistant of bloodnethpuser1 at BE10.
		user("bloodnetassistant", "Demo Assistant", RoleAssistant, "BE10"),
	}
	return centres, erns, users
}

// SeedDemo loads the demo network. It is idempotent and safe when several processes run it at
// once: what exists is left as it is.
func (s *Service) SeedDemo(ctx context.Context, p *Principal) (created int, err error) {
	if p == nil || p.Operator == "" {
		return 0, Errorf(KindPermission, "only the operator loads the demo network")
	}
	centres, erns, users := DemoNetwork()
	for _, c := range centres {
		if err := s.store.PutCentre(ctx, c); err != nil {
			return 0, s.storeErr(err, "load the demo centres")
		}
	}
	for _, e := range erns {
		if err := s.store.PutERN(ctx, e); err != nil {
			return 0, s.storeErr(err, "load the demo ERNs")
		}
	}
	now := s.Now()
	for _, nu := range users {
		if _, err := s.store.UserByUsername(ctx, nu.Username); err == nil {
			continue
		} else if !errors.Is(err, ErrNotFound) {
			return created, s.storeErr(err, "load the demo users")
		}
		for i := range nu.Roles {
			if nu.Roles[i].Role == RoleGuest {
				exp := now.Add(GuestMaxValidity - 24*time.Hour)
				nu.Roles[i].ExpiresAt = &exp
			}
		}
		// The demo password is fixed and short by design: the policy is for real accounts.
		if _, _, err := s.createUser(ctx, p, nu, RequestInfo{}, false); err != nil {
			if KindOf(err) == KindConflict {
				continue // another process created it meanwhile
			}
			return created, fmt.Errorf("demo user %s: %w", nu.Username, err)
		}
		created++
	}
	// The demo assistant works for the first demo clinician.
	clinician, err1 := s.store.UserByUsername(ctx, "bloodnethpuser1")
	assistant, err2 := s.store.UserByUsername(ctx, "bloodnetassistant")
	if err := errors.Join(err1, err2); err != nil {
		return created, s.storeErr(err, "load the demo users")
	}
	if ok, err := s.store.IsAssistant(ctx, clinician.ID, assistant.ID); err != nil {
		return created, s.storeErr(err, "load the demo users")
	} else if !ok {
		if err := s.store.AppointAssistant(ctx, clinician.ID, assistant.ID, now); err != nil && !errors.Is(err, ErrConflict) {
			return created, s.storeErr(err, "load the demo users")
		}
	}
	return created, s.store.PutSetting(ctx, "demo.seeded", now.Format(time.RFC3339))
}
