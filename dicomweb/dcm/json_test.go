package dcm

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// golden compares got (indented) with testdata/name, or rewrites it under -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	var ind bytes.Buffer
	if err := json.Indent(&ind, got, "", "  "); err != nil {
		t.Fatalf("invalid JSON: %v", err)
	}
	ind.WriteByte('\n')
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, ind.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if diff := cmp.Diff(string(want), ind.String()); diff != "" {
		t.Errorf("%s mismatch (-want +got):\n%s", name, diff)
	}
}

func TestGoldenSynthetic(t *testing.T) {
	for _, c := range []struct{ ts, file string }{
		{ExplicitVRLittleEndian, "json_synthetic.json"},
		{ExplicitVRBigEndian, "json_synthetic.json"},             // the same JSON as little endian
		{ImplicitVRLittleEndian, "json_synthetic_implicit.json"}, // private OB becomes UN
	} {
		inst, err := inspectBytes(synthetic(c.ts, 2, 2, 1), Limits{})
		if err != nil {
			t.Fatal(err)
		}
		golden(t, c.file, inst.Metadata)
	}
}

func TestGoldenCTSmall(t *testing.T) {
	in, err := os.ReadFile(filepath.Join(samplesDir, "CT_small.dcm"))
	if err != nil {
		t.Skip("no samples")
	}
	inst, err := inspectBytes(in, Limits{})
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "json_CT_small.json", inst.Metadata)
}

func TestJSONValues(t *testing.T) {
	le := func(vr string, b ...byte) *elem { return &elem{vr: vr, val: b, bulk: -1} }
	str := func(vr, s string) *elem { return &elem{vr: vr, val: []byte(s), bulk: -1} }
	for _, c := range []struct {
		name string
		e    *elem
		want string
	}{
		{"DS multi", str("DS", " 1.5\\+2 \\1e3\\.5 "), `{"vr":"DS","Value":[1.5,2,1e3,0.5]}`},
		{"DS empty entry", str("DS", `1\\2`), `{"vr":"DS","Value":[1,null,2]}`},
		{"DS invalid", str("DS", `1\abc`), `{"vr":"DS"}`},
		{"IS", str("IS", "+12 \\-3"), `{"vr":"IS","Value":[12,-3]}`},
		{"empty", str("LO", "  "), `{"vr":"LO"}`},
		{"UI nul", str("UI", "1.2\x00"), `{"vr":"UI","Value":["1.2"]}`},
		{"LT single", str("LT", `a\b  `), `{"vr":"LT","Value":["a\\b"]}`},
		{"CS multi", str("CS", `ORIGINAL\PRIMARY `), `{"vr":"CS","Value":["ORIGINAL","PRIMARY"]}`},
		{"PN groups", str("PN", `A^B==C\D`), `{"vr":"PN","Value":[{"Alphabetic":"A^B","Phonetic":"C"},{"Alphabetic":"D"}]}`},
		{"US", le("US", 1, 0, 0xFF, 0xFF), `{"vr":"US","Value":[1,65535]}`},
		{"SS", le("SS", 0xFF, 0xFF), `{"vr":"SS","Value":[-1]}`},
		{"FL", le("FL", 0, 0, 0xC0, 0x3F), `{"vr":"FL","Value":[1.5]}`},
		{"FL NaN", le("FL", 0, 0, 0xC0, 0x7F), `{"vr":"FL","Value":[null]}`},
		{"UL bad length", le("UL", 1, 0), `{"vr":"UL"}`},
		{"AT", le("AT", 0x10, 0x00, 0x10, 0x00), `{"vr":"AT","Value":["00100010"]}`},
		{"OB", le("OB", 1, 2), `{"vr":"OB","InlineBinary":"AQI="}`},
		{"OW big endian", &elem{vr: "OW", val: []byte{1, 2}, be: true, bulk: -1}, `{"vr":"OW","InlineBinary":"AgE="}`},
		{"control chars", str("LO", "a\"b\x01"), `{"vr":"LO","Value":["a\"b\u0001"]}`},
	} {
		w := &jsonWriter{}
		w.element(c.e, newTextDecoder(nil))
		if got := w.buf.String(); got != c.want {
			t.Errorf("%s: %s, want %s", c.name, got, c.want)
		}
		if !json.Valid(w.buf.Bytes()) {
			t.Errorf("%s: invalid JSON", c.name)
		}
	}
}

func TestCharsets(t *testing.T) {
	for _, c := range []struct {
		terms []string
		in    string
		want  string
	}{
		{nil, "plain", "plain"},
		{nil, "caf\xc3\xa9", "café"},  // valid UTF-8 kept
		{nil, "caf\xe9", "caf\uFFFD"}, // invalid replaced
		{[]string{"ISO_IR 100"}, "\xc4neas", "Äneas"},
		{[]string{"ISO_IR 192"}, "\xc3\x84", "Ä"},
		{[]string{"ISO_IR 144"}, "\xbb\xee\xdc\xd5\xdc\xd0\xdd\xdd", "Люмеманн"},
		{[]string{"ISO_IR 13"}, "\xd4\xcf\xc0\xde", "ﾔﾏﾀﾞ"},
		{[]string{"", "ISO 2022 IR 87"}, "Yamada=\x1b$B;3ED\x1b(B", "Yamada=山田"},
		{[]string{"", "ISO 2022 IR 149"}, "\x1b$)C\xb1\xe8\xc8\xf1\xc1\xdf", "김희중"},
		{[]string{"ISO 2022 IR 100"}, "\xe9", "é"},
		{[]string{"GB18030"}, "\xd6\xd0", "中"},
		{[]string{"X-UNKNOWN"}, "ok\xff", "ok\uFFFD"},
	} {
		if got := newTextDecoder(c.terms).decode([]byte(c.in)); got != c.want {
			t.Errorf("%v %q: %q, want %q", c.terms, c.in, got, c.want)
		}
	}
}
