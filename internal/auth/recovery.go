package auth

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"strings"
)

// Recovery codes are one-time second-factor substitutes, shown to the user
// once and stored only as hashes. Each is 12 characters from a 31-letter
// alphabet without the look-alikes 0/o, 1/i/l (about 59 bits), written in
// groups of four: "k7hw-3pqe-x2mb".
const (
	recoveryAlphabet = "23456789abcdefghjkmnpqrstuvwxyz"
	recoveryLen      = 12
	recoveryGroup    = 4
	// DefaultRecoveryCodes is how many codes a user is usually given.
	DefaultRecoveryCodes = 10
	maxRecoveryCodes     = 100
)

// ErrRecoveryCount reports a request for fewer than one or more than 100
// recovery codes.
var ErrRecoveryCount = errors.New("number of recovery codes out of range")

// NewRecoveryCodes returns n fresh recovery codes read from random, and
// their hashes ([HashRecoveryCode]) in the same order. The plain codes are
// for showing to the user once; only the hashes are to be stored.
func NewRecoveryCodes(random io.Reader, n int) (plain []string, hashes []string, err error) {
	if n < 1 || n > maxRecoveryCodes {
		return nil, nil, ErrRecoveryCount
	}
	plain = make([]string, n)
	hashes = make([]string, n)
	for i := range n {
		raw, err := randomString(random, recoveryAlphabet, recoveryLen)
		if err != nil {
			return nil, nil, err
		}
		var b strings.Builder
		for j := 0; j < len(raw); j += recoveryGroup {
			if j > 0 {
				b.WriteByte('-')
			}
			b.WriteString(raw[j:min(j+recoveryGroup, len(raw))])
		}
		plain[i] = b.String()
		hashes[i] = HashRecoveryCode(plain[i])
	}
	return plain, hashes, nil
}

// HashRecoveryCode returns the hex SHA-256 of a fixed label followed by code
// after normalisation: letters folded to lower case and spaces, dashes and underscores removed,
// so "K7HW 3PQE X2MB" and "k7hw-3pqe-x2mb" hash alike. A plain fast hash is
// enough because the codes carry about 59 random bits and are checked
// behind login throttling.
func HashRecoveryCode(code string) string {
	norm := strings.Map(func(r rune) rune {
		switch {
		case r == ' ' || r == '-' || r == '_' || r == '\t':
			return -1
		case 'A' <= r && r <= 'Z':
			return r - 'A' + 'a'
		}
		return r
	}, code)
	sum := sha256.Sum256([]byte("cpms-recovery-code\x00" + norm))
	return hex.EncodeToString(sum[:])
}

// randomString returns n characters drawn uniformly from alphabet (at most
// 256 letters), rejecting bytes that would bias the draw.
func randomString(random io.Reader, alphabet string, n int) (string, error) {
	limit := 256 - 256%len(alphabet)
	out := make([]byte, 0, n)
	buf := make([]byte, n)
	for round := 0; len(out) < n; round++ {
		if round == 64 {
			// A uniform source fails this with probability far below 2^-300.
			return "", errRandom
		}
		b := buf[:n-len(out)]
		if _, err := io.ReadFull(random, b); err != nil {
			return "", fail(errRandom, err)
		}
		for _, c := range b {
			if int(c) < limit {
				out = append(out, alphabet[int(c)%len(alphabet)])
			}
		}
	}
	return string(out), nil
}
