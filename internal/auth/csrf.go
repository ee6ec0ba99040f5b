package auth

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
)

// MinKeyLen is the shortest server key accepted for CSRF tokens and sealed
// OIDC state: 32 bytes, the output size of the HMAC-SHA256 that uses it.
const MinKeyLen = 32

// Domain-separation labels: one server key may serve several MACs without
// a value made for one use being accepted for another.
const (
	labelCSRF      = "cpms-csrf-v1\x00"
	LabelOIDCState = "cpms-oidc-state-v1\x00"
)

// MAC is HMAC-SHA256 of msg under key, domain-separated by label, so that one server key
// can serve several purposes.
func MAC(key []byte, label string, msg []byte) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(label))
	m.Write(msg)
	return m.Sum(nil)
}

// CSRFToken returns the anti-CSRF token bound to a session: the base64url
// HMAC-SHA256 of sessionID under key, so the server needs no extra state.
// The token lives as long as the session identifier, which the caller
// replaces at login. It returns "" when key is shorter than MinKeyLen or
// sessionID is empty, and [CheckCSRF] never accepts "".
func CSRFToken(key []byte, sessionID string) string {
	if len(key) < MinKeyLen || sessionID == "" {
		return ""
	}
	return base64.RawURLEncoding.EncodeToString(MAC(key, labelCSRF, []byte(sessionID)))
}

// CheckCSRF reports whether token is the CSRF token of sessionID under key,
// comparing in constant time.
func CheckCSRF(key []byte, sessionID, token string) bool {
	if len(key) < MinKeyLen || sessionID == "" {
		return false
	}
	got, err := base64.RawURLEncoding.Strict().DecodeString(token)
	if err != nil {
		return false
	}
	return hmac.Equal(got, MAC(key, labelCSRF, []byte(sessionID)))
}
