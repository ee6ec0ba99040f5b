package fhir

import (
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/ern-cpms/cpms/cpms"
)

// SearchParam is a search parameter the server supports, as the CapabilityStatement lists it.
type SearchParam struct {
	Name          string
	Type          string // number, date, string, token, reference, special
	Definition    string // the standard SearchParameter, when it is one
	Documentation string
}

const spBase = "http://hl7.org/fhir/SearchParameter/"

var commonParams = []SearchParam{
	{"_id", "token", spBase + "Resource-id", "the logical id; a comma list matches any of them"},
}

// PatientParams are the Patient search parameters.
var PatientParams = append(slices.Clone(commonParams),
	SearchParam{"identifier", "token", spBase + "Patient-identifier", "a local identifier or the CPMS ID: system|value, or value in any system (the CPMS ID bare or with system " + CPMSIDSystem + "); |value matches nothing: every identifier here has a system"},
	SearchParam{"family", "string", spBase + "individual-family", "start of the family name, ignoring case and accents"},
	SearchParam{"given", "string", spBase + "individual-given", "start of the given name, ignoring case and accents"},
	SearchParam{"name", "string", spBase + "Patient-name", "start of the family or the given name, ignoring case and accents"},
	SearchParam{"birthdate", "date", spBase + "individual-birthdate", "the birth date with a prefix eq, ne, lt, gt, le or ge and a precision of yyyy, yyyy-mm or yyyy-mm-dd; repeat it for a range"},
	SearchParam{"gender", "token", spBase + "individual-gender", "male, female, other or unknown; a comma list matches any"},
	SearchParam{"organization", "reference", spBase + "Patient-organization", "the centre: Organization/{code} or the code; one at a time"},
	SearchParam{"_lastUpdated", "date", spBase + "Resource-lastUpdated", "when the record last changed, with a prefix; precision from the year to the fraction of a second (with a time zone)"},
)

// ConsentParams are the Consent search parameters.
var ConsentParams = append(slices.Clone(commonParams),
	SearchParam{"patient", "reference", spBase + "clinical-patient", "the patient: Patient/{id} or the id; a comma list matches any"},
	SearchParam{"status", "token", spBase + "Consent-status", "active, or inactive (withdrawn)"},
	SearchParam{"category", "token", spBase + "Consent-category", LOINCSystem + "|" + CodeCareConsent + " (care), " + ConsentCategorySystem + "|" + CodeRegistry + ", " + ConsentCategorySystem + "|" + CodeResearchContact + ", or the bare codes"},
	SearchParam{"date", "date", spBase + "clinical-date", "the date of the answer, with a prefix and a precision of yyyy, yyyy-mm or yyyy-mm-dd"},
)

// OrganizationParams are the Organization search parameters.
var OrganizationParams = append(slices.Clone(commonParams),
	SearchParam{"name", "string", spBase + "Organization-name", "start of the name (or of the code), ignoring case and accents"},
)

// PractitionerParams are the Practitioner search parameters.
var PractitionerParams = append(slices.Clone(commonParams),
	SearchParam{"name", "string", spBase + "Practitioner-name", "part of the display name or of the username, ignoring case"},
	SearchParam{"identifier", "token", spBase + "Practitioner-identifier", "the username: " + UsernameSystem + "|{username} or the bare username"},
)

// ResultParams are the parameters that shape every search result.
var ResultParams = []SearchParam{
	{"_count", "number", "", "entries per page: 20 unless given, at most 1000; 0 gives only the total"},
	{"_offset", "number", "", "entries to skip, for paging (the next and previous links carry it)"},
	{"_sort", "special", "", "comma list of sort keys, - before a key for descending order"},
	{"_total", "special", "", "none leaves Bundle.total out; accurate and estimate give it"},
}

// Sort keys per resource: search parameter → field of the domain's filter.
var (
	patientSort = map[string]string{"_id": "id", "family": "lastName", "given": "firstName", "birthdate": "birthDate",
		"gender": "gender", "_lastUpdated": "lastUpdated", "identifier": "cpmsId"}
	consentSort = map[string]string{"date": "date", "_lastUpdated": "lastUpdated", "_id": "id", "patient": "patient"}
)

