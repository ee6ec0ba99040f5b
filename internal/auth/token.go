package auth

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base32"
	"encoding/hex"
	"errors"
	"io"
	"strings"
)

// Token kinds, written at the front of every token so that a leaked token
// says what it is (and secret scanners can find it) and the server can
// route it before any lookup.
const (
	PrefixPersonal = "cpms_pat" // personal access token of a user
	PrefixSystem   = "cpms_sys" // token of a system peer (HIS, PACS, gateway)
	PrefixSession  = "cpms_ses" // browser session identifier
)

const (
	tokenRandomBytes = 32 // 256 bits
	maxPrefixLen     = 32
)

// tokenEncoding is lower-case RFC 4648 base32 without padding: 52 letters
// for 32 bytes, no '_' (so the prefix splits off at the last underscore)
// and nothing a URL, header or cookie needs to escape.
var tokenEncoding = base32.NewEncoding("abcdefghijklmnopqrstuvwxyz234567").WithPadding(base32.NoPadding)

// ErrTokenPrefix reports a prefix that is empty, longer than 32 bytes or not
// made of lower-case ASCII letters, digits and inner underscores.
var ErrTokenPrefix = errors.New("token prefix is malformed")

// NewToken returns a new bearer token "<prefix>_<52 base32 letters>" holding
// 256 bits read from random, and its hash ([HashToken]) for storage. The
// plain token is handed to its holder once and never stored.
func NewToken(random io.Reader, prefix string) (plain string, hash string, err error) {
	if !validPrefix(prefix) {
		return "", "", ErrTokenPrefix
	}
	b := make([]byte, tokenRandomBytes)
	if _, err := io.ReadFull(random, b); err != nil {
		return "", "", fail(errRandom, err)
	}
	plain = prefix + "_" + tokenEncoding.EncodeToString(b)
	return plain, HashToken(plain), nil
}

// HashToken returns the hex SHA-256 of the whole token, prefix included.
// A fast hash suffices because tokens carry 256 random bits.
func HashToken(plain string) string {
	sum := sha256.Sum256([]byte(plain))
	return hex.EncodeToString(sum[:])
}

// TokenPrefix returns the kind prefix of a token made by [NewToken] (for
// example PrefixPersonal), or "" if plain does not have that shape. It says
// nothing about whether the token is valid.
func TokenPrefix(plain string) string {
	i := strings.LastIndexByte(plain, '_')
	if i < 0 {
		return ""
	}
	prefix, body := plain[:i], plain[i+1:]
	if !validPrefix(prefix) || len(body) != tokenEncoding.EncodedLen(tokenRandomBytes) {
		return ""
	}
	for _, c := range []byte(body) {
		if !('a' <= c && c <= 'z' || '2' <= c && c <= '7') {
			return ""
		}
	}
	return prefix
}

func validPrefix(p string) bool {
	if p == "" || len(p) > maxPrefixLen || p[0] == '_' || p[len(p)-1] == '_' {
		return false
	}
	for _, c := range []byte(p) {
		if !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '_') {
			return false
		}
	}
	return true
}

// Equal reports whether a and b are equal, in time that depends only on
// their lengths. Use it to compare secrets and their hashes.
func Equal(a, b string) bool {
	return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1
}
