package auth

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode/utf8"

	"golang.org/x/crypto/argon2"
)

// Params are the argon2id cost parameters (RFC 9106, section 3.1) used when
// hashing a password. They are recorded in every hash, so a hash verifies
// with the parameters it was made with; a change of Params only affects new
// hashes and is reported by [VerifyPassword] as needsRehash.
type Params struct {
	Memory  uint32 // m, in KiB
	Time    uint32 // t, number of passes
	Threads uint8  // p, degree of parallelism (lanes)
	SaltLen uint32 // bytes of random salt
	KeyLen  uint32 // bytes of tag (derived key)
}

// DefaultParams returns the parameters used for production password hashes:
// the second recommended option of RFC 9106 section 4, argon2id with
// m=64 MiB, t=3, p=4, a 16-byte salt and a 32-byte tag.
//
// On the 2-core machine CPMS is sized for, one hash (and so one password
// verification) took 75-95 ms with both cores free and about 165 ms on one
// core (BenchmarkHashPassword -cpu 1,2); it roughly doubles while other work
// shares the cores. Each verification holds 64 MiB while it runs, so
// concurrent logins must be throttled (see [Limiter]); RFC 9106's first
// option (2 GiB) does not fit such a server.
func DefaultParams() Params {
	return Params{Memory: 64 * 1024, Time: 3, Threads: 4, SaltLen: 16, KeyLen: 32}
}

// Bounds on parameters accepted from a stored hash, so that a corrupt or
// hostile hash string cannot make verification allocate without limit.
const (
	maxMemoryKiB = 1 << 20 // 1 GiB
	maxTime      = 64
	minSaltLen   = 8
	maxSaltLen   = 64
	minKeyLen    = 16
	maxKeyLen    = 128
)

// Password errors. Their messages are fit to show to the user.
var (
	ErrPasswordTooShort = fmt.Errorf("password must be at least %d characters long", MinPasswordLength)
	ErrPasswordTooLong  = fmt.Errorf("password must be at most %d bytes long", MaxPasswordBytes)
	ErrPasswordEncoding = errors.New("password must be valid UTF-8 text")
	// ErrMalformedHash reports a stored password hash that is not an
	// argon2id PHC string this package can verify.
	ErrMalformedHash = errors.New("stored password hash is malformed")
	// ErrBadParams reports Params outside the accepted bounds.
	ErrBadParams = errors.New("password hash parameters out of range")
)

// Password policy limits. MinPasswordLength counts characters (Unicode code
// points), as NIST SP 800-63B section 5.1.1.2 asks; MaxPasswordBytes bounds
// the work done per login attempt.
const (
	MinPasswordLength = 12
	MaxPasswordBytes  = 1024
)

// CheckPasswordPolicy reports whether pw is acceptable as a new password:
// valid UTF-8, at least MinPasswordLength characters and at most
// MaxPasswordBytes bytes. Composition rules are deliberately absent (NIST SP
// 800-63B advises against them). The caller decides when the policy applies
// (for example not to demo accounts).
func CheckPasswordPolicy(pw string) error {
	switch {
	case !utf8.ValidString(pw):
		return ErrPasswordEncoding
	case len(pw) > MaxPasswordBytes:
		return ErrPasswordTooLong
	case utf8.RuneCountInString(pw) < MinPasswordLength:
		return ErrPasswordTooShort
	}
	return nil
}

func (p Params) valid() bool {
	return p.Memory >= 8*uint32(p.Threads) && p.Memory <= maxMemoryKiB &&
		p.Time >= 1 && p.Time <= maxTime &&
		p.Threads >= 1 &&
		p.SaltLen >= minSaltLen && p.SaltLen <= maxSaltLen &&
		p.KeyLen >= minKeyLen && p.KeyLen <= maxKeyLen
}

// HashPassword derives an argon2id hash of pw with a fresh random salt and
// returns it as a PHC string:
//
//	$argon2id$v=19$m=65536,t=3,p=4$<salt>$<tag>
//
// where salt and tag are unpadded standard base64, as the reference
// implementation writes them.
func HashPassword(pw string, p Params) (string, error) {
	return hashPassword(rand.Reader, pw, p)
}

