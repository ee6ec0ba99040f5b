package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"time"

	"github.com/ern-cpms/cpms/cpms"
	"github.com/ern-cpms/cpms/internal/sqldb"
)

const tokenCols = `id, hash, name, user_id, centre, system, created_at, expires_at, revoked_at, last_used_at`

func scanToken(sc scanner) (cpms.Token, error) {
	var (
		t                          cpms.Token
		userID                     sql.NullString
		system                     string
		expires, revoked, lastUsed sql.NullTime
	)
	err := sc.Scan(&t.ID, &t.Hash, &t.Name, &userID, &t.Centre, &system, &t.CreatedAt, &expires, &revoked, &lastUsed)
	t.UserID, t.System = userID.String, cpms.System(system)
	t.CreatedAt = t.CreatedAt.UTC()
	t.ExpiresAt, t.RevokedAt, t.LastUsedAt = timeOf(expires), timeOf(revoked), timeOf(lastUsed)
	return t, err
}

// CreateToken stores a new token; ErrConflict when its ID or hash is taken, ErrNotFound when
// its user is unknown.
func (s *Store) CreateToken(ctx context.Context, t cpms.Token) error {
	_, err := s.db.Exec(ctx, `INSERT INTO tokens (`+tokenCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		t.ID, t.Hash, t.Name, nullString(t.UserID), t.Centre, string(t.System), ts(t.CreatedAt),
		nullTime(t.ExpiresAt), nullTime(t.RevokedAt), nullTime(t.LastUsedAt))
	if sqldb.IsUniqueViolation(err) {
		return conflict("the token already exists")
	}
	return wrap("create token", errUser(err))
}

// TokenByHash returns the token whose plain value hashes to hash, usable or not.
func (s *Store) TokenByHash(ctx context.Context, hash string) (cpms.Token, error) {
	return s.oneToken(ctx, "hash", hash)
}

// Token returns the token with this ID.
func (s *Store) Token(ctx context.Context, id string) (cpms.Token, error) {
	return s.oneToken(ctx, "id", id)
}

func (s *Store) oneToken(ctx context.Context, col, v string) (cpms.Token, error) {
	t, err := scanToken(s.db.QueryRow(ctx, "SELECT "+tokenCols+" FROM tokens WHERE "+col+" = ?", v))
	if errors.Is(err, sql.ErrNoRows) {
		return cpms.Token{}, notFound("token")
	}
	if err != nil {
		return cpms.Token{}, wrap("read token", err)
	}
	return t, nil
}

// Tokens returns the tokens matching f, by creation time.
func (s *Store) Tokens(ctx context.Context, f cpms.TokenFilter) ([]cpms.Token, error) {
	var (
		where []string
		args  []any
	)
	if f.UserID != "" {
		where, args = append(where, "user_id = ?"), append(args, f.UserID)
	}
	if f.Centre != "" {
		where, args = append(where, "centre = ?"), append(args, f.Centre)
	}
	q := "SELECT " + tokenCols + " FROM tokens"
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	rows, err := s.db.Query(ctx, q+" ORDER BY created_at, id", args...)
	if err != nil {
		return nil, wrap("list tokens", err)
	}
	defer rows.Close()
	out := []cpms.Token{}
	for rows.Next() {
		t, err := scanToken(rows)
		if err != nil {
			return nil, wrap("list tokens", err)
		}
		out = append(out, t)
	}
	return listDone(out, "list tokens", rows.Err())
}

// RevokeToken revokes the token at at. Revoking it again keeps the first time.
func (s *Store) RevokeToken(ctx context.Context, id string, at time.Time) error {
	res, err := s.db.Exec(ctx, "UPDATE tokens SET revoked_at = COALESCE(revoked_at, ?) WHERE id = ?", ts(at), id)
	return wrap("revoke token", rowsOrNotFound(res, err, "token"))
}

// TokenUsed records a use at at. The last-use time never moves back.
func (s *Store) TokenUsed(ctx context.Context, id string, at time.Time) error {
	at = ts(at)
	res, err := s.db.Exec(ctx, `UPDATE tokens SET last_used_at = CASE
		WHEN last_used_at IS NULL OR last_used_at < ? THEN ? ELSE last_used_at END WHERE id = ?`, at, at, id)
	return wrap("record token use", rowsOrNotFound(res, err, "token"))
}
