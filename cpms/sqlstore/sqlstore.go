// Package sqlstore implements cpms.Store on the product's relational database, SQLite or
// PostgreSQL through internal/sqldb, with one schema that runs on both. Several processes may
// share one database: every read-modify-write runs in a transaction, the audit chain is
// extended under a database-wide lock, and shared secrets converge on the first value stored.
//
// Times are stored in UTC, truncated to the microsecond (both engines keep that much), and
// come back that way. Keys are made by the caller; the store never invents them.
package sqlstore

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/ern-cpms/cpms/cpms"
	"github.com/ern-cpms/cpms/internal/sqldb"
	"github.com/jackc/pgx/v5/pgconn"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// Migrations returns the schema migrations of the cpms component.
func Migrations() sqldb.Migrations {
	return sqldb.EmbeddedMigrations("cpms", migrationFiles, "migrations")
}

// Config configures a Store.
type Config struct {
	// DB is the database to keep the data in. The Store does not close it.
	DB *sqldb.DB
}

// Store is cpms.Store on a SQL database.
type Store struct {
	db *sqldb.DB
}

var _ cpms.Store = (*Store)(nil)

// New applies the cpms migrations that the database lacks and returns a Store on it.
func New(ctx context.Context, cfg Config) (*Store, error) {
	if cfg.DB == nil {
		return nil, errors.New("sqlstore: no database configured")
	}
	if _, err := cfg.DB.Migrate(ctx, Migrations()); err != nil {
		return nil, fmt.Errorf("sqlstore: migrate: %w", err)
	}
	return &Store{db: cfg.DB}, nil
}

// Ping checks that the database answers.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.db.PingContext(ctx); err != nil {
		return wrap("ping", err)
	}
	return nil
}

// querier is what *sqldb.DB and *sqldb.Tx have in common, so that reads can run in or out of
// a transaction.
type querier interface {
	Exec(ctx context.Context, query string, args ...any) (sql.Result, error)
	Query(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRow(ctx context.Context, query string, args ...any) *sql.Row
}

// scanner is a *sql.Row or *sql.Rows.
type scanner interface {
	Scan(dest ...any) error
}

// Errors.

func notFound(what string) error {
	return &cpms.Error{Kind: cpms.KindNotFound, Msg: what + " not found"}
}

func conflict(msg string) error {
	return &cpms.Error{Kind: cpms.KindConflict, Msg: msg}
}

// wrap names the operation on an unexpected error and passes domain errors through unchanged.
func wrap(op string, err error) error {
	if err == nil {
		return nil
	}
	var de *cpms.Error
	if errors.As(err, &de) {
		return err
	}
	return fmt.Errorf("sqlstore: %s: %w", op, err)
}

// isForeignKeyViolation reports whether err says a referenced row does not exist.
func isForeignKeyViolation(err error) bool {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return pe.Code == "23503"
	}
	var se *sqlite.Error
	if errors.As(err, &se) {
		return se.Code() == sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY
	}
	return false
}

// rowsAffected returns the number of rows a statement changed.
func rowsAffected(res sql.Result) (int, error) {
	n, err := res.RowsAffected()
	return int(n), err
}

// Values.

// ts is how the store keeps a time: UTC, to the microsecond.
func ts(t time.Time) time.Time { return t.UTC().Truncate(time.Microsecond) }

// tsPtr normalises an optional time.
func tsPtr(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	v := ts(*t)
	return &v
}

// nullTime is the argument for an optional time: NULL when nil.
func nullTime(t *time.Time) any {
	if t == nil {
		return nil
	}
	return ts(*t)
}

// zeroNullTime is the argument for a time whose zero value means "none": NULL when zero.
func zeroNullTime(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return ts(t)
}

// nullString is the argument for a string column that holds NULL when empty.
func nullString(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func timeOf(nt sql.NullTime) *time.Time {
	if !nt.Valid {
		return nil
	}
	t := nt.Time.UTC()
	return &t
}

func zeroTimeOf(nt sql.NullTime) time.Time {
	if !nt.Valid {
		return time.Time{}
	}
	return nt.Time.UTC()
}

// placeholders returns "?, ?, …" for n arguments.
func placeholders(n int) string {
	return strings.TrimSuffix(strings.Repeat("?, ", n), ", ")
}

// likePattern matches values containing q, which is taken literally (LIKE … ESCAPE '\').
func likePattern(q string) string {
	r := strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)
	return "%" + r.Replace(q) + "%"
}

// chunks splits ids into slices of at most n, for IN lists that stay under every engine's limit
// on the number of parameters.
func chunks(ids []string, n int) [][]string {
	var out [][]string
	for len(ids) > n {
		out = append(out, ids[:n])
		ids = ids[n:]
	}
	if len(ids) > 0 {
		out = append(out, ids)
	}
	return out
}

// listDone ends a list read: the list, or nil and the error.
func listDone[T any](out []T, op string, err error) ([]T, error) {
	if err != nil {
		return nil, wrap(op, err)
	}
	return out, nil
}
