package sqldb_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"testing/fstest"
	"time"

	"github.com/ern-cpms/cpms/internal/sqldb"
	"github.com/ern-cpms/cpms/internal/sqldb/sqldbtest"
)

var testMigrations = sqldb.Migrations{Component: "test", FS: fstest.MapFS{
	"0001_things.sql": {Data: []byte(`CREATE TABLE things (id TEXT PRIMARY KEY, n BIGINT NOT NULL, ok BOOLEAN NOT NULL, at TIMESTAMP NOT NULL);
CREATE INDEX things_n ON things (n);`)},
	"0002_more.sql":             {Data: []byte(`ALTER TABLE things ADD COLUMN note TEXT`)},
	"0003_dialect.sql":          {Data: []byte(`this is not SQL and must be replaced on both engines`)},
	"0003_dialect.sqlite.sql":   {Data: []byte(`CREATE TABLE d (x TEXT)`)},
	"0003_dialect.postgres.sql": {Data: []byte(`CREATE TABLE d (x TEXT)`)},
	"README.txt":                {Data: []byte("ignored")},
}}

func TestEngines(t *testing.T) {
	for _, e := range sqldbtest.Engines(t) {
		t.Run(e.Name, func(t *testing.T) {
			ctx := context.Background()
			db := e.Open(t)
			n, err := db.Migrate(ctx, testMigrations)
			if err != nil || n != 3 {
				t.Fatalf("Migrate = %d, %v; want 3, nil", n, err)
			}
			if n, err := db.Migrate(ctx, testMigrations); err != nil || n != 0 {
				t.Fatalf("second Migrate = %d, %v; want 0, nil", n, err)
			}
			if v, err := db.Version(ctx, "test"); err != nil || v != 3 {
				t.Fatalf("Version = %d, %v", v, err)
			}
			at := time.Date(2026, 11, 24, 10, 30, 0, 123456000, time.UTC)
			if _, err := db.Exec(ctx, "INSERT INTO things (id, n, ok, at, note) VALUES (?, ?, ?, ?, ?)", "a", 7, true, at, nil); err != nil {
				t.Fatal(err)
			}
			_, err = db.Exec(ctx, "INSERT INTO things (id, n, ok, at) VALUES (?, ?, ?, ?)", "a", 8, false, at)
			if !sqldb.IsUniqueViolation(err) {
				t.Fatalf("duplicate key: err = %v, want a unique violation", err)
			}
			var (
				n64  int64
				ok   bool
				got  time.Time
				note *string
			)
			if err := db.QueryRow(ctx, "SELECT n, ok, at, note FROM things WHERE id = ?", "a").Scan(&n64, &ok, &got, &note); err != nil {
				t.Fatal(err)
			}
			if n64 != 7 || !ok || !got.Equal(at) || note != nil {
				t.Fatalf("read back %d %v %v %v", n64, ok, got, note)
			}
			// A failing transaction leaves nothing behind.
			boom := errors.New("boom")
			err = db.InTx(ctx, func(tx *sqldb.Tx) error {
				if _, err := tx.Exec(ctx, "INSERT INTO things (id, n, ok, at) VALUES (?, ?, ?, ?)", "b", 1, false, at); err != nil {
					return err
				}
				return boom
			})
			if !errors.Is(err, boom) {
				t.Fatalf("InTx = %v", err)
			}
			var c int
			db.QueryRow(ctx, "SELECT COUNT(*) FROM things").Scan(&c)
			if c != 1 {
				t.Fatalf("rows after rollback = %d, want 1", c)
			}
		})
	}
}

// Concurrent read-modify-write transactions under LockTx never lose an update.
func TestLockTxSerialises(t *testing.T) {
	for _, e := range sqldbtest.Engines(t) {
		t.Run(e.Name, func(t *testing.T) {
			ctx := context.Background()
			db := e.Open(t)
			if _, err := db.Migrate(ctx, testMigrations); err != nil {
				t.Fatal(err)
			}
			db.Exec(ctx, "INSERT INTO things (id, n, ok, at) VALUES ('c', 0, false, ?)", time.Now().UTC())
			var wg sync.WaitGroup
			const workers, each = 6, 15
			errs := make(chan error, workers)
			for w := 0; w < workers; w++ {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for i := 0; i < each; i++ {
						err := db.InTx(ctx, func(tx *sqldb.Tx) error {
							if err := tx.LockTx(ctx, "counter"); err != nil {
								return err
							}
							var n int64
							if err := tx.QueryRow(ctx, "SELECT n FROM things WHERE id = 'c'").Scan(&n); err != nil {
								return err
							}
							_, err := tx.Exec(ctx, "UPDATE things SET n = ? WHERE id = 'c'", n+1)
							return err
						})
						if err != nil {
							errs <- err
							return
						}
					}
				}()
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				t.Fatal(err)
			}
			var n int64
			db.QueryRow(ctx, "SELECT n FROM things WHERE id = 'c'").Scan(&n)
			if n != workers*each {
				t.Fatalf("counter = %d, want %d", n, workers*each)
			}
		})
	}
}

// Two handles (as a server and a CLI command would hold) migrate the same database at once.
func TestConcurrentMigrate(t *testing.T) {
	for _, e := range sqldbtest.Engines(t) {
		t.Run(e.Name, func(t *testing.T) {
			ctx := context.Background()
			u := e.URL(t)
			var wg sync.WaitGroup
			res := make([]int, 3)
			errs := make([]error, 3)
			for i := range res {
				wg.Add(1)
				go func() {
					defer wg.Done()
					db, err := sqldb.Open(ctx, sqldb.Config{URL: u})
					if err != nil {
						errs[i] = err
						return
					}
					defer db.Close()
					res[i], errs[i] = db.Migrate(ctx, testMigrations)
				}()
			}
			wg.Wait()
			total := 0
			for i := range res {
				if errs[i] != nil {
					t.Fatal(errs[i])
				}
				total += res[i]
			}
			if total != 3 {
				t.Fatalf("migrations applied in all = %d, want 3", total)
			}
		})
	}
}

func TestRebind(t *testing.T) {
	pg := &sqldb.DB{Dialect: sqldb.Postgres}
	if got := pg.Rebind("SELECT a FROM t WHERE b = ? AND c IN (?, ?)"); got != "SELECT a FROM t WHERE b = $1 AND c IN ($2, $3)" {
		t.Errorf("Rebind = %q", got)
	}
	lite := &sqldb.DB{Dialect: sqldb.SQLite}
	if got := lite.Rebind("x = ?"); got != "x = ?" {
		t.Errorf("SQLite Rebind = %q", got)
	}
}

func TestOpenErrors(t *testing.T) {
	ctx := context.Background()
	for _, u := range []string{"mysql://x", "postgres://nobody:secret@127.0.0.1:1/none?connect_timeout=1"} {
		_, err := sqldb.Open(ctx, sqldb.Config{URL: u})
		if err == nil {
			t.Errorf("Open(%q) succeeded", u)
			continue
		}
		if strings.Contains(err.Error(), "secret") {
			t.Errorf("Open error leaks the password: %v", err)
		}
	}
	if _, err := sqldb.Open(ctx, sqldb.Config{}); err == nil {
		t.Error("Open with nothing configured succeeded")
	}
}
