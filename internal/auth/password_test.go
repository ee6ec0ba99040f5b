package auth

import (
	"bufio"
	"bytes"
	"errors"
	"os"
	"strings"
	"testing"
)

// cheap are argon2id parameters small enough for unit tests.
var cheap = Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}

type kat struct{ salt, pw, encoded string }

func readKATs(t *testing.T) []kat {
	t.Helper()
	f, err := os.Open("testdata/argon2id.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []kat
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		f := strings.Split(line, "\t")
		if len(f) != 3 {
			t.Fatalf("bad vector line %q", line)
		}
		out = append(out, kat{f[0], f[1], f[2]})
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if len(out) == 0 {
		t.Fatal("no vectors read")
	}
	return out
}

func TestVerifyPasswordReferenceVectors(t *testing.T) {
	for _, v := range readKATs(t) {
		t.Run(v.pw, func(t *testing.T) {
			ok, rehash, err := VerifyPassword(v.encoded, v.pw)
			if err != nil || !ok || !rehash {
				t.Errorf("VerifyPassword(right) = %v, %v, %v; want true, true (not default params), nil", ok, rehash, err)
			}
			ok, _, err = VerifyPassword(v.encoded, v.pw+"x")
			if err != nil || ok {
				t.Errorf("VerifyPassword(wrong) = %v, %v; want false, nil", ok, err)
			}
			// The same salt must make the same string as the reference tool.
			p, _, _, err := decodePHC(v.encoded)
			if err != nil {
				t.Fatal(err)
			}
			got, err := hashPassword(strings.NewReader(v.salt), v.pw, p)
			if err != nil {
				t.Fatal(err)
			}
			if got != v.encoded {
				t.Errorf("hashPassword = %s\nwant          %s", got, v.encoded)
			}
		})
	}
}

func TestHashPasswordRoundTrip(t *testing.T) {
	tests := []struct {
		name, pw, try string
		want          bool
	}{
		{"ascii", "correct horse battery staple", "correct horse battery staple", true},
		{"unicode", "mot de passe très long ✓", "mot de passe très long ✓", true},
		{"empty", "", "", true},
		{"wrong", "correct horse battery staple", "correct horse battery stapl", false},
		{"case", "Password-Password", "password-password", false},
		{"empty vs non-empty", "", " ", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			enc, err := HashPassword(tt.pw, cheap)
			if err != nil {
				t.Fatal(err)
			}
			if !strings.HasPrefix(enc, "$argon2id$v=19$m=64,t=1,p=1$") {
				t.Errorf("encoded = %q, want PHC argon2id prefix", enc)
			}
			ok, rehash, err := VerifyPasswordParams(enc, tt.try, cheap)
			if err != nil || ok != tt.want || rehash {
				t.Errorf("VerifyPasswordParams = %v, %v, %v; want %v, false, nil", ok, rehash, err, tt.want)
			}
			ok, rehash, err = VerifyPassword(enc, tt.try)
			if err != nil || ok != tt.want || rehash != tt.want {
				t.Errorf("VerifyPassword = %v, %v, %v; want %v, %v, nil", ok, rehash, err, tt.want, tt.want)
			}
		})
	}
}

func TestHashPasswordSaltsDiffer(t *testing.T) {
	a, err := HashPassword("same password twice", cheap)
	if err != nil {
		t.Fatal(err)
	}
	b, err := HashPassword("same password twice", cheap)
	if err != nil {
		t.Fatal(err)
	}
	if a == b {
		t.Errorf("two hashes of one password are equal: %s", a)
	}
}

func TestHashPasswordErrors(t *testing.T) {
	tests := []struct {
		name   string
		pw     string
		p      Params
		random []byte
		want   error
	}{
		{"zero params", "pw", Params{}, nil, ErrBadParams},
		{"short salt", "pw", Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 4, KeyLen: 32}, nil, ErrBadParams},
		{"short key", "pw", Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 8}, nil, ErrBadParams},
		{"memory below 8 per lane", "pw", Params{Memory: 15, Time: 1, Threads: 2, SaltLen: 16, KeyLen: 32}, nil, ErrBadParams},
		{"too much memory", "pw", Params{Memory: 1<<20 + 1, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}, nil, ErrBadParams},
		{"long password", strings.Repeat("a", MaxPasswordBytes+1), cheap, nil, ErrPasswordTooLong},
		{"random fails", "pw", cheap, []byte{1, 2, 3}, errRandom},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := bytes.NewReader(tt.random)
			if tt.random == nil {
				r = bytes.NewReader(make([]byte, 64))
			}
			_, err := hashPassword(r, tt.pw, tt.p)
			if !errors.Is(err, tt.want) {
				t.Errorf("err = %v, want %v", err, tt.want)
			}
		})
	}
}

