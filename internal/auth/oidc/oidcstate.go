package oidc

import (
	"github.com/ern-cpms/cpms/internal/auth"

	"crypto/hmac"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"strings"
	"time"
)

// maxSealedState bounds the cookie value DecodeState will look at.
const maxSealedState = 1024

// sealVersion is the first byte of a sealed state's payload.
const sealVersion = 1

var (
	errStateMAC     = errors.New("sealed OIDC state: bad MAC or format")
	errStateExpired = errors.New("sealed OIDC state: expired")
	errShortKey     = errors.New("key shorter than MinKeyLen")
)

// EncodeState seals st into a cookie value that [DecodeState]
// accepts until expires, under key (at least MinKeyLen bytes). The value is
// base64url(payload) "." base64url(HMAC-SHA256(payload)), where payload is
// a version byte, the expiry in Unix seconds (8 bytes, big-endian) and the
// three fields, each preceded by its length as a uvarint. It is
// authenticated, not encrypted: it holds only values made for this one
// login, and the cookie carrying it should be HttpOnly, Secure and
// SameSite=Lax.
func EncodeState(key []byte, st State, expires time.Time) (string, error) {
	if len(key) < MinKeyLen {
		return "", fail(ErrConfig, errShortKey)
	}
	payload := []byte{sealVersion}
	payload = binary.BigEndian.AppendUint64(payload, uint64(expires.Unix()))
	for _, f := range []string{st.State, st.Nonce, st.Verifier} {
		payload = binary.AppendUvarint(payload, uint64(len(f)))
		payload = append(payload, f...)
	}
	b64 := base64.RawURLEncoding
	return b64.EncodeToString(payload) + "." + b64.EncodeToString(auth.MAC(key, auth.LabelOIDCState, payload)), nil
}

// DecodeState checks and opens a value made by [EncodeState] with
// the same key. It returns ErrState if the value was altered, made
// with another key, or expired at or before now.
func DecodeState(key []byte, value string, now time.Time) (State, error) {
	if len(key) < MinKeyLen {
		return State{}, fail(ErrConfig, errShortKey)
	}
	if len(value) > maxSealedState {
		return State{}, fail(ErrState, errStateMAC)
	}
	p64, m64, ok := strings.Cut(value, ".")
	b64 := base64.RawURLEncoding.Strict()
	payload, err1 := b64.DecodeString(p64)
	mac, err2 := b64.DecodeString(m64)
	if !ok || err1 != nil || err2 != nil || !hmac.Equal(mac, auth.MAC(key, auth.LabelOIDCState, payload)) {
		return State{}, fail(ErrState, errStateMAC)
	}
	// The MAC is good, so the payload is one this package wrote; it is
	// still parsed defensively.
	if len(payload) < 9 || payload[0] != sealVersion {
		return State{}, fail(ErrState, errStateMAC)
	}
	expires := int64(binary.BigEndian.Uint64(payload[1:9]))
	rest := payload[9:]
	var fields [3]string
	for i := range fields {
		n, w := binary.Uvarint(rest)
		if w <= 0 || n > uint64(len(rest)-w) {
			return State{}, fail(ErrState, errStateMAC)
		}
		fields[i] = string(rest[w : w+int(n)])
		rest = rest[w+int(n):]
	}
	if len(rest) != 0 {
		return State{}, fail(ErrState, errStateMAC)
	}
	if !now.Before(time.Unix(expires, 0)) {
		return State{}, fail(ErrState, errStateExpired)
	}
	return State{State: fields[0], Nonce: fields[1], Verifier: fields[2]}, nil
}
