// Package sqldbtest gives tests a fresh database on every engine the product supports: SQLite in
// a temporary folder always, and PostgreSQL when CPMS_TEST_POSTGRES_URL names a server the tests
// may create databases on. In CI (CI=true) a missing PostgreSQL is a failure, not a skip.
package sqldbtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"path/filepath"
	"testing"

	"github.com/ern-cpms/cpms/internal/sqldb"
)

// EnvPostgres names the environment variable holding an administrative PostgreSQL URL.
const EnvPostgres = "CPMS_TEST_POSTGRES_URL"

// Engine opens fresh, empty databases of one kind.
type Engine struct {
	Name string
	// Open returns a new empty database, closed (and dropped, on PostgreSQL) when the test ends.
	Open func(t testing.TB) *sqldb.DB
	// URL returns the connection URL of a new empty database, for tests that start processes.
	URL func(t testing.TB) string
}

// Engines lists SQLite and, when configured, PostgreSQL. When PostgreSQL is not configured it
// logs one line saying so, or fails the test in CI.
func Engines(t testing.TB) []Engine {
	t.Helper()
	out := []Engine{{Name: "sqlite", Open: OpenSQLite, URL: sqliteURL}}
	if pg := Postgres(t); pg != nil {
		out = append(out, *pg)
	}
	return out
}

// Postgres returns the PostgreSQL engine, or nil (after logging why) when none is configured.
func Postgres(t testing.TB) *Engine {
	t.Helper()
	admin := os.Getenv(EnvPostgres)
	if admin == "" {
		if os.Getenv("CI") == "true" {
			t.Fatalf("CI requires %s (a PostgreSQL URL the tests may create databases on)", EnvPostgres)
		}
		t.Logf("PostgreSQL tests skipped: %s is not set", EnvPostgres)
		return nil
	}
	return &Engine{Name: "postgres", Open: func(t testing.TB) *sqldb.DB { return openPostgres(t, admin) },
		URL: func(t testing.TB) string { return createPostgres(t, admin) }}
}

func sqliteURL(t testing.TB) string {
	return "sqlite://" + filepath.Join(t.TempDir(), "test.db")
}

// OpenSQLite opens a new SQLite database in a temporary folder.
func OpenSQLite(t testing.TB) *sqldb.DB {
	t.Helper()
	db, err := sqldb.Open(context.Background(), sqldb.Config{URL: sqliteURL(t)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func openPostgres(t testing.TB, admin string) *sqldb.DB {
	t.Helper()
	u := createPostgres(t, admin)
	db, err := sqldb.Open(context.Background(), sqldb.Config{URL: u})
	if err != nil {
		t.Fatal(err)
	}
	// Registered after createPostgres's cleanup, so it runs first: close before the drop.
	t.Cleanup(func() { db.Close() })
	return db
}

// createPostgres creates an empty database and returns its URL; it is dropped after the test.
func createPostgres(t testing.TB, admin string) string {
	t.Helper()
	ctx := context.Background()
	adb, err := sqldb.Open(ctx, sqldb.Config{URL: admin, MaxOpenConns: 2})
	if err != nil {
		t.Fatalf("PostgreSQL at %s: %v", EnvPostgres, err)
	}
	var b [6]byte
	rand.Read(b[:])
	name := "cpmstest_" + hex.EncodeToString(b[:])
	if _, err := adb.DB.ExecContext(ctx, "CREATE DATABASE "+name); err != nil {
		adb.Close()
		t.Fatalf("create test database: %v", err)
	}
	t.Cleanup(func() {
		adb.DB.ExecContext(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)")
		adb.Close()
	})
	pu, err := url.Parse(admin)
	if err != nil {
		t.Fatal(err)
	}
	pu.Path = "/" + name
	return pu.String()
}
