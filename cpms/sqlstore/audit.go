package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"strings"

	"github.com/ern-cpms/cpms/cpms"
	"github.com/ern-cpms/cpms/internal/sqldb"
)

const auditCols = `seq, at, action, outcome, actor, actor_id, on_behalf_of, object_type, object_id, patient_id,
	source, request_id, detail, prev_hash, hash`

// auditLock is the name of the database-wide lock that serialises appenders.
const auditLock = "cpms.audit"

// auditInsertRows bounds the rows of one INSERT: 15 parameters each stays far below every
// engine's limit.
const auditInsertRows = 64

func scanAudit(sc scanner) (cpms.AuditEvent, error) {
	var (
		e       cpms.AuditEvent
		outcome int64
	)
	err := sc.Scan(&e.Seq, &e.At, &e.Action, &outcome, &e.Actor, &e.ActorID, &e.OnBehalfOf, &e.ObjectType, &e.ObjectID,
		&e.PatientID, &e.Source, &e.RequestID, &e.Detail, &e.PrevHash, &e.Hash)
	e.Outcome, e.At = cpms.Outcome(outcome), e.At.UTC()
	return e, err
}

// AppendAudit links the events after the last stored record and stores them, in one
// transaction under a lock that every appender on the database takes, and returns them linked.
// The events passed in are not changed.
func (s *Store) AppendAudit(ctx context.Context, events []cpms.AuditEvent) ([]cpms.AuditEvent, error) {
	if len(events) == 0 {
		return []cpms.AuditEvent{}, nil
	}
	out := make([]cpms.AuditEvent, len(events))
	err := s.db.InTx(ctx, func(tx *sqldb.Tx) error {
		if err := tx.LockTx(ctx, auditLock); err != nil {
			return err
		}
		var prev *cpms.AuditEvent
		last, err := scanAudit(tx.QueryRow(ctx, "SELECT "+auditCols+" FROM audit_events ORDER BY seq DESC LIMIT 1"))
		switch {
		case errors.Is(err, sql.ErrNoRows):
		case err != nil:
			return err
		default:
			prev = &last
		}
		copy(out, events) // again on every attempt: a retry links afresh
		for i := range out {
			cpms.Link(prev, &out[i])
			prev = &out[i]
		}
		for start := 0; start < len(out); start += auditInsertRows {
			if err := insertAudit(ctx, tx, out[start:min(start+auditInsertRows, len(out))]); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, wrap("append audit", err)
	}
	return out, nil
}

func insertAudit(ctx context.Context, tx *sqldb.Tx, events []cpms.AuditEvent) error {
	var b strings.Builder
	b.WriteString("INSERT INTO audit_events (" + auditCols + ") VALUES ")
	args := make([]any, 0, 15*len(events))
	for i, e := range events {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString("(" + placeholders(15) + ")")
		args = append(args, e.Seq, e.At, e.Action, int64(e.Outcome), e.Actor, e.ActorID, e.OnBehalfOf, e.ObjectType,
			e.ObjectID, e.PatientID, e.Source, e.RequestID, e.Detail, e.PrevHash, e.Hash)
	}
	_, err := tx.Exec(ctx, b.String(), args...)
	return err
}

// auditPage is how many records ScanAudit reads at a time; it holds no connection while fn runs.
const auditPage = 500

// ScanAudit calls fn for each record with Seq > after, in order, and stops at fn's first error.
func (s *Store) ScanAudit(ctx context.Context, after int64, fn func(cpms.AuditEvent) error) error {
	for {
		page, err := s.auditEvents(ctx, "WHERE seq > ? ORDER BY seq LIMIT ?", after, auditPage)
		if err != nil {
			return wrap("scan audit", err)
		}
		for _, e := range page {
			if err := fn(e); err != nil {
				return err
			}
			after = e.Seq
		}
		if len(page) < auditPage {
			return nil
		}
	}
}

// AuditEvents returns the newest records matching f, newest first; Limit 0 means all.
func (s *Store) AuditEvents(ctx context.Context, f cpms.AuditFilter) ([]cpms.AuditEvent, error) {
	var (
		where []string
		args  []any
	)
	for _, c := range []struct{ col, v string }{
		{"actor", f.Actor}, {"patient_id", f.PatientID}, {"object_id", f.ObjectID}, {"action", f.Action},
	} {
		if c.v != "" {
			where, args = append(where, c.col+" = ?"), append(args, c.v)
		}
	}
	q := ""
	if len(where) > 0 {
		q = "WHERE " + strings.Join(where, " AND ")
	}
	q += " ORDER BY seq DESC"
	if f.Limit > 0 {
		q += " LIMIT ?"
		args = append(args, f.Limit)
	}
	list, err := s.auditEvents(ctx, q, args...)
	return listDone(list, "list audit events", err)
}

func (s *Store) auditEvents(ctx context.Context, rest string, args ...any) ([]cpms.AuditEvent, error) {
	rows, err := s.db.Query(ctx, "SELECT "+auditCols+" FROM audit_events "+rest, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []cpms.AuditEvent{}
	for rows.Next() {
		e, err := scanAudit(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	return out, rows.Err()
}
