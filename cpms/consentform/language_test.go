package consentform_test

import (
	"strings"
	"testing"

	"github.com/ern-cpms/cpms/cpms/consentform"
)

func TestLanguages(t *testing.T) {
	want := []consentform.Language{
		{"bg", "Български", false}, {"cs", "Čeština", false}, {"da", "Dansk", false},
		{"de", "Deutsch", false}, {"el", "Ελληνικά", false}, {"en", "English", true},
		{"es", "Español", false}, {"et", "Eesti", false}, {"fi", "Suomi", false},
		{"fr", "Français", false}, {"ga", "Gaeilge", false}, {"hr", "Hrvatski", false},
		{"hu", "Magyar", false}, {"it", "Italiano", false}, {"lt", "Lietuvių", false},
		{"lv", "Latviešu", false}, {"mt", "Malti", false}, {"nl", "Nederlands", false},
		{"pl", "Polski", false}, {"pt", "Português", false}, {"ro", "Română", false},
		{"sk", "Slovenčina", false}, {"sl", "Slovenščina", false}, {"sv", "Svenska", false},
		{"uk", "Українська", false},
	}
	got := consentform.Languages()
	if len(got) != len(want) {
		t.Fatalf("%d languages, want %d", len(got), len(want))
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("language %d = %+v, want %+v", i, got[i], want[i])
		}
	}
	// The result is a copy: changing it changes nothing for the next caller.
	got[0].Available = true
	if consentform.Languages()[0].Available {
		t.Errorf("Languages returns shared state")
	}
}

func TestEveryAvailableLanguageRenders(t *testing.T) {
	for _, l := range consentform.Languages() {
		if !l.Available {
			continue
		}
		for _, v := range []consentform.Variant{consentform.Standard, consentform.Ukraine} {
			t.Run(l.Code+"/"+string(v), func(t *testing.T) {
				_, runs := render(t, consentform.Options{Language: l.Code, Variant: v, ERN: "ERN-X"})
				if text := join(runs); strings.ContainsAny(text, "{}") {
					t.Errorf("unfilled placeholder in %q", text)
				}
			})
		}
	}
}
