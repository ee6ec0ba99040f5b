package dicomweb

import (
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/ern-cpms/cpms/dicomweb/dcm"
)

// matchable lists the attributes QIDO matches, with the level each belongs to and how its
// values are compared.
var matchable = map[dcm.Tag]struct {
	attr  string
	level Level
	kind  valueKind
}{
	tagPatientName:            {AttrPatientName, LevelStudy, kindPN},
	tagPatientID:              {AttrPatientID, LevelStudy, kindText},
	tagIssuerOfPatientID:      {AttrIssuerOfPatientID, LevelStudy, kindText},
	tagPatientBirthDate:       {AttrPatientBirthDate, LevelStudy, kindDate},
	tagPatientSex:             {AttrPatientSex, LevelStudy, kindText},
	0x0020000D:                {AttrStudyInstanceUID, LevelStudy, kindUID},
	tagStudyDate:              {AttrStudyDate, LevelStudy, kindDate},
	tagStudyTime:              {AttrStudyTime, LevelStudy, kindTime},
	tagAccessionNumber:        {AttrAccessionNumber, LevelStudy, kindText},
	tagReferringPhysicianName: {AttrReferringPhysicianName, LevelStudy, kindPN},
	tagStudyID:                {AttrStudyID, LevelStudy, kindText},
	tagStudyDescription:       {AttrStudyDescription, LevelStudy, kindText},
	tagModalitiesInStudy:      {AttrModalitiesInStudy, LevelStudy, kindList},
	0x0020000E:                {AttrSeriesInstanceUID, LevelSeries, kindUID},
	tagModality:               {AttrModality, LevelSeries, kindList},
	tagSeriesNumber:           {AttrSeriesNumber, LevelSeries, kindInt},
	tagSeriesDescription:      {AttrSeriesDescription, LevelSeries, kindText},
	tagPPSStartDate:           {AttrPerformedProcedureStepStartDate, LevelSeries, kindDate},
	tagPPSStartTime:           {AttrPerformedProcedureStepStartTime, LevelSeries, kindTime},
	0x00080018:                {AttrSOPInstanceUID, LevelInstance, kindUID},
	0x00080016:                {AttrSOPClassUID, LevelInstance, kindUID},
	tagInstanceNumber:         {AttrInstanceNumber, LevelInstance, kindInt},
}

type valueKind int

const (
	kindText valueKind = iota
	kindPN
	kindUID
	kindList
	kindDate
	kindTime
	kindInt
)

// QueryError is a QIDO request the store cannot run (400 with the message).
type QueryError struct{ Msg string }

func (e *QueryError) Error() string { return e.Msg }

// MaxLimit is the most results one QIDO answer holds; a larger limit is lowered to it.
const MaxLimit = 1000

// ParseQuery reads a QIDO-RS query string for a search at level. It returns the query (scope
// and path UIDs are the caller's), the extra fields to return, and warnings about query keys
// that were ignored (PS3.18: an unsupported key is not an error).
func ParseQuery(level Level, v url.Values) (Query, Fields, []string, error) {
	q := Query{Level: level}
	var (
		f        Fields
		warnings []string
		fuzzy    bool
	)
	if s := v.Get("fuzzymatching"); s != "" {
		b, err := strconv.ParseBool(s)
		if err != nil {
			return q, f, nil, &QueryError{"fuzzymatching must be true or false"}
		}
		fuzzy = b
	}
	for key, vals := range v {
		switch key {
		case "fuzzymatching":
			continue
		case "limit", "offset":
			n, err := strconv.Atoi(vals[len(vals)-1])
			if err != nil || n < 0 {
				return q, f, nil, &QueryError{key + " must be a whole number, not negative"}
			}
			if key == "limit" {
				q.Limit = n
			} else {
				q.Offset = n
			}
			continue
		case "includefield":
			for _, val := range vals {
				for _, name := range strings.Split(val, ",") {
					name = strings.TrimSpace(name)
					if name == "" {
						continue
					}
					if name == "all" {
						f.All = true
						continue
					}
					t, ok := dcm.TagByKeyword(name)
					if !ok {
						return q, f, nil, &QueryError{fmt.Sprintf("includefield %q is not an attribute keyword or tag", name)}
					}
					f.Tags = append(f.Tags, t)
				}
			}
			continue
		}
		t, ok := dcm.TagByKeyword(key)
		if !ok {
			warnings = append(warnings, fmt.Sprintf("the query key %q is not an attribute and was ignored", key))
			continue
		}
		m, ok := matchable[t]
		if !ok || m.level > level {
			warnings = append(warnings, fmt.Sprintf("matching on %s is not supported at this level and was ignored", key))
			continue
		}
		f.Tags = append(f.Tags, t) // matching keys are returned too
		val := vals[len(vals)-1]
		if val == "" {
			continue // universal matching: return the attribute, match everything
		}
		mm, err := parseMatch(m.attr, m.kind, val, fuzzy)
		if err != nil {
			return q, f, nil, err
		}
		q.Matches = append(q.Matches, mm)
	}
	if q.Limit == 0 || q.Limit > MaxLimit {
		q.Limit = MaxLimit
	}
	slices.Sort(warnings)
	return q, f, warnings, nil
}

