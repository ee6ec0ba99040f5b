package sqlstore

import (
	"context"
	"database/sql"
	"strings"
	"time"

	"github.com/ern-cpms/cpms/cpms"
	"github.com/ern-cpms/cpms/internal/sqldb"
)

const accessCols = `r.id, r.user_id, u.username, u.display_name, r.ern, r.centre, r.role, r.comment, r.status,
	r.decided_by, r.decision_comment, r.created_at, r.decided_at`

const accessFrom = ` FROM access_requests r JOIN users u ON u.id = r.user_id`

func scanAccess(sc scanner) (cpms.AccessRequest, error) {
	var (
		r       cpms.AccessRequest
		decided sql.NullTime
	)
	err := sc.Scan(&r.ID, &r.UserID, &r.User.Username, &r.User.DisplayName, &r.ERN, &r.Centre, &r.Role, &r.Comment,
		&r.Status, &r.DecidedBy, &r.DecisionComment, &r.CreatedAt, &decided)
	r.User.ID = r.UserID
	r.CreatedAt, r.DecidedAt = r.CreatedAt.UTC(), timeOf(decided)
	return r, err
}

// CreateAccessRequest stores a new request, pending unless r says otherwise; ErrConflict when
// its ID is taken, ErrNotFound when its user is unknown.
func (s *Store) CreateAccessRequest(ctx context.Context, r cpms.AccessRequest) error {
	if r.Status == "" {
		r.Status = cpms.AccessPending
	}
	_, err := s.db.Exec(ctx, `INSERT INTO access_requests (id, user_id, ern, centre, role, comment, status,
		decided_by, decision_comment, created_at, decided_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		r.ID, r.UserID, r.ERN, r.Centre, string(r.Role), r.Comment, string(r.Status),
		r.DecidedBy, r.DecisionComment, ts(r.CreatedAt), nullTime(r.DecidedAt))
	if sqldb.IsUniqueViolation(err) {
		return conflict("the access request already exists")
	}
	return wrap("create access request", errUser(err))
}

// AccessRequest returns the request with this ID, with its user.
func (s *Store) AccessRequest(ctx context.Context, id string) (cpms.AccessRequest, error) {
	r, err := accessRequest(ctx, s.db, id)
	return r, wrap("read access request", err)
}

func accessRequest(ctx context.Context, q querier, id string) (cpms.AccessRequest, error) {
	rows, err := q.Query(ctx, "SELECT "+accessCols+accessFrom+" WHERE r.id = ?", id)
	if err != nil {
		return cpms.AccessRequest{}, err
	}
	defer rows.Close()
	if !rows.Next() {
		if err := rows.Err(); err != nil {
			return cpms.AccessRequest{}, err
		}
		return cpms.AccessRequest{}, notFound("access request")
	}
	return scanAccess(rows)
}

// AccessRequests returns the requests matching f, newest first, with their users.
func (s *Store) AccessRequests(ctx context.Context, f cpms.AccessFilter) ([]cpms.AccessRequest, error) {
	var (
		where []string
		args  []any
	)
	if f.Status != "" {
		where, args = append(where, "r.status = ?"), append(args, string(f.Status))
	}
	if len(f.ERNs) > 0 {
		where = append(where, "r.ern IN ("+placeholders(len(f.ERNs))+")")
		for _, e := range f.ERNs {
			args = append(args, e)
		}
	}
	if f.UserID != "" {
		where, args = append(where, "r.user_id = ?"), append(args, f.UserID)
	}
	q := "SELECT " + accessCols + accessFrom
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	rows, err := s.db.Query(ctx, q+" ORDER BY r.created_at DESC, r.id DESC", args...)
	if err != nil {
		return nil, wrap("list access requests", err)
	}
	defer rows.Close()
	out := []cpms.AccessRequest{}
	for rows.Next() {
		r, err := scanAccess(rows)
		if err != nil {
			return nil, wrap("list access requests", err)
		}
		out = append(out, r)
	}
	return listDone(out, "list access requests", rows.Err())
}

// DecideAccessRequest approves or refuses a pending request and, on approval with a grant,
// gives the request's user that role in the same transaction; a grant of the same role, ERN
// and centre that the user already holds is kept as it is. ErrConflict when the request is no
// longer pending: of concurrent decisions exactly one wins.
func (s *Store) DecideAccessRequest(ctx context.Context, id string, status cpms.AccessStatus, by cpms.UserRef,
	comment string, at time.Time, grant *cpms.RoleGrant) (cpms.AccessRequest, error) {
	if status != cpms.AccessApproved && status != cpms.AccessRefused {
		return cpms.AccessRequest{}, cpms.Errorf(cpms.KindInvalid, "a decision approves or refuses")
	}
	var out cpms.AccessRequest
	err := s.db.InTx(ctx, func(tx *sqldb.Tx) error {
		// The status condition makes the update the arbiter: a concurrent decision waits for
		// this row and then finds it no longer pending.
		res, err := tx.Exec(ctx, `UPDATE access_requests SET status = ?, decided_by = ?, decision_comment = ?, decided_at = ?
			WHERE id = ? AND status = ?`, string(status), by.Username, comment, ts(at), id, string(cpms.AccessPending))
		if err != nil {
			return err
		}
		n, err := rowsAffected(res)
		if err != nil {
			return err
		}
		r, err := accessRequest(ctx, tx, id)
		if err != nil {
			return err
		}
		if n == 0 {
			return conflict("the access request has already been decided")
		}
		if status == cpms.AccessApproved && grant != nil {
			if err := ensureGrant(ctx, tx, r.UserID, *grant); err != nil {
				return err
			}
		}
		out = r
		return nil
	})
	if err != nil {
		return cpms.AccessRequest{}, wrap("decide access request", err)
	}
	return out, nil
}

// ensureGrant gives the user the role unless a grant of the same role, ERN and centre exists.
// It never fails on that (a failed statement would end a PostgreSQL transaction), and reports
// ErrConflict only when the grant's ID belongs to a different grant.
func ensureGrant(ctx context.Context, tx *sqldb.Tx, userID string, g cpms.RoleGrant) error {
	res, err := tx.Exec(ctx, `INSERT INTO role_grants (id, user_id, role, ern, centre, expires_at, granted_by, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
		g.ID, userID, string(g.Role), g.ERN, g.Centre, nullTime(g.ExpiresAt), g.GrantedBy, ts(g.CreatedAt))
	if err != nil {
		return err
	}
	if n, err := rowsAffected(res); err != nil || n == 1 {
		return err
	}
	var n int
	if err := tx.QueryRow(ctx, "SELECT COUNT(*) FROM role_grants WHERE user_id = ? AND role = ? AND ern = ? AND centre = ?",
		userID, string(g.Role), g.ERN, g.Centre).Scan(&n); err != nil {
		return err
	}
	if n == 0 {
		return conflict("the role grant ID is already in use")
	}
	return nil
}
