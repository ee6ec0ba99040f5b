package cpms

import (
	"errors"
	"fmt"
	"strings"
)

// Kind is the small, stable set of error kinds that the edges translate into their protocol's
// error form (problem JSON, OperationOutcome, RegistryErrorList, DICOMweb status).
type Kind int

const (
	KindInternal        Kind = iota // anything unexpected; never shown in detail to clients
	KindInvalid                     // the request is malformed or breaks a rule
	KindNotFound                    // no such thing (or not visible to the caller)
	KindPermission                  // authenticated, but not allowed
	KindUnauthenticated             // no or bad credentials
	KindConflict                    // clashes with the current state
	KindUnavailable                 // a dependency is down; retry later
	KindTooMany                     // throttled
)

var kindNames = [...]string{"internal", "invalid", "not found", "permission denied", "unauthenticated", "conflict", "unavailable", "too many requests"}

func (k Kind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return "kind(" + fmt.Sprint(int(k)) + ")"
}

// Error is a domain error. Its message is safe to show to the client: it carries no patient data
// and no internals. Code is an optional machine-readable reason (e.g. "totp_required").
type Error struct {
	Kind   Kind
	Code   string
	Msg    string
	Fields []FieldError // every problem found, for validation errors
	Err    error        // the cause, for logs only
}

// FieldError names one invalid field of a request.
type FieldError struct {
	Field string `json:"field"`
	Msg   string `json:"message"`
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.Msg)
	for i, f := range e.Fields {
		if i == 0 {
			b.WriteString(": ")
		} else {
			b.WriteString("; ")
		}
		b.WriteString(f.Field + ": " + f.Msg)
	}
	return b.String()
}

func (e *Error) Unwrap() error { return e.Err }

// Errorf makes a domain error of the given kind.
func Errorf(k Kind, format string, args ...any) *Error {
	return &Error{Kind: k, Msg: fmt.Sprintf(format, args...)}
}

// WithCode sets the machine-readable reason.
func (e *Error) WithCode(code string) *Error { e.Code = code; return e }

// KindOf returns the kind of err: that of the first *Error in its chain, else KindInternal.
func KindOf(err error) Kind {
	var e *Error
	if errors.As(err, &e) {
		return e.Kind
	}
	return KindInternal
}

// Sentinels that stores return (wrapped in an *Error by the service where useful).
var (
	ErrNotFound = &Error{Kind: KindNotFound, Msg: "not found"}
	ErrConflict = &Error{Kind: KindConflict, Msg: "already exists"}
)

// Is makes errors.Is(err, ErrNotFound) true for any not-found *Error.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && (t == ErrNotFound || t == ErrConflict) && t.Kind == e.Kind
}

// Validation collects field problems so that a request gets all of them at once.
type Validation struct{ fields []FieldError }

// Add records a problem with a field.
func (v *Validation) Add(field, msg string) { v.fields = append(v.fields, FieldError{field, msg}) }

// Check records msg for field when ok is false.
func (v *Validation) Check(ok bool, field, msg string) {
	if !ok {
		v.Add(field, msg)
	}
}

// Err returns nil when nothing was recorded, else an invalid-kind error listing every problem.
func (v *Validation) Err() error {
	if len(v.fields) == 0 {
		return nil
	}
	return &Error{Kind: KindInvalid, Code: "invalid", Msg: "the request is not valid", Fields: v.fields}
}
