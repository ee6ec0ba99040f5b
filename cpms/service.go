package cpms

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"io"
	"log/slog"
	"sync"
	"time"

	"github.com/ern-cpms/cpms/internal/auth"
)

// Config wires a Service.
type Config struct {
	Store   Store
	Auditor *Auditor // may be nil in tests that do not look at the trail: then nothing is audited
	Logger  *slog.Logger
	Clock   Clock     // default time.Now
	Rand    io.Reader // default crypto/rand
	// Demo relaxes the second-factor rule for the demo network's users.
	Demo bool
	// Password hashing cost; zero means auth.DefaultParams().
	Password auth.Params
	// SessionIdle ends a session unused for this long (default 30 min); SessionMax ends any
	// session this long after sign-in (default 12 h).
	SessionIdle time.Duration
	SessionMax  time.Duration
	Lockout     auth.LockoutPolicy
	// MasterSecret, when set (from a secret file), derives every deployment secret instead of
	// keeping them in the database. Every instance must be given the same file.
	MasterSecret []byte
	// PatientVisibility is VisibilityCentre (the default: a centre's clinical users see the
	// identity of its patients) or VisibilityClinician (only the responsible clinician and
	// their assistants do).
	PatientVisibility string
	// Images is the image store's catalogue (nil: no images).
	Images ImageCatalog
}

// Service is the domain's entry point: every edge (HTTP API, CLI, later FHIR, XDS, DICOMweb)
// calls it with the Principal making the request.
type Service struct {
	store   Store
	auditor *Auditor
	log     *slog.Logger
	now     Clock
	rand    io.Reader
	cfg     Config
	secrets sync.Map // name → []byte, deployment secrets already read
	// dummyHash keeps the time of a login with an unknown username like that of a known one.
	dummyHash string
}

// NewService checks the configuration and returns the service.
func NewService(cfg Config) (*Service, error) {
	if cfg.Store == nil {
		return nil, errors.New("cpms: no store")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Clock == nil {
		cfg.Clock = time.Now
	}
	if cfg.Rand == nil {
		cfg.Rand = rand.Reader
	}
	if cfg.Password == (auth.Params{}) {
		cfg.Password = auth.DefaultParams()
	}
	if cfg.SessionIdle <= 0 {
		cfg.SessionIdle = 30 * time.Minute
	}
	if cfg.SessionMax <= 0 {
		cfg.SessionMax = 12 * time.Hour
	}
	switch cfg.PatientVisibility {
	case "":
		cfg.PatientVisibility = VisibilityCentre
	case VisibilityCentre, VisibilityClinician:
	default:
		return nil, errors.New("cpms: patient visibility is centre or clinician")
	}
	if cfg.Lockout == (auth.LockoutPolicy{}) {
		cfg.Lockout = auth.DefaultLockoutPolicy()
	}
	s := &Service{store: cfg.Store, auditor: cfg.Auditor, log: cfg.Logger, now: cfg.Clock, rand: cfg.Rand, cfg: cfg}
	h, err := auth.HashPassword("not a real password", cfg.Password)
	if err != nil {
		return nil, err
	}
	s.dummyHash = h
	return s, nil
}

// Now is the service's clock, in UTC to the microsecond (what both databases keep).
func (s *Service) Now() time.Time { return s.now().UTC().Truncate(time.Microsecond) }

// Ping checks that the database answers, for the readiness check.
func (s *Service) Ping(ctx context.Context) error { return s.store.Ping(ctx) }

func (s *Service) newID() string {
	var b [16]byte
	if _, err := io.ReadFull(s.rand, b[:]); err != nil {
		panic("cpms: random source failed: " + err.Error())
	}
	return hex.EncodeToString(b[:])
}

// RequestInfo is what the edge knows about the request, for the audit trail.
type RequestInfo struct {
	Source    string // client address
	RequestID string
	UserAgent string
}

// audit records an event for principal p. It returns an error only when the trail cannot be
// written; callers doing something that must be audited then fail.
func (s *Service) audit(ctx context.Context, p *Principal, ri RequestInfo, e AuditEvent) error {
	if s.auditor == nil {
		return nil
	}
	return s.auditor.Record(ctx, s.auditEvent(p, ri, e))
}

// auditEvent fills in who, when and from where.
func (s *Service) auditEvent(p *Principal, ri RequestInfo, e AuditEvent) AuditEvent {
	e.At = s.Now()
	if e.Actor == "" {
		e.Actor = p.Actor()
	}
	if e.ActorID == "" && p != nil {
		switch {
		case p.User != nil:
			e.ActorID = p.User.ID
		case p.TokenID != "":
			e.ActorID = p.TokenID
		}
	}
	if p != nil && p.OnBehalfOf != nil {
		e.OnBehalfOf = p.OnBehalfOf.Username
	}
	e.Source, e.RequestID = ri.Source, ri.RequestID
	return e
}

// Authorize checks p against the policy at the service's time and audits refusals.
func (s *Service) Authorize(ctx context.Context, p *Principal, a Action, r Resource, ri RequestInfo) error {
	err := Authorize(p, a, r, s.Now())
	if err != nil && KindOf(err) == KindPermission {
		s.audit(ctx, p, ri, AuditEvent{Action: "denied." + string(a), Outcome: OutcomeMinorFailure,
			ObjectType: "resource", ObjectID: r.ERN + "/" + r.Centre})
	}
	return err
}

// storeErr turns a store error into a domain error for the edges: not-found and conflict pass,
// anything else becomes an unavailable error whose cause is only logged.
func (s *Service) storeErr(err error, what string) error {
	if err == nil {
		return nil
	}
	var de *Error
	if errors.As(err, &de) {
		return err
	}
	return &Error{Kind: KindUnavailable, Msg: "cannot " + what + " now", Err: err}
}
