package dicomweb

import (
	"encoding/json"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// parseObject reads the store's compact JSON with its own splitter, and anything else with
// encoding/json: both give the same members.
func TestParseObject(t *testing.T) {
	for _, in := range []string{
		`{}`,
		`{"00100010":{"vr":"PN","Value":[{"Alphabetic":"Doe^Jane \"Q\" {x},[y]"}]},"00200013":{"vr":"IS","Value":[3]}}`,
		`{"00081199":{"vr":"SQ","Value":[{"00081150":{"vr":"UI","Value":["1.2"]}},{}]},"0020000D":{"vr":"UI"}}`,
		` { "00100020" : {"vr":"LO","Value":["a\\b"]} } `,
		`{"00100020":{"vr":"LO","Value":["é"]}}`,
	} {
		got, err := parseObject([]byte(in))
		if err != nil {
			t.Fatalf("%s: %v", in, err)
		}
		want := map[string]any{}
		json.Unmarshal([]byte(in), &want)
		gotAny := map[string]any{}
		for k, v := range got {
			var x any
			if err := json.Unmarshal(v, &x); err != nil {
				t.Fatalf("%s: member %s is %q: %v", in, k, v, err)
			}
			gotAny[k] = x
		}
		if diff := cmp.Diff(want, gotAny); diff != "" {
			t.Errorf("%s (-want +got):\n%s", in, diff)
		}
	}
	for _, bad := range []string{`[`, `{"a":1`, `{"a"}`, `nope`} {
		if _, err := parseObject([]byte(bad)); err == nil {
			t.Errorf("%s parsed", bad)
		}
	}
	if string(strValue("UI", "1.2", `a"b`)) != `{"vr":"UI","Value":["1.2","a\"b"]}` || string(numValue("IS", 7)) != `{"vr":"IS","Value":[7]}` {
		t.Errorf("strValue/numValue: %s %s", strValue("UI", "1.2", `a"b`), numValue("IS", 7))
	}
}

func FuzzParseObject(f *testing.F) {
	f.Add([]byte(`{"00100010":{"vr":"PN","Value":[{"Alphabetic":"Doe^Jane"}]}}`))
	f.Add([]byte(`{"a":[1,{"b":"}"}],"c":"\\\""}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		var want map[string]any
		if json.Unmarshal(b, &want) != nil || want == nil {
			return // not an object: only valid objects must be read right
		}
		o, err := parseObject(b)
		if err != nil {
			t.Fatalf("%q: %v", b, err)
		}
		got := map[string]any{}
		for k, v := range o {
			var x any
			if err := json.Unmarshal(v, &x); err != nil {
				t.Fatalf("%q: member %s is %q", b, k, v)
			}
			got[k] = x
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Fatalf("%q (-want +got):\n%s", b, diff)
		}
	})
}