func hashPassword(random io.Reader, pw string, p Params) (string, error) {
	if !p.valid() {
		return "", ErrBadParams
	}
	if len(pw) > MaxPasswordBytes {
		return "", ErrPasswordTooLong
	}
	salt := make([]byte, p.SaltLen)
	if _, err := io.ReadFull(random, salt); err != nil {
		return "", fail(errRandom, err)
	}
	tag := argon2.IDKey([]byte(pw), salt, p.Time, p.Memory, p.Threads, p.KeyLen)
	return encodePHC(p, salt, tag), nil
}

var errRandom = errors.New("random source failed")

func encodePHC(p Params, salt, tag []byte) string {
	b64 := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s",
		argon2.Version, p.Memory, p.Time, p.Threads,
		b64.EncodeToString(salt), b64.EncodeToString(tag))
}

// VerifyPassword reports whether pw matches the argon2id PHC string encoded,
// comparing tags in constant time. needsRehash is true when pw matched but
// the hash was made with parameters other than [DefaultParams], so the
// caller should store a fresh [HashPassword] result. A hash that cannot be
// parsed yields ErrMalformedHash.
func VerifyPassword(encoded, pw string) (ok bool, needsRehash bool, err error) {
	return VerifyPasswordParams(encoded, pw, DefaultParams())
}

// VerifyPasswordParams is [VerifyPassword] for a deployment whose current
// parameters are not the defaults: needsRehash compares with current.
func VerifyPasswordParams(encoded, pw string, current Params) (ok bool, needsRehash bool, err error) {
	p, salt, tag, err := decodePHC(encoded)
	if err != nil {
		return false, false, err
	}
	if len(pw) > MaxPasswordBytes {
		return false, false, nil
	}
	got := argon2.IDKey([]byte(pw), salt, p.Time, p.Memory, p.Threads, p.KeyLen)
	if subtle.ConstantTimeCompare(got, tag) != 1 {
		return false, false, nil
	}
	return true, p != current, nil
}

// decodePHC parses "$argon2id$v=19$m=M,t=T,p=P$salt$tag". Only argon2id
// version 19 (0x13) is accepted; the parameter order is the one fixed by the
// PHC string format for argon2.
func decodePHC(s string) (Params, []byte, []byte, error) {
	var p Params
	f := strings.Split(s, "$")
	// "", "argon2id", "v=19", "m=..,t=..,p=..", salt, tag
	if len(f) != 6 || f[0] != "" || f[1] != "argon2id" || f[2] != "v=19" {
		return p, nil, nil, ErrMalformedHash
	}
	kv := strings.Split(f[3], ",")
	if len(kv) != 3 {
		return p, nil, nil, ErrMalformedHash
	}
	m, okM := phcUint(kv[0], "m=", maxMemoryKiB)
	t, okT := phcUint(kv[1], "t=", maxTime)
	par, okP := phcUint(kv[2], "p=", 255)
	if !okM || !okT || !okP {
		return p, nil, nil, ErrMalformedHash
	}
	salt, okS := decodeB64(f[4])
	tag, okT := decodeB64(f[5])
	if !okS || !okT {
		return p, nil, nil, ErrMalformedHash
	}
	p = Params{Memory: m, Time: t, Threads: uint8(par), SaltLen: uint32(len(salt)), KeyLen: uint32(len(tag))}
	if !p.valid() {
		return p, nil, nil, ErrMalformedHash
	}
	return p, salt, tag, nil
}

// phcUint parses "name=decimal" with no sign, no leading zero and a value in
// [1, max].
func phcUint(s, name string, max uint64) (uint32, bool) {
	v, ok := strings.CutPrefix(s, name)
	if !ok || v == "" || (len(v) > 1 && v[0] == '0') {
		return 0, false
	}
	n, err := strconv.ParseUint(v, 10, 32)
	if err != nil || n == 0 || n > max {
		return 0, false
	}
	return uint32(n), true
}

// decodeB64 decodes unpadded standard base64 and accepts only the canonical
// form (the decoder alone would skip line breaks).
func decodeB64(s string) ([]byte, bool) {
	b64 := base64.RawStdEncoding.Strict()
	b, err := b64.DecodeString(s)
	if err != nil || b64.EncodeToString(b) != s {
		return nil, false
	}
	return b, true
}