// SortParams lists the _sort keys of a resource type.
func SortParams(typ string) []string {
	var m map[string]string
	switch typ {
	case TypePatient:
		m = patientSort
	case TypeConsent:
		m = consentSort
	}
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// Includes are the _include values the server supports.
var Includes = []string{"Consent:patient"}

const (
	// DefaultCount is the page size when _count is not given; MaxCount the largest.
	DefaultCount = 20
	MaxCount     = 1000
)

// Page is what a search asks of its result besides the criteria.
type Page struct {
	Count, Offset int
	// Total: Bundle.total is wanted (not _total=none).
	Total   bool
	Include []string
	// Warnings are the issues of a lenient search (unknown parameters ignored), for an
	// OperationOutcome entry of the searchset.
	Warnings []Issue
	// Query holds the parameters that were used, for the Bundle's links (without _count and
	// _offset).
	Query url.Values
	// None is set when a criterion can match nothing (an identifier without a system, an
	// unknown code): the result is empty without asking the store.
	None bool
}

// control parameters: known to every search, not criteria.
var controls = map[string]bool{"_count": true, "_offset": true, "_sort": true, "_total": true, "_include": true,
	"_format": true, "_pretty": true}

type parser struct {
	typ    string
	params []SearchParam
	strict bool
	q      url.Values
	pg     Page
	errs   []Issue
	bad    []string // unknown parameters, for the strict answer
}

func newParser(typ string, params []SearchParam, q url.Values, strict bool) *parser {
	return &parser{typ: typ, params: params, strict: strict, q: q, pg: Page{Count: DefaultCount, Total: true, Query: url.Values{}}}
}

func (p *parser) fail(param, msg string) {
	p.errs = append(p.errs, Issue{Severity: SeverityError, Code: IssueInvalid, Diagnostics: param + ": " + msg})
}

// run reads the result controls and calls fn for each known criterion, by name.
func (p *parser) run(fn func(name string, vals []string)) {
	for _, name := range slices.Sorted(keys(p.q)) {
		vals := p.q[name]
		base, mod, hasMod := strings.Cut(name, ":")
		if controls[name] {
			p.control(name, vals)
			continue
		}
		known := slices.ContainsFunc(p.params, func(sp SearchParam) bool { return sp.Name == base })
		if !known {
			p.bad = append(p.bad, name)
			p.pg.Warnings = append(p.pg.Warnings, Issue{Severity: SeverityWarning, Code: IssueNotSupported,
				Diagnostics: "unknown search parameter " + safeName(name) + " ignored"})
			continue
		}
		if hasMod {
			p.fail(name, "the modifier "+safeName(mod)+" is not supported")
			continue
		}
		var nonEmpty []string
		for _, v := range vals {
			if v = strings.TrimSpace(v); v != "" {
				nonEmpty = append(nonEmpty, v)
			}
		}
		if len(nonEmpty) == 0 {
			continue
		}
		p.pg.Query[name] = nonEmpty
		fn(name, nonEmpty)
	}
	if len(p.bad) > 0 && p.strict {
		p.errs = append(p.errs, Issue{Severity: SeverityError, Code: IssueNotSupported,
			Diagnostics: "unknown search parameters (Prefer: handling=strict): " + strings.Join(quoteAll(p.bad), ", ")})
	}
}

// err is the 400 answer for the problems found, nil without any.
func (p *parser) err() error {
	if len(p.errs) > 0 {
		return &Error{Status: StatusBadRequest, Issues: p.errs}
	}
	return nil
}

func quoteAll(ss []string) []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = safeName(s)
	}
	return out
}

func keys(q url.Values) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range q {
			if !yield(k) {
				return
			}
		}
	}
}

func (p *parser) control(name string, vals []string) {
	if len(vals) > 1 {
		p.fail(name, "give it once")
		return
	}
	v := strings.TrimSpace(vals[0])
	switch name {
	case "_count":
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			p.fail(name, "a number of entries, 0 or more")
			return
		}
		p.pg.Count = min(n, MaxCount)
	case "_offset":
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			p.fail(name, "a number of entries to skip, 0 or more")
			return
		}
		p.pg.Offset = n
	case "_total":
		switch v {
		case "none":
			p.pg.Total = false
		case "estimate", "accurate", "":
		default:
			p.fail(name, "none, estimate or accurate")
		}
		p.pg.Query.Set(name, v)
	case "_include":
		for _, inc := range splitList(v) {
			if !slices.Contains(Includes, inc) || !strings.HasPrefix(inc, p.typ+":") {
				if p.strict {
					p.fail(name, "not supported: "+safeName(inc)+" (supported: "+strings.Join(Includes, ", ")+")")
				} else {
					p.pg.Warnings = append(p.pg.Warnings, Issue{Severity: SeverityWarning, Code: IssueNotSupported,
						Diagnostics: "_include " + safeName(inc) + " is not supported and was ignored"})
				}
				continue
			}
			p.pg.Include = append(p.pg.Include, inc)
		}
		if len(p.pg.Include) > 0 {
			p.pg.Query["_include"] = p.pg.Include
		}
	case "_sort":
		// parsed by sortKeys
	}
}