func TestVerifyPasswordMalformed(t *testing.T) {
	good := "$argon2id$v=19$m=256,t=2,p=1$Y3Btcy1maXhlZC1zYWx0LTE2$k9OxrhU3p8Y8qOJIvvqCO7OPvQcawTLbZNJAYL7tq2g"
	if ok, _, err := VerifyPassword(good, "correct horse battery staple"); !ok || err != nil {
		t.Fatalf("baseline does not verify: %v %v", ok, err)
	}
	tests := map[string]string{
		"empty":              "",
		"bcrypt":             "$2a$10$N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhWy",
		"argon2i":            strings.Replace(good, "argon2id", "argon2i", 1),
		"version 16":         strings.Replace(good, "v=19", "v=16", 1),
		"no version":         strings.Replace(good, "$v=19", "", 1),
		"param order":        strings.Replace(good, "m=256,t=2,p=1", "t=2,m=256,p=1", 1),
		"missing p":          strings.Replace(good, ",p=1", "", 1),
		"extra param":        strings.Replace(good, "p=1", "p=1,k=2", 1),
		"leading zero":       strings.Replace(good, "t=2", "t=02", 1),
		"sign":               strings.Replace(good, "t=2", "t=+2", 1),
		"zero time":          strings.Replace(good, "t=2", "t=0", 1),
		"huge memory":        strings.Replace(good, "m=256", "m=4294967295", 1),
		"overflow memory":    strings.Replace(good, "m=256", "m=99999999999", 1),
		"threads 256":        strings.Replace(good, "p=1", "p=256", 1),
		"padded salt":        strings.Replace(good, "LTE2$", "LTE2=$", 1),
		"url base64 salt":    strings.Replace(good, "Y3Btcy1", "Y3Btcy-", 1),
		"short salt":         strings.Replace(good, "Y3Btcy1maXhlZC1zYWx0LTE2", "YWJj", 1),
		"short tag":          "$argon2id$v=19$m=256,t=2,p=1$Y3Btcy1maXhlZC1zYWx0LTE2$YWJjZGVm",
		"trailing field":     good + "$",
		"missing dollar":     strings.TrimPrefix(good, "$"),
		"non-canonical b64":  strings.Replace(good, "q2g", "q2h", 1),
		"line break in tag":  good + "\n",
		"line break in salt": strings.Replace(good, "Y3Btcy1m", "Y3Bt\r\ncy1m", 1),
	}
	for name, enc := range tests {
		t.Run(name, func(t *testing.T) {
			ok, rehash, err := VerifyPassword(enc, "correct horse battery staple")
			if !errors.Is(err, ErrMalformedHash) || ok || rehash {
				t.Errorf("VerifyPassword(%q) = %v, %v, %v; want false, false, ErrMalformedHash", enc, ok, rehash, err)
			}
		})
	}
}

func TestCheckPasswordPolicy(t *testing.T) {
	tests := []struct {
		name string
		pw   string
		want error
	}{
		{"empty", "", ErrPasswordTooShort},
		{"eleven", "abcdefghijk", ErrPasswordTooShort},
		{"twelve", "abcdefghijkl", nil},
		{"twelve runes, more bytes", "ääääääääääää", nil},
		{"eleven runes, many bytes", "🔑🔑🔑🔑🔑🔑🔑🔑🔑🔑🔑", ErrPasswordTooShort},
		{"passphrase", "correct horse battery staple", nil},
		{"at max", strings.Repeat("a", MaxPasswordBytes), nil},
		{"over max", strings.Repeat("a", MaxPasswordBytes+1), ErrPasswordTooLong},
		{"invalid utf-8", "abcdefghijkl\xff", ErrPasswordEncoding},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := CheckPasswordPolicy(tt.pw); !errors.Is(err, tt.want) {
				t.Errorf("CheckPasswordPolicy = %v, want %v", err, tt.want)
			}
		})
	}
	if got := ErrPasswordTooShort.Error(); got != "password must be at least 12 characters long" {
		t.Errorf("message = %q", got)
	}
}

// BenchmarkHashPassword measures one production-parameter hash, which is
// also the cost of one password verification. Run with -cpu 1,2.
func BenchmarkHashPassword(b *testing.B) {
	p := DefaultParams()
	for b.Loop() {
		if _, err := HashPassword("correct horse battery staple", p); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkVerifyPassword(b *testing.B) {
	enc, err := HashPassword("correct horse battery staple", DefaultParams())
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if ok, _, err := VerifyPassword(enc, "correct horse battery staple"); !ok || err != nil {
			b.Fatal(ok, err)
		}
	}
}

// FuzzDecodePHC checks that the parser never panics and accepts only
// canonical strings: whatever it accepts, it writes back unchanged.
func FuzzDecodePHC(f *testing.F) {
	f.Add("$argon2id$v=19$m=256,t=2,p=1$Y3Btcy1maXhlZC1zYWx0LTE2$k9OxrhU3p8Y8qOJIvvqCO7OPvQcawTLbZNJAYL7tq2g")
	f.Add("$argon2id$v=19$m=64,t=3,p=2$c2FsdHNhbHRzYWx0$C+ghGMZAIRvEnULm7flVSA")
	f.Add("$argon2i$v=19$m=65536,t=2,p=4$c29tZXNhbHQ$RdescudvJCsgt3ub+b+dWRWJTmaaJObG")
	f.Add("$argon2id$v=19$m=,t=,p=$$")
	f.Fuzz(func(t *testing.T, s string) {
		p, salt, tag, err := decodePHC(s)
		if err != nil {
			if !errors.Is(err, ErrMalformedHash) {
				t.Fatalf("unexpected error kind %v", err)
			}
			return
		}
		if got := encodePHC(p, salt, tag); got != s {
			t.Fatalf("accepted non-canonical %q (canonical %q)", s, got)
		}
	})
}
