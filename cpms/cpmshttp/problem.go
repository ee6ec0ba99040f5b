package cpmshttp

import (
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"

	"github.com/ern-cpms/cpms/cpms"
)

// Problem is an RFC 9457 problem document with the product's extensions.
type Problem struct {
	Type      string            `json:"type"`
	Title     string            `json:"title"`
	Status    int               `json:"status"`
	Detail    string            `json:"detail,omitempty"`
	Code      string            `json:"code,omitempty"`
	Errors    []cpms.FieldError `json:"errors,omitempty"`
	RequestID string            `json:"requestId,omitempty"`
}

var kindStatus = map[cpms.Kind]int{
	cpms.KindInvalid:         http.StatusBadRequest,
	cpms.KindNotFound:        http.StatusNotFound,
	cpms.KindPermission:      http.StatusForbidden,
	cpms.KindUnauthenticated: http.StatusUnauthorized,
	cpms.KindConflict:        http.StatusConflict,
	cpms.KindUnavailable:     http.StatusServiceUnavailable,
	cpms.KindTooMany:         http.StatusTooManyRequests,
	cpms.KindInternal:        http.StatusInternalServerError,
}

// ProblemFor turns an error into the problem the client sees. Only domain errors carry their
// message out; anything else becomes a generic internal error.
func ProblemFor(err error) Problem {
	var de *cpms.Error
	if !errors.As(err, &de) {
		return Problem{Type: "about:blank", Title: "Internal Server Error", Status: 500,
			Detail: "something went wrong on the server; the request ID helps the operator find it"}
	}
	status := kindStatus[de.Kind]
	p := Problem{Type: "about:blank", Title: http.StatusText(status), Status: status, Detail: de.Msg, Code: de.Code, Errors: de.Fields}
	if de.Kind == cpms.KindUnavailable {
		p.Detail = de.Msg
	}
	return p
}

// WriteError writes err as problem JSON and logs what the client does not see.
func WriteError(w http.ResponseWriter, r *http.Request, log *slog.Logger, err error) {
	p := ProblemFor(err)
	p.RequestID = RequestID(r.Context())
	if p.Status >= 500 && log != nil {
		log.ErrorContext(r.Context(), "request failed", "status", p.Status, "err", err, "request_id", p.RequestID)
	}
	if p.Status == http.StatusUnauthorized && r.Header.Get("Authorization") != "" {
		w.Header().Set("WWW-Authenticate", `Bearer realm="cpms", error="invalid_token"`)
	}
	if p.Status == http.StatusServiceUnavailable {
		w.Header().Set("Retry-After", "5")
	}
	WriteProblem(w, p)
}

// WriteProblem writes a problem document.
func WriteProblem(w http.ResponseWriter, p Problem) {
	w.Header().Set("Content-Type", "application/problem+json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(p.Status)
	json.NewEncoder(w).Encode(p)
}

// writeJSON writes v with the status.
func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(true)
	enc.Encode(v)
}
