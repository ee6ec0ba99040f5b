// Package auth holds the credential primitives of CPMS: password hashing
// (argon2id in PHC string form) and password policy, TOTP second factors
// (RFC 6238), recovery codes, opaque bearer tokens (personal access tokens,
// system tokens, session identifiers), CSRF tokens, login throttling and
// and account lockout. Sign-in through an OpenID Connect identity provider is in the
// sub-package oidc.
//
// The package keeps no state of its own beyond the in-memory [Limiter]: the
// product's store persists hashes, counters and last-used TOTP steps, and the
// product's HTTP edge sets cookies and renders errors. It speaks no HTTP, so the domain
// core may use it.
//
// Errors returned here are safe to show to a user: they carry no secret, no
// hash and no personal data. Where a lower layer produced the failure, its
// error is kept for the operator's log ([Detail], errors.As) but is never
// part of the message.
package auth
