package auth

import (
	"bytes"
	"encoding/base32"
	"errors"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// rfcKey is the SHA-1 seed of RFC 4226 appendix D and RFC 6238 appendix B,
// the ASCII string "12345678901234567890".
var rfcKey = []byte("12345678901234567890")

func rfcSecret() string {
	return base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(rfcKey)
}

func TestHOTPRFC4226(t *testing.T) {
	// RFC 4226, appendix D: HOTP values for counts 0..9.
	want := []string{"755224", "287082", "359152", "969429", "338314", "254676", "287922", "162583", "399871", "520489"}
	for i, w := range want {
		if got := hotp(rfcKey, uint64(i), 6); got != w {
			t.Errorf("HOTP(count=%d) = %s, want %s", i, got, w)
		}
	}
}

func TestTOTPRFC6238(t *testing.T) {
	// RFC 6238, appendix B, the SHA-1 rows: 8-digit values. The 6-digit
	// code is the same truncated value modulo 10^6, so its last six digits.
	tests := []struct {
		unix  int64
		step  int64
		eight string
	}{
		{59, 0x1, "94287082"},
		{1111111109, 0x23523EC, "07081804"},
		{1111111111, 0x23523ED, "14050471"},
		{1234567890, 0x273EF07, "89005924"},
		{2000000000, 0x3F940AA, "69279037"},
		{20000000000, 0x27BC86AA, "65353130"},
	}
	for _, tt := range tests {
		at := time.Unix(tt.unix, 0).UTC()
		if got := totpStep(at); got != tt.step {
			t.Errorf("step(%d) = %#x, want %#x", tt.unix, got, tt.step)
		}
		if got := hotp(rfcKey, uint64(tt.step), 8); got != tt.eight {
			t.Errorf("8-digit TOTP(%d) = %s, want %s", tt.unix, got, tt.eight)
		}
		got, err := TOTPCode(rfcSecret(), at)
		if err != nil {
			t.Fatal(err)
		}
		if want := tt.eight[2:]; got != want {
			t.Errorf("TOTPCode(%d) = %s, want %s", tt.unix, got, want)
		}
	}
}

func TestTOTPSecretForms(t *testing.T) {
	at := time.Unix(59, 0)
	canonical := rfcSecret() // GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ
	for _, s := range []string{
		canonical,
		strings.ToLower(canonical),
		"GEZD GNBV GY3T QOJQ GEZD GNBV GY3T QOJQ",
		"gezd-gnbv-gy3t-qojq-gezd-gnbv-gy3t-qojq",
		base32.StdEncoding.EncodeToString(rfcKey[:17]), // padded, 136 bits
	} {
		if _, err := TOTPCode(s, at); err != nil {
			t.Errorf("TOTPCode(%q): %v", s, err)
		}
	}
	for _, s := range []string{"", "GEZDGNBV", "GEZDGNBVGY3TQOJQGEZDGNB1", "not base32 at all!!"} {
		if _, err := TOTPCode(s, at); !errors.Is(err, ErrTOTPSecret) {
			t.Errorf("TOTPCode(%q) err = %v, want ErrTOTPSecret", s, err)
		}
		if _, ok := VerifyTOTP(s, "287082", at, -1); ok {
			t.Errorf("VerifyTOTP accepted malformed secret %q", s)
		}
	}
}

func TestVerifyTOTP(t *testing.T) {
	secret := rfcSecret()
	at := time.Unix(1111111111, 0) // step 0x23523ED
	now := int64(0x23523ED)
	code := func(step int64) string { return hotp(rfcKey, uint64(step), 6) }
	tests := []struct {
		name     string
		code     string
		lastUsed int64
		wantStep int64
		wantOK   bool
	}{
		{"current", code(now), -1, now, true},
		{"previous step (skew)", code(now - 1), -1, now - 1, true},
		{"next step (skew)", code(now + 1), -1, now + 1, true},
		{"two steps back", code(now - 2), -1, 0, false},
		{"two steps ahead", code(now + 2), -1, 0, false},
		{"replay of current", code(now), now, 0, false},
		{"older than last used", code(now - 1), now, 0, false},
		{"newer than last used", code(now + 1), now, now + 1, true},
		{"current after previous used", code(now), now - 1, now, true},
		{"spaces", code(now)[:3] + " " + code(now)[3:], -1, now, true},
		{"wrong", "000000", -1, 0, false},
		{"too short", code(now)[:5], -1, 0, false},
		{"too long", code(now) + "0", -1, 0, false},
		{"letters", "12a456", -1, 0, false},
		{"empty", "", -1, 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.code == "000000" && (code(now-1) == tt.code || code(now) == tt.code || code(now+1) == tt.code) {
				t.Fatal("test code collides with a real one")
			}
			step, ok := VerifyTOTP(secret, tt.code, at, tt.lastUsed)
			if ok != tt.wantOK || step != tt.wantStep {
				t.Errorf("VerifyTOTP = %d, %v; want %d, %v", step, ok, tt.wantStep, tt.wantOK)
			}
		})
	}
}

