package fhirhttp

import (
	"encoding/json"
	"log/slog"
	"net/http"
	"strconv"

	"github.com/ern-cpms/cpms/cpms"
	"github.com/ern-cpms/cpms/fhir"
)

// WriteOutcome writes err as an OperationOutcome with the status of its kind. It is the
// authentication error writer of the /fhir paths (cpmshttp.Authenticator.Errors).
func WriteOutcome(w http.ResponseWriter, r *http.Request, err error) {
	writeOutcome(w, r, nil, err, nil)
}

func (s *Server) fail(w http.ResponseWriter, r *http.Request, err error, loc fhir.Locator) {
	writeOutcome(w, r, s.log, err, loc)
}

func (rq *request) writeError(err error) { writeOutcome(rq.w, rq.r, rq.log, err, nil) }

// writeOutcome writes the OperationOutcome of err and logs, by request ID, what the client
// does not see of a server failure.
func writeOutcome(w http.ResponseWriter, r *http.Request, log *slog.Logger, err error, loc fhir.Locator) {
	e := fhir.Outcome(err, loc)
	rid := cpms.RequestInfoFrom(r.Context()).RequestID
	if e.Status >= 500 {
		if log != nil {
			log.ErrorContext(r.Context(), "fhir request failed", "status", e.Status, "err", err, "request_id", rid)
		}
		if e.Status == http.StatusInternalServerError && rid != "" {
			e = fhir.Errorf(e.Status, fhir.IssueException, fhir.InternalMessage+" (request "+rid+")")
		}
	}
	h := w.Header()
	switch e.Status {
	case http.StatusUnauthorized:
		if r.Header.Get("Authorization") != "" {
			h.Set("WWW-Authenticate", `Bearer realm="cpms", error="invalid_token"`)
		} else {
			h.Set("WWW-Authenticate", `Bearer realm="cpms"`)
		}
	case http.StatusServiceUnavailable, http.StatusTooManyRequests:
		h.Set("Retry-After", "5")
	}
	h.Set("Content-Type", "application/fhir+json; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	body, _ := json.Marshal(e.OperationOutcome())
	h.Set("Content-Length", strconv.Itoa(len(body)+1))
	w.WriteHeader(e.Status)
	w.Write(append(body, '\n'))
}
