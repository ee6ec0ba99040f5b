package cpms

import (
	"regexp"
)

// ERN is a European Reference Network: a network of centres around a group of rare diseases,
// organised in thematic areas. Code is its short name and key (e.g. "EuroBloodNet").
type ERN struct {
	Code          string   `json:"code"`
	Name          string   `json:"name"`
	ThematicAreas []string `json:"thematicAreas"`
	Centres       []string `json:"centres"` // codes of member centres
}

// Centre is a healthcare provider (HCP), member of one or more ERNs. Code is its key ("BE10").
type Centre struct {
	Code    string `json:"code"`
	Name    string `json:"name"`
	Country string `json:"country"` // ISO 3166-1 alpha-2
}

// Label is how CPMS shows a centre: "BE10 - University Hospital Leuven".
func (c Centre) Label() string { return c.Code + " - " + c.Name }

var (
	ernCodeRE    = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9-]{1,39}$`)
	centreCodeRE = regexp.MustCompile(`^[A-Z]{2}[0-9A-Z]{1,8}$`)
)

// ValidERNCode and ValidCentreCode check the shape of keys taken from requests.
func ValidERNCode(s string) bool    { return ernCodeRE.MatchString(s) }
func ValidCentreCode(s string) bool { return centreCodeRE.MatchString(s) }

// Validate checks an ERN's fields.
func (e ERN) Validate() error {
	var v Validation
	v.Check(ValidERNCode(e.Code), "code", "2–40 letters, digits or dashes, starting with a letter")
	v.Check(e.Name != "", "name", "required")
	return v.Err()
}

// Validate checks a centre's fields.
func (c Centre) Validate() error {
	var v Validation
	v.Check(ValidCentreCode(c.Code), "code", "a country code and up to 8 letters or digits, e.g. BE10")
	v.Check(c.Name != "", "name", "required")
	return v.Err()
}
