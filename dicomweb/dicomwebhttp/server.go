// Package dicomwebhttp is the DICOMweb edge of the server, mounted at /dicomweb: STOW-RS,
// QIDO-RS and WADO-RS (PS3.18) under /dicomweb/{kind}/{id}/, where {kind}/{id} is the scope
// (centres/BE10: the identified studies of centre BE10), checked on every request. The
// principal comes from the request context (cpmshttp.Authenticator puts it there); whether it
// may use the scope is the cpms.Service's decision. Errors leave as an HTTP status with a
// Warning header (PS3.18 8.7.4) and the message as text.
package dicomwebhttp

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"

	"github.com/ern-cpms/cpms/cpms"
	"github.com/ern-cpms/cpms/dicomweb"
)

// Prefix is the path the handler is mounted at.
const Prefix = "/dicomweb"

// Config wires a Server.
type Config struct {
	Store  *dicomweb.Store
	Logger *slog.Logger
	// BaseURL is the public base of the server (https://cpms.example.org), for RetrieveURLs and
	// BulkDataURIs; empty: from each request's Host.
	BaseURL string
}

// Server serves DICOMweb.
type Server struct {
	store *dicomweb.Store
	log   *slog.Logger
	base  string
	mux   *http.ServeMux
}

// New returns the server.
func New(cfg Config) (*Server, error) {
	if cfg.Store == nil {
		return nil, errors.New("dicomwebhttp: no store")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	s := &Server{store: cfg.Store, log: cfg.Logger, base: strings.TrimRight(cfg.BaseURL, "/"), mux: http.NewServeMux()}
	const sc = Prefix + "/{kind}/{id}"
	s.handle("POST "+sc+"/studies", s.stow)
	s.handle("POST "+sc+"/studies/{study}", s.stow)
	s.handle("GET "+sc+"/studies", s.qido(dicomweb.LevelStudy))
	s.handle("GET "+sc+"/series", s.qido(dicomweb.LevelSeries))
	s.handle("GET "+sc+"/instances", s.qido(dicomweb.LevelInstance))
	s.handle("GET "+sc+"/studies/{study}/series", s.qido(dicomweb.LevelSeries))
	s.handle("GET "+sc+"/studies/{study}/instances", s.qido(dicomweb.LevelInstance))
	s.handle("GET "+sc+"/studies/{study}/series/{series}/instances", s.qido(dicomweb.LevelInstance))
	s.handle("GET "+sc+"/studies/{study}", s.retrieve)
	s.handle("GET "+sc+"/studies/{study}/series/{series}", s.retrieve)
	s.handle("GET "+sc+"/studies/{study}/series/{series}/instances/{sop}", s.retrieve)
	s.handle("GET "+sc+"/studies/{study}/metadata", s.metadata)
	s.handle("GET "+sc+"/studies/{study}/series/{series}/metadata", s.metadata)
	s.handle("GET "+sc+"/studies/{study}/series/{series}/instances/{sop}/metadata", s.metadata)
	s.handle("GET "+sc+"/studies/{study}/series/{series}/instances/{sop}/frames/{frames}", s.frames)
	s.handle("GET "+sc+"/studies/{study}/series/{series}/instances/{sop}/bulkdata/{path...}", s.bulkdata)
	s.handle("DELETE "+sc+"/studies/{study}", s.deleteStudy)
	s.handle("GET "+sc+"/studies/{study}/series/{series}/instances/{sop}/rendered", s.rendered(false))
	s.handle("GET "+sc+"/studies/{study}/series/{series}/instances/{sop}/frames/{frames}/rendered", s.rendered(false))
	s.handle("GET "+sc+"/studies/{study}/thumbnail", s.rendered(true))
	s.handle("GET "+sc+"/studies/{study}/series/{series}/thumbnail", s.rendered(true))
	s.handle("GET "+sc+"/studies/{study}/series/{series}/instances/{sop}/thumbnail", s.rendered(true))
	s.handle("GET "+sc+"/studies/{study}/series/{series}/instances/{sop}/frames/{frames}/thumbnail", s.rendered(true))
	s.handle("GET "+sc+"/wado", s.wadoURI)
	return s, nil
}

// request is one request in a scope the principal may use.
type request struct {
	w     http.ResponseWriter
	r     *http.Request
	ctx   context.Context
	p     *cpms.Principal
	ri    cpms.RequestInfo
	scope dicomweb.Scope
	base  string // the scope's DICOMweb URL
}

func (s *Server) handle(pattern string, h func(*request) error) {
	s.mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
		rq := &request{w: w, r: r, ctx: r.Context(), p: cpms.PrincipalFrom(r.Context()), ri: cpms.RequestInfoFrom(r.Context()),
			scope: dicomweb.Scope{Kind: r.PathValue("kind"), ID: r.PathValue("id")}}
		rq.base = s.baseURL(r) + Prefix + "/" + rq.scope.String()
		for _, uid := range []string{r.PathValue("study"), r.PathValue("series"), r.PathValue("sop")} {
			if uid != "" && !dicomweb.ValidUID(uid) {
				WriteError(w, r, badRequest("the path holds a value that is not a UID"))
				return
			}
		}
		err := s.store.Access(rq.ctx, rq.p, rq.scope, rq.ri)
		if err == nil {
			err = h(rq)
		}
		if err != nil {
			WriteError(w, r, err)
		}
	})
}

