package auth

import (
	"bytes"
	"crypto/rand"
	"errors"
	"regexp"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// counter is a deterministic byte source: 0, 1, 2, … wrapping at 256.
type counter struct{ next byte }

func (c *counter) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = c.next
		c.next++
	}
	return len(p), nil
}

func TestNewRecoveryCodes(t *testing.T) {
	plain, hashes, err := NewRecoveryCodes(&counter{}, DefaultRecoveryCodes)
	if err != nil {
		t.Fatal(err)
	}
	// Bytes 0..247 map to alphabet[b%31]; 248..255 are rejected.
	want := []string{"2345-6789-abcd", "efgh-jkmn-pqrs", "tuvw-xyz2-3456"}
	if diff := cmp.Diff(want, plain[:3]); diff != "" {
		t.Errorf("first codes (-want +got):\n%s", diff)
	}
	shape := regexp.MustCompile(`^[2-9a-hjkmnp-z]{4}-[2-9a-hjkmnp-z]{4}-[2-9a-hjkmnp-z]{4}$`)
	if len(plain) != DefaultRecoveryCodes || len(hashes) != DefaultRecoveryCodes {
		t.Fatalf("got %d codes, %d hashes", len(plain), len(hashes))
	}
	for i, c := range plain {
		if !shape.MatchString(c) {
			t.Errorf("code %q has the wrong shape", c)
		}
		if hashes[i] != HashRecoveryCode(c) {
			t.Errorf("hash %d does not match its code", i)
		}
	}

	// From a real random source every code differs.
	plain, _, err = NewRecoveryCodes(rand.Reader, 100)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, c := range plain {
		if seen[c] {
			t.Errorf("duplicate code %q", c)
		}
		seen[c] = true
	}
}

func TestNewRecoveryCodesErrors(t *testing.T) {
	tests := []struct {
		name   string
		random []byte
		n      int
		want   error
		cause  bool // whether the error wraps a lower-level cause
	}{
		{"zero", make([]byte, 64), 0, ErrRecoveryCount, false},
		{"too many", make([]byte, 64), 101, ErrRecoveryCount, false},
		{"random runs dry", make([]byte, 5), 1, errRandom, true},
		// Never an acceptable byte: gives up after 64 rounds, not at EOF.
		{"biased source", bytes.Repeat([]byte{0xff}, 100*12), 1, errRandom, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := NewRecoveryCodes(bytes.NewReader(tt.random), tt.n)
			if !errors.Is(err, tt.want) {
				t.Errorf("err = %v, want %v", err, tt.want)
			}
			if got := Detail(err) != ""; got != tt.cause {
				t.Errorf("Detail(err) = %q, want a cause: %v", Detail(err), tt.cause)
			}
		})
	}
}

func TestHashRecoveryCode(t *testing.T) {
	ref := HashRecoveryCode("k7hw-3pqe-x2mb")
	if len(ref) != 64 {
		t.Fatalf("hash %q is not 64 hex digits", ref)
	}
	for _, same := range []string{"K7HW-3PQE-X2MB", "k7hw3pqex2mb", " k7hw 3pqe x2mb ", "k7hw_3pqe_x2mb", "K7hw-3pQE\tx2mb"} {
		if got := HashRecoveryCode(same); got != ref {
			t.Errorf("HashRecoveryCode(%q) differs from the canonical form", same)
		}
	}
	for _, other := range []string{"k7hw-3pqe-x2ma", "k7hw-3pqe-x2m", "", "x2mb-3pqe-k7hw"} {
		if got := HashRecoveryCode(other); got == ref {
			t.Errorf("HashRecoveryCode(%q) equals the reference", other)
		}
	}
}

