package auth

import (
	"crypto/hmac"
	"crypto/sha1"
	"crypto/subtle"
	"encoding/base32"
	"encoding/binary"
	"errors"
	"io"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// TOTP parameters: RFC 6238 with HMAC-SHA-1, 6 digits and a 30-second step
// from the Unix epoch, the profile every common authenticator app supports.
const (
	TOTPDigits     = 6
	TOTPPeriod     = 30 * time.Second
	totpSecretSize = 20 // bytes: 160 bits, the length RFC 4226 section 4 recommends
	totpSkewSteps  = 1  // steps accepted either side of the current one
)

// ErrTOTPSecret reports a TOTP secret that is not base32 text of at least
// 128 bits.
var ErrTOTPSecret = errors.New("TOTP secret is malformed")

var errTOTPTime = errors.New("time is before the Unix epoch")

var totpEncoding = base32.StdEncoding.WithPadding(base32.NoPadding)

// NewTOTPSecret returns a fresh 160-bit TOTP secret read from random,
// as unpadded base32 (the form authenticator apps accept).
func NewTOTPSecret(random io.Reader) (string, error) {
	key := make([]byte, totpSecretSize)
	if _, err := io.ReadFull(random, key); err != nil {
		return "", fail(errRandom, err)
	}
	return totpEncoding.EncodeToString(key), nil
}

// decodeTOTPSecret accepts the secret as users may type it: any case, with
// spaces or dashes between groups, with or without '=' padding.
func decodeTOTPSecret(secret string) ([]byte, error) {
	s := strings.Map(func(r rune) rune {
		switch {
		case r == ' ' || r == '-' || r == '=':
			return -1
		case 'a' <= r && r <= 'z':
			return r - 'a' + 'A'
		}
		return r
	}, secret)
	key, err := totpEncoding.DecodeString(s)
	if err != nil || len(key) < 16 {
		return nil, ErrTOTPSecret
	}
	return key, nil
}

// hotp computes the RFC 4226 HOTP value of key and counter with the given
// number of decimal digits (section 5.3: dynamic truncation, then modulo
// 10^digits, zero-padded on the left).
func hotp(key []byte, counter uint64, digits int) string {
	var msg [8]byte
	binary.BigEndian.PutUint64(msg[:], counter)
	mac := hmac.New(sha1.New, key)
	mac.Write(msg[:])
	sum := mac.Sum(nil)
	off := sum[len(sum)-1] & 0x0f
	bin := binary.BigEndian.Uint32(sum[off:off+4]) & 0x7fffffff
	mod := uint32(1)
	for range digits {
		mod *= 10
	}
	v := bin % mod
	out := make([]byte, digits)
	for i := digits - 1; i >= 0; i-- {
		out[i] = byte('0' + v%10)
		v /= 10
	}
	return string(out)
}

// totpStep is T in RFC 6238 section 4.2: whole periods since the Unix epoch.
func totpStep(t time.Time) int64 {
	period := int64(TOTPPeriod / time.Second)
	u := t.Unix()
	step := u / period
	if u < 0 && u%period != 0 {
		step-- // floor, not truncation, before the epoch
	}
	return step
}

// TOTPCode returns the 6-digit code for secret at time t.
func TOTPCode(secret string, t time.Time) (string, error) {
	key, err := decodeTOTPSecret(secret)
	if err != nil {
		return "", err
	}
	step := totpStep(t)
	if step < 0 {
		return "", errTOTPTime
	}
	return hotp(key, uint64(step), TOTPDigits), nil
}

// VerifyTOTP checks code against secret at time t, accepting the current
// step and one step either side for clock skew (RFC 6238 section 5.2).
// Steps at or below lastUsedStep are refused, so a code cannot be replayed
// (section 5.2 requires a code be accepted only once); on success it
// returns the matched step, which the caller stores as the new
// lastUsedStep. Pass -1 for an account that has never used a code. Spaces
// in code are ignored; a malformed secret or code is simply not ok.
func VerifyTOTP(secret, code string, t time.Time, lastUsedStep int64) (step int64, ok bool) {
	key, err := decodeTOTPSecret(secret)
	if err != nil {
		return 0, false
	}
	code = strings.ReplaceAll(code, " ", "")
	if len(code) != TOTPDigits {
		return 0, false
	}
	for _, c := range []byte(code) {
		if c < '0' || c > '9' {
			return 0, false
		}
	}
	now := totpStep(t)
	matched := int64(-1)
	// Every candidate is computed and compared, so the time taken does not
	// reveal which step matched.
	for s := now - totpSkewSteps; s <= now+totpSkewSteps; s++ {
		if s < 0 {
			continue
		}
		eq := subtle.ConstantTimeCompare([]byte(hotp(key, uint64(s), TOTPDigits)), []byte(code))
		if eq == 1 && s > lastUsedStep && matched < 0 {
			matched = s
		}
	}
	if matched < 0 {
		return 0, false
	}
	return matched, true
}

// TOTPURI returns the otpauth:// key URI that authenticator apps read from a
// QR code: otpauth://totp/<issuer>:<account>?secret=...&issuer=...
// with the algorithm, digits and period spelled out.
func TOTPURI(issuer, account, secret string) string {
	label := uriEscape(account)
	if issuer != "" {
		label = uriEscape(issuer) + ":" + label
	}
	q := "secret=" + uriEscape(secret)
	if issuer != "" {
		q += "&issuer=" + uriEscape(issuer)
	}
	q += "&algorithm=SHA1&digits=" + strconv.Itoa(TOTPDigits) +
		"&period=" + strconv.Itoa(int(TOTPPeriod/time.Second))
	return "otpauth://totp/" + label + "?" + q
}

// uriEscape percent-encodes s for both the label and the query of a key URI;
// spaces become %20, which authenticator apps read correctly where some
// show a '+' literally.
func uriEscape(s string) string {
	return strings.ReplaceAll(url.QueryEscape(s), "+", "%20")
}