// ServeHTTP serves the DICOMweb paths.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if _, pattern := s.mux.Handler(r); pattern == "" {
		WriteError(w, r, &httpError{status: http.StatusNotFound, msg: "no DICOMweb service at this path"})
		return
	}
	s.mux.ServeHTTP(w, r)
}

func (s *Server) baseURL(r *http.Request) string {
	if s.base != "" {
		return s.base
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}

// httpError is an error with its HTTP status.
type httpError struct {
	status int
	msg    string
}

func (e *httpError) Error() string { return e.msg }

func badRequest(msg string) error { return &httpError{status: http.StatusBadRequest, msg: msg} }

func notAcceptable(msg string) error { return &httpError{status: http.StatusNotAcceptable, msg: msg} }

// WriteError writes err as a DICOMweb error: the status, a Warning header and the message.
// Nothing internal leaves: errors the edge does not know are a 500 with a request ID.
func WriteError(w http.ResponseWriter, r *http.Request, err error) {
	status, msg := http.StatusInternalServerError, "the server could not complete the request"
	var he *httpError
	var qe *dicomweb.QueryError
	switch {
	case errors.As(err, &he):
		status, msg = he.status, he.msg
	case errors.As(err, &qe):
		status, msg = http.StatusBadRequest, qe.Msg
	case errors.Is(err, dicomweb.ErrNotFound):
		status, msg = http.StatusNotFound, "no such study, series or instance in this scope"
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		status, msg = http.StatusServiceUnavailable, "the request ended before it completed"
	default:
		switch cpms.KindOf(err) {
		case cpms.KindUnauthenticated:
			status, msg = http.StatusUnauthorized, err.Error()
			w.Header().Set("WWW-Authenticate", `Bearer realm="cpms"`)
		case cpms.KindPermission:
			status, msg = http.StatusForbidden, err.Error()
		case cpms.KindNotFound:
			status, msg = http.StatusNotFound, err.Error()
		case cpms.KindInvalid:
			status, msg = http.StatusBadRequest, err.Error()
		case cpms.KindConflict:
			status, msg = http.StatusConflict, err.Error()
		case cpms.KindUnavailable:
			status, msg = http.StatusServiceUnavailable, err.Error()
		}
	}
	if status == http.StatusInternalServerError {
		msg += " (request " + cpms.RequestInfoFrom(r.Context()).RequestID + ")"
	}
	warn(w, msg)
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	fmt.Fprintln(w, msg)
}

// warn adds a Warning header (RFC 7234 form, as PS3.18 uses it).
func warn(w http.ResponseWriter, msg string) {
	// A header value carries printable ASCII only: anything else (from a client's own query,
	// echoed back) becomes a space or a question mark, and quotes become apostrophes.
	msg = strings.Map(func(r rune) rune {
		switch {
		case r == '"':
			return '\''
		case r < 0x20 || r == 0x7f:
			return ' '
		case r > 0x7e:
			return '?'
		}
		return r
	}, msg)
	w.Header().Add("Warning", `299 cpms: "`+msg+`"`)
}
