package storetest

import (
	"testing"

	"github.com/ern-cpms/cpms/cpms"
)

func testNetwork(t *testing.T, s cpms.Store) {
	ctx := t.Context()
	_, err := s.Centre(ctx, "BE10")
	wantErr(t, "Centre of an empty store", err, cpms.ErrNotFound)
	_, err = s.ERN(ctx, "EuroBloodNet")
	wantErr(t, "ERN of an empty store", err, cpms.ErrNotFound)
	if got, err := s.Centres(ctx); err != nil || len(got) != 0 {
		t.Errorf("Centres of an empty store = %v, %v", got, err)
	}
	if got, err := s.ERNs(ctx); err != nil || len(got) != 0 {
		t.Errorf("ERNs of an empty store = %v, %v", got, err)
	}

	centres := []cpms.Centre{
		{Code: "FR01", Name: "Hôpital Necker", Country: "FR"},
		{Code: "BE10", Name: "UZ Leuven", Country: "BE"},
		{Code: "DE05", Name: "Charité", Country: "DE"},
	}
	for _, c := range centres {
		must(t, s.PutCentre(ctx, c))
	}
	// Putting again updates.
	be10 := cpms.Centre{Code: "BE10", Name: "University Hospitals Leuven", Country: "BE"}
	must(t, s.PutCentre(ctx, be10))
	got, err := s.Centre(ctx, "BE10")
	must(t, err)
	wantDiff(t, "Centre after update", be10, got)
	list, err := s.Centres(ctx)
	must(t, err)
	wantDiff(t, "Centres, by code", []cpms.Centre{be10, centres[2], centres[0]}, list)

	blood := cpms.ERN{Code: "EuroBloodNet", Name: "European Reference Network on Rare Haematological Diseases",
		ThematicAreas: []string{"Red cells", "Bleeding disorders", "Bone marrow failure"},
		Centres:       []string{"FR01", "BE10"}}
	kidney := cpms.ERN{Code: "ERKNet", Name: "European Rare Kidney Disease Reference Network",
		Centres: []string{"DE05"}}
	must(t, s.PutERN(ctx, blood))
	must(t, s.PutERN(ctx, kidney))

	wantBlood := blood
	wantBlood.Centres = []string{"BE10", "FR01"} // by code; areas keep their order
	e, err := s.ERN(ctx, "EuroBloodNet")
	must(t, err)
	wantDiff(t, "ERN", wantBlood, e)
	erns, err := s.ERNs(ctx)
	must(t, err)
	wantDiff(t, "ERNs, by code", []cpms.ERN{kidney, wantBlood}, erns)
	for _, tc := range []struct {
		ern, centre   string
		known, member bool
	}{{"EuroBloodNet", "BE10", true, true}, {"EuroBloodNet", "DE05", true, false}, {"NoSuch", "BE10", false, false}} {
		known, member, err := s.ERNMember(ctx, tc.ern, tc.centre)
		must(t, err)
		if known != tc.known || member != tc.member {
			t.Errorf("ERNMember(%s, %s) = %v, %v", tc.ern, tc.centre, known, member)
		}
	}

	// Putting again replaces the name, the areas and the centres.
	blood2 := cpms.ERN{Code: "EuroBloodNet", Name: "EuroBloodNet", ThematicAreas: []string{"Haemostasis"},
		Centres: []string{"DE05"}}
	must(t, s.PutERN(ctx, blood2))
	e, err = s.ERN(ctx, "EuroBloodNet")
	must(t, err)
	wantDiff(t, "ERN after update", blood2, e)
	e, err = s.ERN(ctx, "ERKNet")
	must(t, err)
	wantDiff(t, "other ERN after update", kidney, e)
}

func testNetworkUnknownCentre(t *testing.T, s cpms.Store) {
	ctx := t.Context()
	must(t, s.PutCentre(ctx, cpms.Centre{Code: "BE10", Name: "UZ Leuven", Country: "BE"}))
	e := cpms.ERN{Code: "ERKNet", Name: "ERKNet", ThematicAreas: []string{"Glomerular"}, Centres: []string{"BE10"}}
	must(t, s.PutERN(ctx, e))
	bad := cpms.ERN{Code: "ERKNet", Name: "Renamed", ThematicAreas: []string{"Tubular"}, Centres: []string{"BE10", "XX99"}}
	wantErr(t, "PutERN with an unknown centre", s.PutERN(ctx, bad), cpms.ErrNotFound)
	got, err := s.ERN(ctx, "ERKNet")
	must(t, err)
	wantDiff(t, "ERN after a failed update (unchanged)", e, got)
}