// sortKeys parses _sort with the resource's key map, adding the id as the last key so that
// pages are stable.
func (p *parser) sortKeys(m map[string]string, def ...cpms.SortKey) []cpms.SortKey {
	var out []cpms.SortKey
	if vals := p.q["_sort"]; len(vals) == 1 && strings.TrimSpace(vals[0]) != "" {
		for _, k := range splitList(vals[0]) {
			desc := strings.HasPrefix(k, "-")
			field, ok := m[strings.TrimPrefix(k, "-")]
			if !ok {
				p.fail("_sort", "cannot sort "+p.typ+" by "+safeName(strings.TrimPrefix(k, "-"))+" (sort keys: "+strings.Join(SortParams(p.typ), ", ")+")")
				continue
			}
			out = append(out, cpms.SortKey{Field: field, Desc: desc})
		}
		p.pg.Query.Set("_sort", vals[0])
	} else if len(vals) > 1 {
		return nil // reported by control
	} else {
		out = def
	}
	if !slices.ContainsFunc(out, func(k cpms.SortKey) bool { return k.Field == "id" }) {
		out = append(out, cpms.SortKey{Field: "id"})
	}
	return out
}

// splitList splits a FHIR parameter value at its unescaped commas, unescaping "\,", "\|",
// "\$" and "\\".
func splitList(v string) []string {
	var (
		out []string
		b   strings.Builder
	)
	for i := 0; i < len(v); i++ {
		switch c := v[i]; {
		case c == '\\' && i+1 < len(v):
			i++
			if v[i] != ',' && v[i] != '|' && v[i] != '$' && v[i] != '\\' {
				b.WriteByte('\\')
			}
			b.WriteByte(v[i])
		case c == ',':
			out = append(out, strings.TrimSpace(b.String()))
			b.Reset()
		default:
			b.WriteByte(c)
		}
	}
	out = append(out, strings.TrimSpace(b.String()))
	return slices.DeleteFunc(out, func(s string) bool { return s == "" })
}

// token splits a token "system|code" (hasSystem false for a bare code; system "" for "|code").
func token(v string) (system, code string, hasSystem bool) {
	for i := 0; i < len(v); i++ {
		if v[i] == '\\' {
			i++
			continue
		}
		if v[i] == '|' {
			return v[:i], v[i+1:], true
		}
	}
	return "", v, false
}

// once refuses a repeated criterion: repeating means AND, which these lists cannot say.
func (p *parser) once(name string, vals []string) (string, bool) {
	if len(vals) > 1 {
		p.fail(name, "give it once (a comma list matches any of its values)")
		return "", false
	}
	return vals[0], true
}

func (p *parser) ids(name string, vals []string) []string {
	v, ok := p.once(name, vals)
	if !ok {
		return nil
	}
	var out []string
	for _, id := range splitList(v) {
		if ValidID(id) {
			out = append(out, id)
		}
	}
	if len(out) == 0 {
		p.pg.None = true
	}
	return out
}

func (p *parser) list(name string, vals []string) []string {
	v, ok := p.once(name, vals)
	if !ok {
		return nil
	}
	return splitList(v)
}

func (p *parser) dates(name string, vals []string, instants bool) []cpms.DateCond {
	var out []cpms.DateCond
	for _, v := range vals {
		if strings.Contains(v, ",") {
			p.fail(name, "one date per parameter: repeat the parameter for a range")
			continue
		}
		dc, err := ParseDateCond(v, instants)
		if err != "" {
			p.fail(name, err)
			continue
		}
		out = append(out, dc)
	}
	return out
}

