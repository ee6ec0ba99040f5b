package fhir

import (
	"errors"
	"strings"

	r4 "github.com/samply/golang-fhir-models/fhir-models/fhir"

	"github.com/ern-cpms/cpms/cpms"
)

// IssueType is a code of the FHIR issue-type value set.
type IssueType = r4.IssueType

// The issue types this package uses.
const (
	IssueInvalid       = r4.IssueTypeInvalid
	IssueStructure     = r4.IssueTypeStructure
	IssueRequired      = r4.IssueTypeRequired
	IssueValue         = r4.IssueTypeValue
	IssueCodeInvalid   = r4.IssueTypeCodeInvalid
	IssueBusinessRule  = r4.IssueTypeBusinessRule
	IssueNotSupported  = r4.IssueTypeNotSupported
	IssueNotFound      = r4.IssueTypeNotFound
	IssueForbidden     = r4.IssueTypeForbidden
	IssueLogin         = r4.IssueTypeLogin
	IssueConflict      = r4.IssueTypeConflict
	IssueDuplicate     = r4.IssueTypeDuplicate
	IssueMultiple      = r4.IssueTypeMultipleMatches
	IssueTransient     = r4.IssueTypeTransient
	IssueThrottled     = r4.IssueTypeThrottled
	IssueException     = r4.IssueTypeException
	IssueTooLong       = r4.IssueTypeTooLong
	IssueProcessing    = r4.IssueTypeProcessing
	IssueInformational = r4.IssueTypeInformational
)

// Severity is an issue's severity.
type Severity = r4.IssueSeverity

const (
	SeverityError       = r4.IssueSeverityError
	SeverityWarning     = r4.IssueSeverityWarning
	SeverityInformation = r4.IssueSeverityInformation
)

// Issue is one issue of an OperationOutcome. Diagnostics is shown to the client: it never
// holds patient data or internals.
type Issue struct {
	Severity    Severity
	Code        IssueType
	Diagnostics string
	Expression  []string // FHIRPath of the element concerned
}

// Error is a failure in FHIR terms: the HTTP status to answer with and its issues. The mapping
// returns it for resources it cannot accept; Outcome turns domain errors into it.
type Error struct {
	Status int
	Issues []Issue
}

func (e *Error) Error() string {
	msgs := make([]string, len(e.Issues))
	for i, is := range e.Issues {
		msgs[i] = is.Diagnostics
		if len(is.Expression) > 0 {
			msgs[i] = strings.Join(is.Expression, ", ") + ": " + is.Diagnostics
		}
	}
	return strings.Join(msgs, "; ")
}

// Errorf is an Error of one issue.
func Errorf(status int, code IssueType, diagnostics string, expression ...string) *Error {
	return &Error{Status: status, Issues: []Issue{{Severity: SeverityError, Code: code, Diagnostics: diagnostics, Expression: expression}}}
}

// OperationOutcome is the error as a resource.
func (e *Error) OperationOutcome() r4.OperationOutcome {
	return OperationOutcome(e.Issues...)
}

// OperationOutcome makes an OperationOutcome of the issues.
func OperationOutcome(issues ...Issue) r4.OperationOutcome {
	oo := r4.OperationOutcome{Issue: make([]r4.OperationOutcomeIssue, len(issues))}
	for i, is := range issues {
		oo.Issue[i] = r4.OperationOutcomeIssue{Severity: is.Severity, Code: is.Code, Expression: is.Expression}
		if is.Diagnostics != "" {
			oo.Issue[i].Diagnostics = ptr(is.Diagnostics)
		}
	}
	return oo
}

// Locator turns a field name of a domain validation error (cpms.FieldError.Field) into the
// FHIRPath of the element it came from; "" when it has none.
type Locator func(field string) string

// The HTTP statuses this package answers with.
const (
	StatusOK                  = 200
	StatusCreated             = 201
	StatusBadRequest          = 400
	StatusUnauthorized        = 401
	StatusForbidden           = 403
	StatusNotFound            = 404
	StatusMethodNotAllowed    = 405
	StatusNotAcceptable       = 406
	StatusConflict            = 409
	StatusPreconditionFailed  = 412
	StatusTooLarge            = 413
	StatusUnsupportedMedia    = 415
	StatusUnprocessable       = 422
	StatusTooManyRequests     = 429
	StatusInternalServerError = 500
	StatusUnavailable         = 503
)

// InternalMessage is all a client learns of an unexpected failure.
const InternalMessage = "something went wrong on the server; the request ID helps the operator find it"