func parseMatch(attr string, kind valueKind, val string, fuzzy bool) (Match, error) {
	wild := strings.ContainsAny(val, "*?")
	switch kind {
	case kindUID, kindList:
		parts := strings.FieldsFunc(val, func(r rune) bool { return r == ',' || r == '\\' })
		if kind == kindList && len(parts) == 1 && wild {
			return Match{Attr: attr, Kind: MatchWildcard, Value: val}, nil
		}
		for _, p := range parts {
			if kind == kindUID && !validUID(p) {
				return Match{}, &QueryError{fmt.Sprintf("%s holds a value that is not a UID", attr)}
			}
		}
		if len(parts) == 1 {
			return Match{Attr: attr, Kind: MatchSingle, Value: parts[0]}, nil
		}
		return Match{Attr: attr, Kind: MatchUIDList, Values: parts}, nil
	case kindDate, kindTime:
		if from, to, ok := strings.Cut(val, "-"); ok {
			if !validDT(from, kind) || !validDT(to, kind) || (from == "" && to == "") {
				return Match{}, &QueryError{fmt.Sprintf("%s must be a %s or a range of them (from-to)", attr, kindName(kind))}
			}
			return Match{Attr: attr, Kind: MatchRange, From: from, To: to}, nil
		}
		if !validDT(val, kind) {
			return Match{}, &QueryError{fmt.Sprintf("%s must be a %s or a range of them (from-to)", attr, kindName(kind))}
		}
		return Match{Attr: attr, Kind: MatchSingle, Value: val}, nil
	case kindInt:
		if _, err := strconv.Atoi(val); err != nil {
			return Match{}, &QueryError{fmt.Sprintf("%s must be a whole number", attr)}
		}
		return Match{Attr: attr, Kind: MatchSingle, Value: val}, nil
	case kindPN:
		if fuzzy && !wild {
			return Match{Attr: attr, Kind: MatchFuzzy, Value: val}, nil
		}
	}
	if wild {
		return Match{Attr: attr, Kind: MatchWildcard, Value: val}, nil
	}
	return Match{Attr: attr, Kind: MatchSingle, Value: val}, nil
}

func kindName(k valueKind) string {
	if k == kindDate {
		return "date (YYYYMMDD)"
	}
	return "time (HHMMSS)"
}

func validDT(s string, k valueKind) bool {
	if s == "" {
		return true
	}
	if k == kindDate {
		_, err := time.Parse("20060102", s)
		return len(s) == 8 && err == nil
	}
	whole, frac, _ := strings.Cut(strings.ReplaceAll(s, ":", ""), ".")
	if len(whole) < 2 || len(whole) > 6 || len(whole)%2 != 0 || len(frac) > 6 {
		return false
	}
	for _, c := range whole + frac {
		if c < '0' || c > '9' {
			return false
		}
	}
	for i, limit := range []int{23, 59, 60} { // hours, minutes, seconds (a leap second)
		if 2*i+2 <= len(whole) {
			if n, _ := strconv.Atoi(whole[2*i : 2*i+2]); n > limit {
				return false
			}
		}
	}
	return true
}

// validUID reports whether s is a DICOM UID: digits and dots, at most 64 characters.
func validUID(s string) bool {
	if s == "" || len(s) > 64 || s[0] == '.' || s[len(s)-1] == '.' {
		return false
	}
	for _, c := range s {
		if (c < '0' || c > '9') && c != '.' {
			return false
		}
	}
	return true
}

// ValidUID reports whether s can be a UID in a URL path.
func ValidUID(s string) bool { return validUID(s) }