// references reads a reference parameter of type typ: "Type/id", an absolute URL ending so, or
// a bare id.
func (p *parser) references(name, typ string, vals []string) []string {
	v, ok := p.once(name, vals)
	if !ok {
		return nil
	}
	var out []string
	for _, r := range splitList(v) {
		if ValidID(r) {
			out = append(out, r)
		} else if t, id, ok := ParseReference(r); ok && t == typ {
			out = append(out, id)
		}
	}
	if len(out) == 0 {
		p.pg.None = true
	}
	return out
}

var datePrefixes = []string{"eq", "ne", "lt", "gt", "le", "ge"}

// ParseDateCond reads a date search value: an optional prefix (eq, ne, lt, gt, le, ge) and a
// date of precision yyyy, yyyy-mm or yyyy-mm-dd or, when instants is set, a date and time
// with a time zone (to the minute, second or a fraction). The condition's Until is the end of
// the value's precision. It returns a message (without the value) when v is not one.
func ParseDateCond(v string, instants bool) (cpms.DateCond, string) {
	dc := cpms.DateCond{Op: "eq"}
	if len(v) >= 2 && v[0] >= 'a' && v[0] <= 'z' {
		pre := v[:2]
		switch {
		case slices.Contains(datePrefixes, pre):
			dc.Op, v = pre, v[2:]
		case pre == "sa" || pre == "eb" || pre == "ap":
			return dc, "the prefix " + pre + " is not supported (eq, ne, lt, gt, le, ge)"
		default:
			return dc, "not a date: use an optional prefix (eq, ne, lt, gt, le, ge) and yyyy, yyyy-mm or yyyy-mm-dd"
		}
	}
	layouts := []struct {
		layout string
		add    func(time.Time) time.Time
	}{
		{"2006", func(t time.Time) time.Time { return t.AddDate(1, 0, 0) }},
		{"2006-01", func(t time.Time) time.Time { return t.AddDate(0, 1, 0) }},
		{"2006-01-02", func(t time.Time) time.Time { return t.AddDate(0, 0, 1) }},
	}
	for _, l := range layouts {
		if len(v) == len(l.layout) {
			t, err := time.ParseInLocation(l.layout, v, time.UTC)
			if err != nil {
				break
			}
			dc.Value, dc.Until = t, l.add(t)
			return dc, ""
		}
	}
	if !instants || len(v) < 16 || v[10] != 'T' {
		if instants {
			return dc, "not a date: use an optional prefix and yyyy, yyyy-mm, yyyy-mm-dd or yyyy-mm-ddThh:mm[:ss[.fff]] with a time zone"
		}
		return dc, "not a date: use an optional prefix (eq, ne, lt, gt, le, ge) and yyyy, yyyy-mm or yyyy-mm-dd"
	}
	// A date and time: the time zone is required (Z or ±hh:mm).
	var unit time.Duration
	body := v
	if i := strings.LastIndexAny(v, "Z+-"); i > 10 {
		body = v[:i]
	} else {
		return dc, "a date and time needs a time zone: Z or ±hh:mm"
	}
	switch {
	case len(body) == 16:
		unit = time.Minute
		v = body + ":00" + v[len(body):]
	case len(body) == 19:
		unit = time.Second
	case len(body) > 20 && body[19] == '.' && len(body) <= 29:
		unit = time.Duration(1)
		for range 9 - (len(body) - 20) {
			unit *= 10
		}
	default:
		return dc, "not a date and time: yyyy-mm-ddThh:mm[:ss[.fff]] with a time zone"
	}
	t, err := time.Parse(time.RFC3339Nano, v)
	if err != nil {
		return dc, "not a date and time: yyyy-mm-ddThh:mm[:ss[.fff]] with a time zone"
	}
	dc.Value, dc.Until = t.UTC(), t.UTC().Add(unit)
	return dc, ""
}