func TestNewTOTPSecret(t *testing.T) {
	seed := bytes.Repeat([]byte{0xA5}, 20)
	s, err := NewTOTPSecret(bytes.NewReader(seed))
	if err != nil {
		t.Fatal(err)
	}
	if want := base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(seed); s != want {
		t.Errorf("secret = %q, want %q", s, want)
	}
	if len(s) != 32 || strings.Contains(s, "=") {
		t.Errorf("secret %q: want 32 unpadded base32 letters", s)
	}
	at := time.Unix(1700000000, 0)
	c, err := TOTPCode(s, at)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := VerifyTOTP(s, c, at, -1); !ok {
		t.Errorf("fresh secret's own code %s did not verify", c)
	}
	if _, err := NewTOTPSecret(bytes.NewReader(seed[:10])); !errors.Is(err, errRandom) {
		t.Errorf("short random: err = %v, want errRandom", err)
	}
}

func TestTOTPURI(t *testing.T) {
	tests := []struct {
		issuer, account, secret string
		wantPath                string
		wantQuery               url.Values
	}{
		{
			"CPMS", "alice@example.org", "JBSWY3DPEHPK3PXP",
			"/CPMS:alice@example.org",
			url.Values{"secret": {"JBSWY3DPEHPK3PXP"}, "issuer": {"CPMS"}, "algorithm": {"SHA1"}, "digits": {"6"}, "period": {"30"}},
		},
		{
			"ERN CPMS & Co", "dr. müller:1", "JBSWY3DPEHPK3PXP",
			"/ERN CPMS & Co:dr. müller:1",
			url.Values{"secret": {"JBSWY3DPEHPK3PXP"}, "issuer": {"ERN CPMS & Co"}, "algorithm": {"SHA1"}, "digits": {"6"}, "period": {"30"}},
		},
		{
			"", "bob", "JBSWY3DPEHPK3PXP",
			"/bob",
			url.Values{"secret": {"JBSWY3DPEHPK3PXP"}, "algorithm": {"SHA1"}, "digits": {"6"}, "period": {"30"}},
		},
	}
	for _, tt := range tests {
		raw := TOTPURI(tt.issuer, tt.account, tt.secret)
		if strings.ContainsAny(raw, " +") {
			t.Errorf("URI %q has a space or '+'", raw)
		}
		u, err := url.Parse(raw)
		if err != nil {
			t.Fatalf("%q: %v", raw, err)
		}
		if u.Scheme != "otpauth" || u.Host != "totp" {
			t.Errorf("%q: scheme/host = %s/%s", raw, u.Scheme, u.Host)
		}
		if u.Path != tt.wantPath {
			t.Errorf("%q: label = %q, want %q", raw, u.Path, tt.wantPath)
		}
		if diff := cmp.Diff(tt.wantQuery, u.Query()); diff != "" {
			t.Errorf("%q: query (-want +got):\n%s", raw, diff)
		}
	}
}

func BenchmarkVerifyTOTP(b *testing.B) {
	secret := rfcSecret()
	at := time.Unix(1111111111, 0)
	c, _ := TOTPCode(secret, at)
	for b.Loop() {
		if _, ok := VerifyTOTP(secret, c, at, -1); !ok {
			b.Fatal("no match")
		}
	}
}

func TestTOTPBeforeEpoch(t *testing.T) {
	at := time.Unix(-1, 0)
	if got := totpStep(at); got != -1 {
		t.Errorf("step(-1s) = %d, want -1", got)
	}
	if _, err := TOTPCode(rfcSecret(), at); !errors.Is(err, errTOTPTime) {
		t.Errorf("TOTPCode before the epoch: err = %v", err)
	}
	// At 15 s after the epoch only steps 0 and 1 exist to match.
	if _, ok := VerifyTOTP(rfcSecret(), hotp(rfcKey, 0, 6), time.Unix(15, 0), -1); !ok {
		t.Error("step 0 refused at t=15s")
	}
}
