// Package sqldb opens the product's relational database — SQLite in the data folder by default, or
// PostgreSQL when given a postgres:// URL — and applies each component's embedded, versioned
// migrations. It smooths over the few differences between the two engines that the stores meet:
// placeholders, constraint errors, transaction retry and advisory locking.
package sqldb

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" database/sql driver
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// Dialect names the SQL engine behind a DB.
type Dialect string

const (
	SQLite   Dialect = "sqlite"
	Postgres Dialect = "postgres"
)

// DB is a database handle that knows its dialect.
type DB struct {
	*sql.DB
	Dialect Dialect
	// Where describes the database for logs and status output, without credentials.
	Where string

	stmts stmtCache
}

// Config says which database to open.
type Config struct {
	// URL is empty (SQLite under DataDir), "sqlite:///path/to/file.db", a plain file path, or a
	// PostgreSQL URL ("postgres://user:pass@host:5432/db?sslmode=disable").
	URL string
	// DataDir holds the default SQLite file, cpms.db, when URL is empty.
	DataDir string
	// MaxOpenConns bounds the connection pool (0: a default suited to the engine).
	MaxOpenConns int
}

// DefaultFile is the SQLite file name used inside the data folder.
const DefaultFile = "cpms.db"

// Open opens (and, for SQLite, creates) the database and checks that it answers.
func Open(ctx context.Context, cfg Config) (*DB, error) {
	u := strings.TrimSpace(cfg.URL)
	switch {
	case strings.HasPrefix(u, "postgres://"), strings.HasPrefix(u, "postgresql://"):
		return openPostgres(ctx, u, cfg)
	case u == "":
		if cfg.DataDir == "" {
			return nil, errors.New("sqldb: neither a database URL nor a data folder is configured")
		}
		return openSQLite(ctx, filepath.Join(cfg.DataDir, DefaultFile), cfg)
	case strings.HasPrefix(u, "sqlite://"):
		return openSQLite(ctx, strings.TrimPrefix(u, "sqlite://"), cfg)
	case strings.Contains(u, "://"):
		return nil, fmt.Errorf("sqldb: unsupported database URL scheme in %q (want postgres:// or sqlite://)", redact(u))
	default:
		return openSQLite(ctx, u, cfg)
	}
}

func openSQLite(ctx context.Context, path string, cfg Config) (*DB, error) {
	if path == "" {
		return nil, errors.New("sqldb: empty SQLite path")
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("sqldb: create data folder: %w", err)
	}
	// WAL lets a CLI command and the server use the file at once; synchronous=FULL makes every
	// commit durable; busy_timeout waits out the other writer; _txlock=immediate takes the write
	// lock at BEGIN so that two writers never deadlock on a lock upgrade.
	q := url.Values{}
	for _, p := range []string{"journal_mode(WAL)", "synchronous(FULL)", "busy_timeout(15000)", "foreign_keys(1)"} {
		q.Add("_pragma", p)
	}
	q.Set("_txlock", "immediate")
	q.Set("_time_format", "sqlite")
	dsn := "file:" + filepath.ToSlash(path) + "?" + q.Encode()
	sdb, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("sqldb: open SQLite: %w", err)
	}
	n := cfg.MaxOpenConns
	if n <= 0 {
		n = 8
	}
	sdb.SetMaxOpenConns(n)
	sdb.SetMaxIdleConns(n)
	db := &DB{DB: sdb, Dialect: SQLite, Where: "sqlite:" + path}
	if err := db.PingContext(ctx); err != nil {
		sdb.Close()
		return nil, fmt.Errorf("sqldb: open SQLite %s: %w", path, err)
	}
	return db, nil
}

func openPostgres(ctx context.Context, u string, cfg Config) (*DB, error) {
	sdb, err := sql.Open("pgx", u)
	if err != nil {
		return nil, fmt.Errorf("sqldb: open PostgreSQL %s: %w", redact(u), err)
	}
	n := cfg.MaxOpenConns
	if n <= 0 {
		n = 16
	}
	sdb.SetMaxOpenConns(n)
	sdb.SetMaxIdleConns(n)
	sdb.SetConnMaxIdleTime(5 * time.Minute)
	db := &DB{DB: sdb, Dialect: Postgres, Where: redact(u)}
	pctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := db.PingContext(pctx); err != nil {
		sdb.Close()
		return nil, fmt.Errorf("sqldb: PostgreSQL at %s does not answer: %w", redact(u), err)
	}
	return db, nil
}

// redact removes the password from a database URL.
func redact(u string) string {
	p, err := url.Parse(u)
	if err != nil {
		return "(unparseable URL)"
	}
	return p.Redacted()
}

