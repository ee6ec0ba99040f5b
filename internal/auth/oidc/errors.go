// Package oidc signs people in through an OpenID Connect identity provider (such as EU Login):
// the authorization code flow with PKCE, state and nonce, verification of the ID token, and the
// sealed cookie that carries the sign-in state between the redirect and the callback.
package oidc

import (
	"errors"

	"github.com/ern-cpms/cpms/internal/auth"
)

// MinKeyLen is the shortest server key accepted for sealing the sign-in state.
const MinKeyLen = auth.MinKeyLen

var errRandom = errors.New("random source failed")

// failure pairs a stable, user-safe error with the lower-level cause that produced it. Its
// message is the safe error's alone; the cause is kept for the operator's log ([Detail]).
type failure struct {
	kind  error
	cause error
}

func (f *failure) Error() string { return f.kind.Error() }

func (f *failure) Unwrap() []error {
	if f.cause == nil {
		return []error{f.kind}
	}
	return []error{f.kind, f.cause}
}

func fail(kind, cause error) error { return &failure{kind: kind, cause: cause} }

// Detail returns the underlying cause of an error of this package, for the operator's log only:
// it may name the identity provider's endpoints or quote its answers.
func Detail(err error) string {
	var f *failure
	if errors.As(err, &f) && f.cause != nil {
		return f.cause.Error()
	}
	return ""
}
