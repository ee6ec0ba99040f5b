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
		// The data-protection officer of BE10, who reads who accessed its patients.
		user("bloodnetdpo", "Demo Data Protection Officer", RoleDataProtection, "BE10"),
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
	if err := s.seedDemoPatients(ctx); err != nil {
		return created, err
	}
	return created, s.store.PutSetting(ctx, "demo.seeded", now.Format(time.RFC3339))
}

// demoPatients are the synthetic patients of the demo network, by enrolling user: invented
// names, dates and record numbers.
var demoPatients = map[string][]struct {
	last, first string
	gender      Gender
	birth       Date
	registry    bool
}{
	"bloodnethpuser1": {{"Addel", "Roger", GenderMale, "1976-02-05", true}, {"Vermeulen", "Lotte", GenderFemale, "1988-11-23", false},
		{"Janssens", "Pieter", GenderMale, "2012-04-17", true}},
	"bloodnethpuser2": {{"Petrova", "Desislava", GenderFemale, "1969-08-30", true}, {"Dimitrov", "Kaloyan", GenderMale, "1995-01-12", false}},
	"bloodnethpuser3": {{"Georgiou", "Eleni", GenderFemale, "1981-06-09", true}, {"Christodoulou", "Andreas", GenderMale, "2003-10-02", true}},
	"bloodnethpuser4": {{"Novotná", "Tereza", GenderFemale, "1990-03-27", false}, {"Dvořák", "Jakub", GenderMale, "1958-12-15", true}},
	"bloodnethpuser5": {{"Lefèvre", "Camille", GenderOther, "1979-09-19", true}, {"Moreau", "Théo", GenderMale, "2016-07-04", false},
		{"Rousseau", "Inès", GenderFemale, "1964-02-29", true}},
}

// seedDemoPatients enrols the demo patients once (a marker setting records it).
func (s *Service) seedDemoPatients(ctx context.Context) error {
	if _, done, err := s.store.Setting(ctx, "demo.patients"); err != nil {
		return s.storeErr(err, "load the demo patients")
	} else if done {
		return nil
	}
	for n, username := range []string{"bloodnethpuser1", "bloodnethpuser2", "bloodnethpuser3", "bloodnethpuser4", "bloodnethpuser5"} {
		u, err := s.store.UserByUsername(ctx, username)
		if err != nil {
			return s.storeErr(err, "load the demo patients")
		}
		p := &Principal{User: &u, Via: "demo"}
		for i, d := range demoPatients[username] {
			centre := u.Roles[0].Centre
			mrn := fmt.Sprintf("DEMO-%s-%04d", centre, i+1)
			e := Enrolment{ERN: "EuroBloodNet", Centre: centre, FirstName: d.first, LastName: d.last, Gender: d.gender,
				BirthDate: d.birth, EnrolledOn: "2026-01-15",
				Identifiers: []LocalIdentifier{{System: fmt.Sprintf("urn:oid:2.999.1.%d", n+1), Value: mrn}},
				Consents: []ConsentAnswer{{Kind: ConsentCare, Given: true, Date: "2026-01-15"},
					{Kind: ConsentRegistry, Given: d.registry, Date: "2026-01-15", Note: map[bool]string{true: "OK"}[d.registry]},
					{Kind: ConsentResearch, Given: false, Date: "2026-01-15"}}}
			if _, err := s.Enrol(ctx, p, e, RequestInfo{}); err != nil && KindOf(err) != KindConflict {
				return fmt.Errorf("demo patient of %s: %w", username, err)
			}
		}
	}
	return s.store.PutSetting(ctx, "demo.patients", s.Now().Format(time.RFC3339))
}
