package fhirhttp_test

import (
	"net/url"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/ern-cpms/cpms/fhir"
)

// cohort enrols fictitious patients at BE10 (by bloodnethpuser1) and returns their IDs by
// family name.
func cohort(e *env) map[string]string {
	people := []person{
		{first: "Jörg", last: "Müller", gender: "male", birth: "1971-03-04", mrn: "S-1"},
		{first: "Ana", last: "Muñoz", gender: "female", birth: "1983-11-30", mrn: "S-2"},
		{first: "Sven", last: "Mulder", gender: "male", birth: "1983-01-15", mrn: "S-3"},
		{first: "Ilse", last: "Quist", gender: "female", birth: "1999-07-07", mrn: "S-4"},
		{first: "Noor", last: "Quaade", gender: "other", birth: "2005-12-24", mrn: "S-5"},
		{first: "Piet", last: "Quintijn", gender: "unknown", birth: "1983-06-01", mrn: "S-6"},
		{first: "Ewa", last: "Quell", gender: "female", birth: "1962-09-09", mrn: "S-7"},
	}
	out := map[string]string{}
	for _, p := range people {
		out[p.last] = e.enrol("bloodnethpuser1", p, care, registry, researchNo).id
	}
	return out
}

func sorted(ss []string) []string {
	ss = slices.Clone(ss)
	sort.Strings(ss)
	return ss
}

func want(t *testing.T, what string, got []string, ids map[string]string, names ...string) {
	t.Helper()
	var w []string
	for _, n := range names {
		w = append(w, ids[n])
	}
	if !slices.Equal(sorted(got), sorted(w)) {
		inv := map[string]string{}
		for n, id := range ids {
			inv[id] = n
		}
		var gotNames []string
		for _, id := range got {
			gotNames = append(gotNames, inv[id])
		}
		t.Errorf("%s: got %v, want %v", what, gotNames, names)
	}
}

