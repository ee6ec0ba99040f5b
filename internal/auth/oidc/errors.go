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

// fail returns an error whose message is kind's alone and which wraps cause for the log.
func fail(kind, cause error) error { return auth.Fail(kind, cause) }

// Detail returns the underlying cause of an error of this package, for the operator's log only:
// it may name the identity provider's endpoints or quote its answers.
func Detail(err error) string { return auth.Detail(err) }