// Outcome turns an error into the FHIR error to answer with. Domain errors keep their
// (client-safe) message; validation errors give one issue per field, located by loc (may be
// nil); anything else is an internal error without detail.
func Outcome(err error, loc Locator) *Error {
	var fe *Error
	if errors.As(err, &fe) {
		return fe
	}
	var de *cpms.Error
	if !errors.As(err, &de) {
		return Errorf(StatusInternalServerError, IssueException, InternalMessage)
	}
	switch de.Kind {
	case cpms.KindInvalid:
		if len(de.Fields) == 0 {
			return Errorf(StatusBadRequest, IssueInvalid, de.Msg)
		}
		out := &Error{Status: StatusUnprocessable}
		for _, f := range de.Fields {
			is := Issue{Severity: SeverityError, Code: IssueBusinessRule, Diagnostics: f.Msg}
			path := ""
			if loc != nil {
				path = loc(f.Field)
			}
			if path != "" {
				is.Expression = []string{path}
			} else {
				is.Diagnostics = f.Field + ": " + f.Msg
			}
			out.Issues = append(out.Issues, is)
		}
		return out
	case cpms.KindNotFound:
		return Errorf(StatusNotFound, IssueNotFound, de.Msg)
	case cpms.KindPermission:
		return Errorf(StatusForbidden, IssueForbidden, de.Msg)
	case cpms.KindUnauthenticated:
		return Errorf(StatusUnauthorized, IssueLogin, de.Msg)
	case cpms.KindConflict:
		switch de.Code {
		case cpms.ErrVersionMismatch:
			return Errorf(StatusPreconditionFailed, IssueConflict, de.Msg)
		case "duplicate":
			return Errorf(StatusConflict, IssueDuplicate, de.Msg)
		}
		return Errorf(StatusConflict, IssueConflict, de.Msg)
	case cpms.KindUnavailable:
		return Errorf(StatusUnavailable, IssueTransient, de.Msg)
	case cpms.KindTooMany:
		return Errorf(StatusTooManyRequests, IssueThrottled, de.Msg)
	}
	return Errorf(StatusInternalServerError, IssueException, InternalMessage)
}

// ext is the FHIRPath of an extension of the element at path.
func ext(path, url string) string { return path + ".extension('" + url + "')" }

// PatientLocator locates the fields of a patient's validation errors in the Patient resource
// at path ("Patient", or "Bundle.entry[0].resource" in a transaction).
func PatientLocator(path string) Locator {
	return func(field string) string {
		switch field {
		case "firstName":
			return path + ".name.given"
		case "lastName":
			return path + ".name.family"
		case "gender":
			return path + ".gender"
		case "birthDate":
			return path + ".birthDate"
		case "recordLabel":
			return ext(path, ExtRecordLabel)
		case "identifiers":
			return path + ".identifier"
		case "identifiers.system", "identifiers.value", "identifiers.type":
			return path + ".identifier." + strings.TrimPrefix(field, "identifiers.")
		case "enrolledOn":
			return ext(path, ExtEnrolmentDate)
		case "consentVariant":
			return ext(path, ExtConsentVariant)
		case "ern":
			return ext(path, ExtERN)
		case "centre":
			return path + ".managingOrganization"
		case "clinician":
			return ext(path, ExtEnrollingClinician)
		case "id":
			return path + ".id"
		}
		if strings.HasPrefix(field, "Patient.") {
			return path + strings.TrimPrefix(field, "Patient")
		}
		return ""
	}
}

// ConsentLocator locates the fields of a consent's validation errors in the Consent resource
// at path.
func ConsentLocator(path string) Locator {
	return func(field string) string {
		if strings.HasPrefix(field, "Consent.") {
			return path + strings.TrimPrefix(field, "Consent")
		}
		if field == "kind" || field == "consents" {
			return path + ".category"
		}
		rest, ok := strings.CutPrefix(field, "consents.")
		if !ok {
			return ""
		}
		_, sub, _ := strings.Cut(rest, ".")
		switch sub {
		case "date":
			return path + ".dateTime"
		case "note":
			return ext(path, ExtConsentNote)
		case "withdrawnOn":
			return path + ".provision.period.end"
		case "":
			return path
		}
		return ""
	}
}

// EnrolmentLocator locates the fields of an enrolment's validation errors in a transaction
// Bundle: patient is the path of the Patient, consents that of each Consent by kind.
func EnrolmentLocator(patient string, consents map[cpms.ConsentKind]string) Locator {
	pl := PatientLocator(patient)
	return func(field string) string {
		if field == "consents" {
			return "Bundle.entry"
		}
		if rest, ok := strings.CutPrefix(field, "consents."); ok {
			kind, _, _ := strings.Cut(rest, ".")
			if path, ok := consents[cpms.ConsentKind(kind)]; ok {
				return ConsentLocator(path)(field)
			}
			return "Bundle.entry"
		}
		if strings.HasPrefix(field, "Consent.") {
			return ""
		}
		return pl(field)
	}
}
