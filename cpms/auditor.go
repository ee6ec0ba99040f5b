package cpms

import (
	"context"
	"errors"
	"log/slog"
	"strconv"
	"sync"
)

// Auditor writes audit events with group commit: Record returns once its event is durably
// stored, and the events that arrive while a write is under way go together in the next
// transaction. No acknowledged event can be lost, and throughput under load is that of batches.
type Auditor struct {
	store    AuditStore
	log      *slog.Logger
	maxBatch int

	reqs chan auditReq
	done chan struct{}
	once sync.Once
	wg   sync.WaitGroup
	// mu is held for reading while Record queues an event and for writing while Close marks
	// the auditor closed, so that nothing is queued after the writer has drained the queue.
	mu     sync.RWMutex
	closed bool
}

type auditReq struct {
	e   AuditEvent
	res chan error
}

// AuditorConfig configures an Auditor.
type AuditorConfig struct {
	Store    AuditStore
	Logger   *slog.Logger
	MaxBatch int // events per transaction at most (default 256)
}

// ErrAuditorClosed is returned by Record after Close.
var ErrAuditorClosed = Errorf(KindUnavailable, "the audit trail is closed")

// NewAuditor starts the writer; Close stops it.
func NewAuditor(cfg AuditorConfig) *Auditor {
	if cfg.MaxBatch <= 0 {
		cfg.MaxBatch = 256
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	a := &Auditor{store: cfg.Store, log: cfg.Logger, maxBatch: cfg.MaxBatch,
		reqs: make(chan auditReq, cfg.MaxBatch), done: make(chan struct{})}
	a.wg.Add(1)
	go a.run()
	return a
}

// Record stores e and returns when it is durable, or with an error (then the caller must not
// go on with what it was going to do: no unaudited access to patient data).
func (a *Auditor) Record(ctx context.Context, e AuditEvent) error {
	r := auditReq{e: e, res: make(chan error, 1)}
	if err := a.enqueue(ctx, r); err != nil {
		return err
	}
	select {
	case err := <-r.res:
		return err
	case <-ctx.Done():
		// The write goes on; its outcome is logged by the writer.
		return ctx.Err()
	}
}

// RecordAll stores the events (in order, possibly in several transactions) and returns when
// all of them are durable, or with the first error.
func (a *Auditor) RecordAll(ctx context.Context, events []AuditEvent) error {
	reqs := make([]auditReq, len(events))
	for i, e := range events {
		reqs[i] = auditReq{e: e, res: make(chan error, 1)}
		if err := a.enqueue(ctx, reqs[i]); err != nil {
			return err
		}
	}
	var first error
	for _, r := range reqs {
		select {
		case err := <-r.res:
			if first == nil {
				first = err
			}
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return first
}

func (a *Auditor) enqueue(ctx context.Context, r auditReq) error {
	a.mu.RLock()
	defer a.mu.RUnlock()
	if a.closed {
		return ErrAuditorClosed
	}
	select {
	case a.reqs <- r:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Close stops accepting events, writes the ones already queued and returns.
func (a *Auditor) Close() {
	a.once.Do(func() {
		a.mu.Lock()
		a.closed = true
		a.mu.Unlock()
		close(a.done)
	})
	a.wg.Wait()
}

func (a *Auditor) run() {
	defer a.wg.Done()
	for {
		var first auditReq
		select {
		case first = <-a.reqs:
		case <-a.done:
			// Drain what was queued before Close.
			for {
				select {
				case r := <-a.reqs:
					a.write([]auditReq{r})
				default:
					return
				}
			}
		}
		batch := []auditReq{first}
	fill:
		for len(batch) < a.maxBatch {
			select {
			case r := <-a.reqs:
				batch = append(batch, r)
			default:
				break fill
			}
		}
		a.write(batch)
	}
}

func (a *Auditor) write(batch []auditReq) {
	events := make([]AuditEvent, len(batch))
	for i, r := range batch {
		events[i] = r.e
	}
	// The callers' contexts may end while the batch is written; the write itself must finish.
	_, err := a.store.AppendAudit(context.Background(), events)
	if err != nil {
		a.log.Error("audit write failed", "events", len(events), "err", err)
		err = &Error{Kind: KindUnavailable, Msg: "the audit trail cannot be written", Err: err}
	}
	for _, r := range batch {
		r.res <- err
	}
}

// VerifyAudit checks the whole chain from the first record; it returns the number of records
// checked and the first break found.
func VerifyAudit(ctx context.Context, s AuditStore) (int64, error) {
	var v ChainVerifier
	err := s.ScanAudit(ctx, 0, v.Next)
	var de *Error
	if err != nil && !errors.As(err, &de) {
		err = &Error{Kind: KindUnavailable, Msg: "cannot read the audit trail", Err: err}
	}
	return v.Count, err
}

// AuditEvents returns the newest audit records matching f, for the deployment's helpdesk and
// operators; reading the trail is itself audited.
func (s *Service) AuditEvents(ctx context.Context, p *Principal, f AuditFilter, ri RequestInfo) ([]AuditEvent, error) {
	if err := s.Authorize(ctx, p, ActReadAudit, Resource{}, ri); err != nil {
		return nil, err
	}
	if f.Limit <= 0 || f.Limit > 1000 {
		f.Limit = 200
	}
	es, err := s.store.AuditEvents(ctx, f)
	if err != nil {
		return nil, s.storeErr(err, "read the audit trail")
	}
	return es, s.audit(ctx, p, ri, AuditEvent{Action: "audit.read", ObjectType: "audit", Detail: "records " + strconv.Itoa(len(es))})
}
