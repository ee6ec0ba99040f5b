package consentform

import (
	"errors"
	"fmt"
)

// ErrLanguage reports a language the form is not written in, or an unknown language code.
// Render wraps it with the code.
var ErrLanguage = errors.New("consentform: language not available")

// Language is a language the form is prepared for.
type Language struct {
	// Code is the ISO 639-1 code, such as "en".
	Code string
	// Name is the name of the language in that language, such as "Deutsch".
	Name string
	// Available reports whether the text of the form is written in this language.
	Available bool
}

// entry is one row of the language table: the text is nil until the translation is written.
type entry struct {
	code, name string
	text       func() *text
}

// table returns the official languages of the European Union and Ukrainian, in the order of
// their codes, each with the function that returns its text.
//
// The PDF writer sets text in WinAnsiEncoding, which covers the languages written in Western
// European letters. A translation into Bulgarian, Greek or Ukrainian, and most of those in
// Central European letters (such as ł, ő, č, ș), needs a PDF font with those letters first.
func table() []entry {
	return []entry{
		{"bg", "Български", nil},
		{"cs", "Čeština", nil},
		{"da", "Dansk", nil},
		{"de", "Deutsch", nil},
		{"el", "Ελληνικά", nil},
		{"en", "English", english},
		{"es", "Español", nil},
		{"et", "Eesti", nil},
		{"fi", "Suomi", nil},
		{"fr", "Français", nil},
		{"ga", "Gaeilge", nil},
		{"hr", "Hrvatski", nil},
		{"hu", "Magyar", nil},
		{"it", "Italiano", nil},
		{"lt", "Lietuvių", nil},
		{"lv", "Latviešu", nil},
		{"mt", "Malti", nil},
		{"nl", "Nederlands", nil},
		{"pl", "Polski", nil},
		{"pt", "Português", nil},
		{"ro", "Română", nil},
		{"sk", "Slovenčina", nil},
		{"sl", "Slovenščina", nil},
		{"sv", "Svenska", nil},
		{"uk", "Українська", nil},
	}
}

// Languages returns the languages the form is prepared for, in the order of their codes.
// Only the Available ones can be rendered.
func Languages() []Language {
	t := table()
	out := make([]Language, len(t))
	for i, e := range t {
		out[i] = Language{Code: e.code, Name: e.name, Available: e.text != nil}
	}
	return out
}

// textFor returns the text of the form in the language with the given code, or an error
// wrapping ErrLanguage.
func textFor(code string) (*text, error) {
	for _, e := range table() {
		if e.code == code {
			if e.text == nil {
				return nil, fmt.Errorf("%w: %q is not written yet", ErrLanguage, code)
			}
			return e.text(), nil
		}
	}
	return nil, fmt.Errorf("%w: unknown language %q", ErrLanguage, code)
}
