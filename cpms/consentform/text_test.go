package consentform

import (
	"reflect"
	"testing"
)

// TestTextComplete checks that every written language fills in every field of the text.
func TestTextComplete(t *testing.T) {
	for _, e := range table() {
		if e.text == nil {
			continue
		}
		v := reflect.ValueOf(e.text()).Elem()
		for i := range v.NumField() {
			name := v.Type().Field(i).Name
			switch f := v.Field(i); f.Kind() {
			case reflect.String:
				if f.String() == "" {
					t.Errorf("%s: %s is empty", e.code, name)
				}
			case reflect.Slice:
				if f.Len() == 0 {
					t.Errorf("%s: %s is empty", e.code, name)
				}
				for j := range f.Len() {
					if f.Index(j).String() == "" {
						t.Errorf("%s: %s[%d] is empty", e.code, name, j)
					}
				}
			}
		}
	}
}