func TestPatientSearch(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *env) {
		ids := cohort(e)
		// Another centre's patient with a similar name is never found from BE10.
		bg := e.enrol("bloodnethpuser2", person{first: "Mila", last: "Mulev", gender: "female", birth: "1983-02-02", mrn: "S-8"}, care)
		ids["Mulev"] = bg.id
		s := func(q string, who ...string) []string {
			t.Helper()
			w := "bloodnethpuser1"
			if len(who) > 0 {
				w = who[0]
			}
			return ids2(e.do("GET", "/fhir/Patient?"+q, w, nil).want(200).json())
		}
		want(t, "family=mu", s("family=mu"), ids, "Müller", "Muñoz", "Mulder")
		want(t, "family=MULL (accents)", s("family=MULL"), ids, "Müller")
		want(t, "family=munoz", s("family=munoz"), ids, "Muñoz")
		want(t, "family=qui,mul", s("family=qui,mul"), ids, "Quist", "Quintijn", "Mulder", "Müller")
		want(t, "given=jorg", s("given=jorg"), ids, "Müller")
		want(t, "name=ilse", s("name=ilse"), ids, "Quist")
		want(t, "name=quell", s("name=quell"), ids, "Quell")
		want(t, "identifier=system|value", s("identifier="+url.QueryEscape(mrnSystem+"|S-4")), ids, "Quist")
		want(t, "identifier=value", s("identifier=S-5"), ids, "Quaade")
		want(t, "identifier=|value", s("identifier=%7CS-5"), ids)
		want(t, "identifier=other system", s("identifier="+url.QueryEscape("urn:oid:1.2.3|S-5")), ids)
		cpmsID := e.do("GET", "/fhir/Patient/"+ids["Quell"], "bloodnethpuser1", nil).want(200).json()["identifier"].([]any)[0].(map[string]any)["value"].(string)
		want(t, "identifier=CPMS ID", s("identifier="+cpmsID), ids, "Quell")
		want(t, "identifier=CPMS system|CPMS ID", s("identifier="+url.QueryEscape(fhir.CPMSIDSystem+"|"+cpmsID)), ids, "Quell")
		want(t, "birthdate=1983", s("family=mu,qu&birthdate=1983"), ids, "Muñoz", "Mulder", "Quintijn")
		want(t, "birthdate=1983-06", s("birthdate=1983-06"), ids, "Quintijn")
		want(t, "birthdate=ge1999&birthdate=lt2006", s("family=qu&birthdate=ge1999&birthdate=lt2006"), ids, "Quist", "Quaade")
		want(t, "birthdate=le1971-03-04", s("family=mu,qu&birthdate=le1971-03-04"), ids, "Müller", "Quell")
		want(t, "birthdate=gt1999", s("family=mu,qu&birthdate=gt1999"), ids, "Quaade")
		want(t, "birthdate=ne1983", s("family=mu,qu&birthdate=ne1983"), ids, "Müller", "Quist", "Quaade", "Quell")
		want(t, "gender=other,unknown", s("gender=other,unknown"), ids, "Quaade", "Quintijn")
		want(t, "gender=system|female", s("family=mu,qu&gender="+url.QueryEscape(fhir.GenderSystem+"|female")), ids, "Muñoz", "Quist", "Quell")
		want(t, "gender=nonsense", s("gender=x"), ids)
		want(t, "_id", s("_id="+ids["Quist"]+","+ids["Mulev"]), ids, "Quist")
		want(t, "organization", s("family=mu&organization=Organization/BE10"), ids, "Müller", "Muñoz", "Mulder")
		want(t, "organization other", s("family=mu&organization=BG07"), ids)
		want(t, "_lastUpdated", s("family=mu,qu&_lastUpdated=ge2000-01-01T00:00:00Z"), ids, "Müller", "Muñoz", "Mulder", "Quist", "Quaade", "Quintijn", "Quell")
		want(t, "_lastUpdated future", s("family=mu,qu&_lastUpdated=gt2999"), ids)
		want(t, "BG07 sees its own", s("family=mu", "bloodnethpuser2"), ids, "Mulev")
		want(t, "BG07 his", s("family=mu", "BG07/his"), ids, "Mulev")
		want(t, "BE10 his", s("family=mu", "BE10/his"), ids, "Müller", "Muñoz", "Mulder")

		// Errors in parameters are 400.
		for _, q := range []string{"birthdate=1983-13", "birthdate=sa1983", "birthdate=1983,1984", "_count=-1", "_offset=x",
			"_sort=nickname", "family:exact=Mu", "family=a&family=b", "_lastUpdated=2024-01-01T10:00", "organization=BE10,BG07", "_total=maybe"} {
			e.do("GET", "/fhir/Patient?"+q, "bloodnethpuser1", nil).want(400)
		}
	})
}