func TestNewToken(t *testing.T) {
	plain, hash, err := NewToken(bytes.NewReader(make([]byte, 32)), PrefixPersonal)
	if err != nil {
		t.Fatal(err)
	}
	if want := "cpms_pat_" + strings.Repeat("a", 52); plain != want {
		t.Errorf("plain = %q, want %q", plain, want)
	}
	if hash != HashToken(plain) || len(hash) != 64 {
		t.Errorf("hash = %q, want HashToken(plain)", hash)
	}
	// SHA-256("abc") from FIPS 180-2, appendix B.1.
	if got, want := HashToken("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"; got != want {
		t.Errorf("HashToken(abc) = %s, want %s", got, want)
	}

	for _, prefix := range []string{PrefixPersonal, PrefixSystem, PrefixSession, "x", "a1_b2"} {
		plain, _, err := NewToken(rand.Reader, prefix)
		if err != nil {
			t.Fatalf("%s: %v", prefix, err)
		}
		if got := TokenPrefix(plain); got != prefix {
			t.Errorf("TokenPrefix(%q) = %q, want %q", plain, got, prefix)
		}
	}

	for _, bad := range []string{"", "_pat", "pat_", "CPMS", "cpms-pat", "cpms pat", strings.Repeat("a", 33)} {
		if _, _, err := NewToken(rand.Reader, bad); !errors.Is(err, ErrTokenPrefix) {
			t.Errorf("NewToken(prefix %q) err = %v, want ErrTokenPrefix", bad, err)
		}
	}
	if _, _, err := NewToken(bytes.NewReader(make([]byte, 31)), PrefixSystem); !errors.Is(err, errRandom) {
		t.Errorf("short random: err = %v, want errRandom", err)
	}
}

func TestTokenPrefix(t *testing.T) {
	body := strings.Repeat("b", 52)
	tests := map[string]string{
		"cpms_pat_" + body:              "cpms_pat",
		"cpms_sys_" + body:              "cpms_sys",
		"cpms_pat_" + body[:51]:         "",
		"cpms_pat_" + body + "c":        "",
		"cpms_pat_" + body[:51] + "1":   "", // '1' is not base32
		"cpms_pat_" + body[:51] + "B":   "", // upper case is not produced
		"_" + body:                      "",
		body:                            "",
		"":                              "",
		"Bearer cpms_pat_" + body:       "",
		"cpms_pat_" + body[:26] + "_aa": "",
	}
	for in, want := range tests {
		if got := TokenPrefix(in); got != want {
			t.Errorf("TokenPrefix(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestEqual(t *testing.T) {
	tests := []struct {
		a, b string
		want bool
	}{
		{"", "", true},
		{"abc", "abc", true},
		{"abc", "abd", false},
		{"abc", "ab", false},
		{"", "a", false},
	}
	for _, tt := range tests {
		if got := Equal(tt.a, tt.b); got != tt.want {
			t.Errorf("Equal(%q, %q) = %v", tt.a, tt.b, got)
		}
	}
}

func TestCSRF(t *testing.T) {
	key := bytes.Repeat([]byte{7}, 32)
	other := bytes.Repeat([]byte{8}, 32)
	tok := CSRFToken(key, "session-1")
	if tok == "" || strings.ContainsAny(tok, "+/=") {
		t.Fatalf("token %q is not unpadded base64url", tok)
	}
	if CSRFToken(key, "session-1") != tok {
		t.Error("token is not deterministic")
	}
	// The OIDC state MAC uses the same key with another label, so a value
	// made for one use is no token for the other.
	if string(MAC(key, LabelOIDCState, []byte("session-1"))) == string(MAC(key, labelCSRF, []byte("session-1"))) {
		t.Error("labels do not separate the MACs")
	}
	tests := []struct {
		name    string
		key     []byte
		session string
		token   string
		want    bool
	}{
		{"valid", key, "session-1", tok, true},
		{"other session", key, "session-2", tok, false},
		{"other key", other, "session-1", tok, false},
		{"empty token", key, "session-1", "", false},
		{"truncated", key, "session-1", tok[:len(tok)-1], false},
		{"padded", key, "session-1", tok + "=", false},
		{"std alphabet", key, "session-1", strings.NewReplacer("-", "+", "_", "/").Replace(tok) + "A", false},
		{"short key", key[:31], "session-1", CSRFToken(key[:31], "session-1"), false},
		{"empty session", key, "", CSRFToken(key, ""), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := CheckCSRF(tt.key, tt.session, tt.token); got != tt.want {
				t.Errorf("CheckCSRF = %v, want %v", got, tt.want)
			}
		})
	}
	if CSRFToken(key[:31], "s") != "" || CSRFToken(key, "") != "" {
		t.Error("CSRFToken made a token from a short key or empty session")
	}
}
