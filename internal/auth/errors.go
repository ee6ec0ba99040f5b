package auth

import "errors"

// failure pairs a stable, user-safe error kind with the lower-level cause
// that produced it. Its message is the kind's alone; the cause is kept for
// the operator's log (see [Detail]) and for errors.Is / errors.As.
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

// fail returns an error whose message is kind's and which also wraps cause.
func fail(kind, cause error) error {
	return &failure{kind: kind, cause: cause}
}

// Fail is fail for the sub-packages: an error whose message is kind's (user-safe) and which also
// wraps cause, for the operator's log ([Detail]).
func Fail(kind, cause error) error { return fail(kind, cause) }

// Detail returns the underlying cause of an error returned by this package,
// for the operator's log, or "" when there is none. It is not meant for
// users: it may name an identity provider's endpoints, quote its error
// response or claim values such as an audience. This package puts no
// password, secret or token of its own into it.
func Detail(err error) string {
	var f *failure
	if errors.As(err, &f) && f.cause != nil {
		return f.cause.Error()
	}
	return ""
}
