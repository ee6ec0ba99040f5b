package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"time"

	"github.com/ern-cpms/cpms/cpms"
	"github.com/ern-cpms/cpms/internal/sqldb"
)

// CreateTransfer stores a pending transfer request; ErrConflict when the patient already has one.
func (s *Store) CreateTransfer(ctx context.Context, t cpms.Transfer) error {
	data, err := json.Marshal(t)
	if err != nil {
		return err
	}
	_, err = s.db.Exec(ctx, `INSERT INTO transfers (id, patient_id, status, from_centre, to_centre, created_at, data)
		VALUES (?, ?, ?, ?, ?, ?, ?)`, t.ID, t.PatientID, string(t.Status), t.FromCentre, t.ToCentre, ts(t.CreatedAt), string(data))
	if sqldb.IsUniqueViolation(err) {
		return conflict("a transfer of this patient is pending")
	}
	if isForeignKeyViolation(err) {
		return notFound("patient")
	}
	return wrap("create transfer", err)
}

func transfer(ctx context.Context, q querier, id string) (cpms.Transfer, error) {
	var data string
	err := q.QueryRow(ctx, `SELECT data FROM transfers WHERE id = ?`, id).Scan(&data)
	if errors.Is(err, sql.ErrNoRows) {
		return cpms.Transfer{}, notFound("transfer")
	} else if err != nil {
		return cpms.Transfer{}, err
	}
	var t cpms.Transfer
	return t, json.Unmarshal([]byte(data), &t)
}

// Transfer returns one transfer request.
func (s *Store) Transfer(ctx context.Context, id string) (cpms.Transfer, error) {
	t, err := transfer(ctx, s.db, id)
	return t, wrap("read transfer", err)
}

// Transfers lists transfer requests, newest first.
func (s *Store) Transfers(ctx context.Context, f cpms.TransferFilter) ([]cpms.Transfer, error) {
	var c cond
	if f.PatientID != "" {
		c.add("patient_id = ?", f.PatientID)
	}
	if f.Status != "" {
		c.add("status = ?", string(f.Status))
	}
	if len(f.Centres) > 0 {
		var args []any
		for _, x := range f.Centres {
			args = append(args, x)
		}
		args = append(args, args...)
		c.add("(from_centre IN ("+placeholders(len(f.Centres))+") OR to_centre IN ("+placeholders(len(f.Centres))+"))", args...)
	}
	rows, err := s.db.Query(ctx, "SELECT data FROM transfers"+c.where()+" ORDER BY created_at DESC, id LIMIT 500", c.args...)
	if err != nil {
		return nil, wrap("read transfers", err)
	}
	defer rows.Close()
	var out []cpms.Transfer
	for rows.Next() {
		var data string
		var t cpms.Transfer
		if err := rows.Scan(&data); err != nil {
			return nil, wrap("read transfers", err)
		}
		if err := json.Unmarshal([]byte(data), &t); err != nil {
			return nil, wrap("read transfers", err)
		}
		out = append(out, t)
	}
	return out, wrap("read transfers", rows.Err())
}

// DecideTransfer records the decision and, on acceptance, moves the patient, in one transaction.
func (s *Store) DecideTransfer(ctx context.Context, id string, status cpms.TransferStatus, by cpms.UserRef, comment string,
	at time.Time, move func(p *cpms.Patient) error) (cpms.Transfer, error) {
	var out cpms.Transfer
	err := s.db.InTx(ctx, func(tx *sqldb.Tx) error {
		t, err := transfer(ctx, tx, id)
		if err != nil {
			return err
		}
		if t.Status != cpms.TransferPending {
			return conflict("the transfer request was already decided")
		}
		at := ts(at)
		t.Status, t.DecidedBy, t.DecisionComment, t.DecidedAt = status, &by, comment, &at
		data, err := json.Marshal(t)
		if err != nil {
			return err
		}
		res, err := tx.Exec(ctx, `UPDATE transfers SET status = ?, data = ? WHERE id = ? AND status = ?`,
			string(status), string(data), id, string(cpms.TransferPending))
		if err != nil {
			return err
		}
		if n, err := rowsAffected(res); err != nil {
			return err
		} else if n != 1 {
			return conflict("the transfer request was already decided")
		}
		if status == cpms.TransferAccepted {
			if _, err := updatePatient(ctx, tx, t.PatientID, move); err != nil {
				return err
			}
		}
		out = t
		return nil
	})
	return out, wrap("decide transfer", err)
}