// Rebind rewrites the ? placeholders of a query for the dialect ($1, $2… on PostgreSQL).
// Queries in this project do not put ? inside string literals.
func (db *DB) Rebind(query string) string {
	if db.Dialect != Postgres || !strings.Contains(query, "?") {
		return query
	}
	var b strings.Builder
	b.Grow(len(query) + 8)
	n := 0
	for i := 0; i < len(query); i++ {
		if query[i] == '?' {
			n++
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(n))
			continue
		}
		b.WriteByte(query[i])
	}
	return b.String()
}

// Exec, Query and QueryRow run a ?-placeholder query on the pool, through a prepared statement
// where the engine gains from it (see stmtCache).
func (db *DB) Exec(ctx context.Context, query string, args ...any) (sql.Result, error) {
	if st := db.stmts.get(ctx, db, query); st != nil {
		return st.ExecContext(ctx, args...)
	}
	return db.DB.ExecContext(ctx, db.Rebind(query), args...)
}

func (db *DB) Query(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	if st := db.stmts.get(ctx, db, query); st != nil {
		return st.QueryContext(ctx, args...)
	}
	return db.DB.QueryContext(ctx, db.Rebind(query), args...)
}

func (db *DB) QueryRow(ctx context.Context, query string, args ...any) *sql.Row {
	if st := db.stmts.get(ctx, db, query); st != nil {
		return st.QueryRowContext(ctx, args...)
	}
	return db.DB.QueryRowContext(ctx, db.Rebind(query), args...)
}

// Close closes the prepared statements and the pool.
func (db *DB) Close() error {
	db.stmts.close()
	return db.DB.Close()
}

// Tx is a transaction that rebinds its queries like DB.
type Tx struct {
	*sql.Tx
	db *DB
}

func (tx *Tx) Exec(ctx context.Context, query string, args ...any) (sql.Result, error) {
	if st := tx.db.stmts.cached(tx.db, query); st != nil {
		return tx.Tx.StmtContext(ctx, st).ExecContext(ctx, args...)
	}
	return tx.Tx.ExecContext(ctx, tx.db.Rebind(query), args...)
}

func (tx *Tx) Query(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	if st := tx.db.stmts.cached(tx.db, query); st != nil {
		return tx.Tx.StmtContext(ctx, st).QueryContext(ctx, args...)
	}
	return tx.Tx.QueryContext(ctx, tx.db.Rebind(query), args...)
}

func (tx *Tx) QueryRow(ctx context.Context, query string, args ...any) *sql.Row {
	if st := tx.db.stmts.cached(tx.db, query); st != nil {
		return tx.Tx.StmtContext(ctx, st).QueryRowContext(ctx, args...)
	}
	return tx.Tx.QueryRowContext(ctx, tx.db.Rebind(query), args...)
}

// Dialect reports the engine of the transaction.
func (tx *Tx) Dialect() Dialect { return tx.db.Dialect }

// InTx runs fn in a transaction and commits it, rolling back when fn fails. A transaction that
// lost a serialization race or met a deadlock (PostgreSQL) or a busy database (SQLite) is run
// again, a few times, so fn must be safe to repeat.
func (db *DB) InTx(ctx context.Context, fn func(tx *Tx) error) error {
	var err error
	for attempt := 0; attempt < 8; attempt++ {
		err = db.inTxOnce(ctx, fn)
		if err == nil || !retryable(err) {
			return err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(time.Duration(attempt+1) * 5 * time.Millisecond):
		}
	}
	return err
}

func (db *DB) inTxOnce(ctx context.Context, fn func(tx *Tx) error) (err error) {
	stx, err := db.DB.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	tx := &Tx{Tx: stx, db: db}
	defer func() {
		if p := recover(); p != nil {
			stx.Rollback()
			panic(p)
		}
		if err != nil {
			stx.Rollback()
		}
	}()
	if err = fn(tx); err != nil {
		return err
	}
	return stx.Commit()
}

// LockTx takes a transaction-scoped lock named by key, serialising the transactions that take
// the same key across every process sharing the database. On SQLite the write lock taken at
// BEGIN already serialises writers, so it does nothing there.
func (tx *Tx) LockTx(ctx context.Context, key string) error {
	if tx.db.Dialect != Postgres {
		return nil
	}
	_, err := tx.Tx.ExecContext(ctx, "SELECT pg_advisory_xact_lock(hashtextextended($1, 0))", key)
	return err
}

func retryable(err error) bool {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return pe.Code == "40001" || pe.Code == "40P01" // serialization_failure, deadlock_detected
	}
	var se *sqlite.Error
	if errors.As(err, &se) {
		c := se.Code() & 0xff
		return c == sqlite3.SQLITE_BUSY || c == sqlite3.SQLITE_LOCKED
	}
	return false
}

// IsUniqueViolation reports whether err is a unique or primary-key constraint violation.
func IsUniqueViolation(err error) bool {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return pe.Code == "23505"
	}
	var se *sqlite.Error
	if errors.As(err, &se) {
		return se.Code() == sqlite3.SQLITE_CONSTRAINT_UNIQUE || se.Code() == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY
	}
	return false
}
