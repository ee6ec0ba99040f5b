package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/ern-cpms/cpms/cpms"
	"github.com/ern-cpms/cpms/internal/sqldb"
)

const sessionCols = `id, hash, user_id, on_behalf_of, method, created_at, last_seen_at, expires_at, source, user_agent`

func scanSession(sc scanner) (cpms.Session, error) {
	var (
		x   cpms.Session
		obo sql.NullString
	)
	err := sc.Scan(&x.ID, &x.Hash, &x.UserID, &obo, &x.Method, &x.CreatedAt, &x.LastSeenAt, &x.ExpiresAt, &x.Source, &x.UserAgent)
	x.OnBehalfOf = obo.String
	x.CreatedAt, x.LastSeenAt, x.ExpiresAt = x.CreatedAt.UTC(), x.LastSeenAt.UTC(), x.ExpiresAt.UTC()
	return x, err
}

// CreateSession stores a new session; ErrConflict when its ID or hash is taken, ErrNotFound
// when its user (or the clinician it acts for) is unknown.
func (s *Store) CreateSession(ctx context.Context, x cpms.Session) error {
	_, err := s.db.Exec(ctx, `INSERT INTO sessions (`+sessionCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		x.ID, x.Hash, x.UserID, nullString(x.OnBehalfOf), x.Method, ts(x.CreatedAt), ts(x.LastSeenAt), ts(x.ExpiresAt),
		x.Source, x.UserAgent)
	if sqldb.IsUniqueViolation(err) {
		return conflict("the session already exists")
	}
	return wrap("create session", errUser(err))
}

// SessionByHash returns the session whose cookie hashes to hash.
func (s *Store) SessionByHash(ctx context.Context, hash string) (cpms.Session, error) {
	x, err := scanSession(s.db.QueryRow(ctx, "SELECT "+sessionCols+" FROM sessions WHERE hash = ?", hash))
	if errors.Is(err, sql.ErrNoRows) {
		return cpms.Session{}, notFound("session")
	}
	if err != nil {
		return cpms.Session{}, wrap("read session", err)
	}
	return x, nil
}

// TouchSession records activity at at. The last-seen time never moves back, so that requests
// finishing out of order keep the latest.
func (s *Store) TouchSession(ctx context.Context, id string, at time.Time) error {
	at = ts(at)
	res, err := s.db.Exec(ctx, `UPDATE sessions SET last_seen_at = CASE WHEN last_seen_at < ? THEN ? ELSE last_seen_at END
		WHERE id = ?`, at, at, id)
	return wrap("touch session", rowsOrNotFound(res, err, "session"))
}

// SetSessionOnBehalfOf sets the clinician the session's assistant acts for ("" for none).
func (s *Store) SetSessionOnBehalfOf(ctx context.Context, id, clinicianID string) error {
	res, err := s.db.Exec(ctx, "UPDATE sessions SET on_behalf_of = ? WHERE id = ?", nullString(clinicianID), id)
	return wrap("set session on behalf of", rowsOrNotFound(res, errUser(err), "session"))
}

// DeleteSession removes the session; ErrNotFound when there is none.
func (s *Store) DeleteSession(ctx context.Context, id string) error {
	res, err := s.db.Exec(ctx, "DELETE FROM sessions WHERE id = ?", id)
	return wrap("delete session", rowsOrNotFound(res, err, "session"))
}

// DeleteUserSessions removes every session of the user and says how many there were.
func (s *Store) DeleteUserSessions(ctx context.Context, userID string) (int, error) {
	res, err := s.db.Exec(ctx, "DELETE FROM sessions WHERE user_id = ?", userID)
	if err != nil {
		return 0, wrap("delete user sessions", err)
	}
	n, err := rowsAffected(res)
	return n, wrap("delete user sessions", err)
}

// UserSessions returns the user's sessions, by creation time.
func (s *Store) UserSessions(ctx context.Context, userID string) ([]cpms.Session, error) {
	rows, err := s.db.Query(ctx, "SELECT "+sessionCols+" FROM sessions WHERE user_id = ? ORDER BY created_at, id", userID)
	if err != nil {
		return nil, wrap("list sessions", err)
	}
	defer rows.Close()
	out := []cpms.Session{}
	for rows.Next() {
		x, err := scanSession(rows)
		if err != nil {
			return nil, wrap("list sessions", err)
		}
		out = append(out, x)
	}
	return listDone(out, "list sessions", rows.Err())
}

// DeleteExpiredSessions removes the sessions that ended before cutoff or were last seen
// before idleBefore, and says how many.
func (s *Store) DeleteExpiredSessions(ctx context.Context, cutoff, idleBefore time.Time) (int, error) {
	res, err := s.db.Exec(ctx, "DELETE FROM sessions WHERE expires_at < ? OR last_seen_at < ?", ts(cutoff), ts(idleBefore))
	if err != nil {
		return 0, wrap("delete expired sessions", err)
	}
	n, err := rowsAffected(res)
	return n, wrap("delete expired sessions", err)
}