// Pages: the next links lead through every match exactly once, the previous ones back.
func TestPagingAndSort(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *env) {
		ids := cohort(e)
		first := e.do("GET", "/fhir/Patient?family=mu,qu&_count=3&_sort=-birthdate", "bloodnethpuser1", nil).want(200).json()
		if first["total"] != float64(7) {
			t.Fatalf("total %v", first["total"])
		}
		var all []string
		var births []string
		page := first
		for n := 0; ; n++ {
			if n > 5 {
				t.Fatal("the next links do not end")
			}
			res, _ := entries(page)
			if len(res) > 3 {
				t.Fatalf("page of %d", len(res))
			}
			for _, r := range res {
				all = append(all, r["id"].(string))
				births = append(births, r["birthDate"].(string))
			}
			next := link(page, "next")
			if next == "" {
				break
			}
			// The link carries the search sealed, never the names searched for; following it keeps
			// the search and its order (checked on the whole walk below).
			if !strings.Contains(next, "?_page=") || strings.Contains(next, "family") || strings.Contains(next, "birthdate") {
				t.Errorf("next link shows the search: %s", next)
			}
			page = e.get(next, "bloodnethpuser1").want(200).json()
		}
		if len(all) != 7 || len(slices.Compact(sorted(all))) != 7 {
			t.Errorf("paging gave %d entries (%d distinct)", len(all), len(slices.Compact(sorted(all))))
		}
		if !slices.IsSortedFunc(births, func(a, b string) int { return strings.Compare(b, a) }) {
			t.Errorf("not sorted by birth date descending: %v", births)
		}
		prev := link(page, "previous")
		if prev == "" || link(page, "self") == "" || link(page, "first") == "" || link(page, "last") == "" {
			t.Fatalf("links of the last page: %v", page["link"])
		}
		back := e.get(prev, "bloodnethpuser1").want(200).json()
		if got := ids2(back); len(got) != 3 || got[0] != all[3] {
			t.Errorf("previous page %v", got)
		}
		// Sort by family then given; _total=none; _count=0.
		b := e.do("GET", "/fhir/Patient?family=mu,qu&_sort=family&_total=none", "bloodnethpuser1", nil).want(200).json()
		if _, ok := b["total"]; ok {
			t.Errorf("_total=none gave a total")
		}
		var fam []string
		res, _ := entries(b)
		for _, r := range res {
			fam = append(fam, r["name"].([]any)[0].(map[string]any)["family"].(string))
		}
		if strings.Join(fam, ",") != "Mulder,Müller,Muñoz,Quaade,Quell,Quintijn,Quist" {
			t.Errorf("sorted by family: %v", fam)
		}
		b = e.do("GET", "/fhir/Patient?family=mu,qu&_count=0", "bloodnethpuser1", nil).want(200).json()
		if b["total"] != float64(7) || b["entry"] != nil {
			t.Errorf("_count=0: total %v, entries %v", b["total"], b["entry"])
		}
		_ = ids
	})
}

// Unknown parameters: a warning in the searchset (lenient), or 400 (strict). POST _search
// takes a form.
func TestSearchHandlingAndPost(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *env) {
		ids := cohort(e)
		b := e.do("GET", "/fhir/Patient?family=quist&nickname=x", "bloodnethpuser1", nil).want(200).json()
		res, modes := entries(b)
		if len(res) != 2 || modes[1] != "outcome" || res[1]["resourceType"] != "OperationOutcome" {
			t.Fatalf("entries %v modes %v", len(res), modes)
		}
		if is := res[1]["issue"].([]any)[0].(map[string]any); is["severity"] != "warning" || !strings.Contains(is["diagnostics"].(string), "nickname") {
			t.Errorf("warning %v", is)
		}
		r := e.do("GET", "/fhir/Patient?family=quist&nickname=x", "bloodnethpuser1", nil, "Prefer", "handling=strict").want(400)
		if code, _ := r.issue(); code != "not-supported" {
			t.Errorf("strict issue %s", code)
		}
		r = e.do("POST", "/fhir/Patient/_search", "bloodnethpuser1", "family=qu&birthdate=ge1999",
			"Content-Type", "application/x-www-form-urlencoded").want(200)
		want(t, "POST _search", ids2(r.json()), ids, "Quist", "Quaade")
		self := link(r.json(), "self")
		if strings.Contains(self, "birthdate") || strings.Contains(self, "family") {
			t.Errorf("self link of POST _search shows the search: %s", self)
		}
		want(t, "the self link of POST _search, followed", ids2(e.get(self, "bloodnethpuser1").want(200).json()), ids, "Quist", "Quaade")
		// A damaged link, or one made for another resource type, is refused with an OperationOutcome.
		if code, _ := e.get(self[:len(self)-4]+"AAAA", "bloodnethpuser1").want(400).issue(); code != "invalid" {
			t.Errorf("damaged paging link: issue %s", code)
		}
		e.get(strings.Replace(self, "/Patient?", "/Consent?", 1), "bloodnethpuser1").want(400)
		e.do("POST", "/fhir/Patient/_search", "bloodnethpuser1", `{"family":"qu"}`).want(415)
	})
}