// ParsePatientSearch reads Patient search parameters into a filter. Unknown parameters are
// ignored with a warning, or refused when strict (Prefer: handling=strict).
func ParsePatientSearch(q url.Values, strict bool) (cpms.PatientFilter, Page, error) {
	p := newParser(TypePatient, PatientParams, q, strict)
	var f cpms.PatientFilter
	p.run(func(name string, vals []string) {
		switch name {
		case "_id":
			f.IDs = p.ids(name, vals)
		case "identifier":
			for _, t := range p.list(name, vals) {
				sys, val, hasSys := token(t)
				switch {
				case val == "":
					p.fail(name, "give a value: system|value or value")
				case hasSys && sys == "":
					// |value: an identifier without a system; none is kept without one.
				default:
					if s, ok := cpms.NormalizeIdentifierSystem(sys); ok && sys != CPMSIDSystem {
						sys = s
					}
					f.Identifier = append(f.Identifier, cpms.LocalIdentifier{System: sys, Value: val})
				}
			}
			if len(f.Identifier) == 0 {
				p.pg.None = true
			}
		case "family":
			f.Family = p.list(name, vals)
		case "given":
			f.Given = p.list(name, vals)
		case "name":
			f.Name = p.list(name, vals)
		case "birthdate":
			f.Birth = p.dates(name, vals, false)
		case "_lastUpdated":
			f.Updated = p.dates(name, vals, true)
		case "gender":
			for _, t := range p.list(name, vals) {
				sys, code, hasSys := token(t)
				if g := cpms.Gender(code); g.Valid() && (!hasSys || sys == GenderSystem) {
					f.Gender = append(f.Gender, g)
				}
			}
			if len(f.Gender) == 0 {
				p.pg.None = true
			}
		case "organization":
			if ids := p.references(name, TypeOrganization, vals); len(ids) > 1 {
				p.fail(name, "one centre at a time")
			} else if len(ids) == 1 {
				f.Centre = ids[0]
			}
		}
	})
	f.Sort = p.sortKeys(patientSort, cpms.SortKey{Field: "lastName"}, cpms.SortKey{Field: "firstName"})
	f.Limit, f.Offset, f.Total = p.pg.Count, p.pg.Offset, true
	return f, p.pg, p.err()
}

// ParseConsentSearch reads Consent search parameters into a filter, as ParsePatientSearch.
func ParseConsentSearch(q url.Values, strict bool) (cpms.ConsentFilter, Page, error) {
	p := newParser(TypeConsent, ConsentParams, q, strict)
	var f cpms.ConsentFilter
	p.run(func(name string, vals []string) {
		switch name {
		case "_id":
			f.IDs = p.ids(name, vals)
		case "patient":
			f.PatientIDs = p.references(name, TypePatient, vals)
		case "status":
			for _, s := range p.list(name, vals) {
				if _, code, _ := token(s); code == "active" || code == "inactive" {
					f.Status = append(f.Status, code)
				}
			}
			if len(f.Status) == 0 {
				p.pg.None = true
			}
		case "category":
			for _, t := range p.list(name, vals) {
				sys, code, hasSys := token(t)
				for _, k := range cpms.ConsentKinds {
					ksys, kcode := ConsentCategory(k)
					if code == kcode && (!hasSys || sys == ksys) && !slices.Contains(f.Kinds, k) {
						f.Kinds = append(f.Kinds, k)
					}
				}
			}
			if len(f.Kinds) == 0 {
				p.pg.None = true
			}
		case "date":
			f.Date = p.dates(name, vals, false)
		}
	})
	f.Sort = p.sortKeys(consentSort, cpms.SortKey{Field: "date"})
	f.Limit, f.Offset, f.Total = p.pg.Count, p.pg.Offset, true
	return f, p.pg, p.err()
}

// DirectoryFilter selects organisations or practitioners.
type DirectoryFilter struct {
	IDs       []string
	Names     []string // ORed
	Usernames []string // Practitioner identifier, ORed
}

// ParseDirectorySearch reads Organization or Practitioner search parameters.
func ParseDirectorySearch(typ string, q url.Values, strict bool) (DirectoryFilter, Page, error) {
	params := OrganizationParams
	if typ == TypePractitioner {
		params = PractitionerParams
	}
	p := newParser(typ, params, q, strict)
	var f DirectoryFilter
	p.run(func(name string, vals []string) {
		switch name {
		case "_id":
			f.IDs = p.ids(name, vals)
		case "name":
			f.Names = p.list(name, vals)
		case "identifier":
			for _, t := range p.list(name, vals) {
				sys, val, hasSys := token(t)
				if val != "" && (!hasSys || sys == UsernameSystem) {
					f.Usernames = append(f.Usernames, val)
				}
			}
			if len(f.Usernames) == 0 {
				p.pg.None = true
			}
		}
	})
	if vals := q["_sort"]; len(vals) > 0 && strings.TrimSpace(vals[0]) != "" {
		p.fail("_sort", typ+" results come in a fixed order and cannot be sorted")
	}
	return f, p.pg, p.err()
}