func TestConsentSearch(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *env) {
		ids := cohort(e)
		// Withdraw Quist's registry consent.
		quist := e.do("GET", "/fhir/Consent?patient="+ids["Quist"]+"&category=registry", "bloodnethpuser1", nil).want(200).json()
		cs, _ := entries(quist)
		if len(cs) != 1 {
			t.Fatalf("%d registry consents of Quist", len(cs))
		}
		reg := cs[0]
		reg["status"] = "inactive"
		e.do("PUT", "/fhir/Consent/"+reg["id"].(string), "bloodnethpuser1", reg).want(200)

		s := func(q string) map[string]any {
			t.Helper()
			return e.do("GET", "/fhir/Consent?"+q, "bloodnethpuser1", nil).want(200).json()
		}
		if got := s("patient=Patient/" + ids["Quell"]); got["total"] != float64(3) {
			t.Errorf("consents of Quell: %v", got["total"])
		}
		if got := s("patient=" + ids["Quell"] + "," + ids["Quist"] + "&category=" + url.QueryEscape(fhir.LOINCSystem+"|"+fhir.CodeCareConsent)); got["total"] != float64(2) {
			t.Errorf("care consents of two: %v", got["total"])
		}
		if got := ids2(s("status=inactive&patient=" + ids["Quist"])); len(got) != 1 || got[0] != reg["id"] {
			t.Errorf("inactive: %v", got)
		}
		if got := s("patient=" + ids["Quist"] + "&date=2024-02"); got["total"] != float64(3) {
			t.Errorf("date=2024-02: %v", got["total"])
		}
		if got := s("patient=" + ids["Quist"] + "&date=lt2024"); got["total"] != float64(0) {
			t.Errorf("date=lt2024: %v", got["total"])
		}
		if got := s("patient=" + ids["Quist"] + "&category=" + url.QueryEscape(fhir.ConsentCategorySystem+"|research-contact") + ",59284-0"); got["total"] != float64(2) {
			t.Errorf("two categories: %v", got["total"])
		}
		if got := s("patient=" + ids["Quist"] + "&category=" + url.QueryEscape("http://example.org|registry")); got["total"] != nil && got["total"] != float64(0) {
			t.Errorf("category of another system: %v", got["total"])
		}
		// _include=Consent:patient: each patient once, as an include.
		b := s("patient=" + ids["Quist"] + "," + ids["Quell"] + "&_include=Consent:patient&_sort=patient,date")
		res, modes := entries(b)
		var inc []string
		for i, r := range res {
			if modes[i] == "include" {
				if r["resourceType"] != "Patient" {
					t.Errorf("include of a %v", r["resourceType"])
				}
				inc = append(inc, r["id"].(string))
			}
		}
		want(t, "_include", inc, ids, "Quist", "Quell")
		if b["total"] != float64(6) {
			t.Errorf("total counts the matches only: %v", b["total"])
		}
		// _sort by date descending, then _lastUpdated.
		for _, q := range []string{"_sort=-date", "_sort=_lastUpdated", "_sort=_id", "_sort=patient"} {
			s("patient=" + ids["Quist"] + "&" + q)
		}
		e.do("GET", "/fhir/Consent?_sort=birthdate", "bloodnethpuser1", nil).want(400)
		// Another centre sees none of them, even with _include.
		b = e.do("GET", "/fhir/Consent?patient="+ids["Quist"]+"&_include=Consent:patient", "bloodnethpuser2", nil).want(200).json()
		if res, _ := entries(b); len(res) != 0 {
			t.Errorf("another centre finds %d entries", len(res))
		}
		// _include of something else: a warning.
		b = s("patient=" + ids["Quist"] + "&_include=Consent:actor")
		if _, modes := entries(b); modes[len(modes)-1] != "outcome" {
			t.Errorf("no warning for an unsupported _include: %v", modes)
		}
	})
}
