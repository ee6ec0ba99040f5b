package sqldb

import (
	"context"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Migrations are one component's schema changes: files NNNN_description.sql in FS, applied in
// order of NNNN, each once. A file NNNN_description.sqlite.sql or NNNN_description.postgres.sql
// replaces the plain one on that engine. The SQL of a plain file must run on both engines:
// TEXT, BIGINT, BOOLEAN, TIMESTAMP (always UTC) and application-generated keys.
type Migrations struct {
	Component string // e.g. "cpms", "xds"; versions are numbered per component
	FS        fs.FS
}

// EmbeddedMigrations are a component's migrations kept in the folder dir of an embedded file
// system (a component's `//go:embed migrations/*.sql`).
func EmbeddedMigrations(component string, fsys fs.FS, dir string) Migrations {
	sub, err := fs.Sub(fsys, dir)
	if err != nil {
		panic(err) // only for a malformed dir, fixed at build time
	}
	return Migrations{Component: component, FS: sub}
}

type migration struct {
	version int64
	name    string
	file    string
}

func (m Migrations) list(d Dialect) ([]migration, error) {
	entries, err := fs.ReadDir(m.FS, ".")
	if err != nil {
		return nil, fmt.Errorf("sqldb: read %s migrations: %w", m.Component, err)
	}
	byVersion := map[int64]migration{}
	specific := map[int64]bool{}
	for _, e := range entries {
		n := e.Name()
		if e.IsDir() || !strings.HasSuffix(n, ".sql") {
			continue
		}
		base := strings.TrimSuffix(n, ".sql")
		var forDialect Dialect
		for _, dd := range []Dialect{SQLite, Postgres} {
			if strings.HasSuffix(base, "."+string(dd)) {
				forDialect = dd
				base = strings.TrimSuffix(base, "."+string(dd))
			}
		}
		if forDialect != "" && forDialect != d {
			continue
		}
		num, rest, ok := strings.Cut(base, "_")
		v, err := strconv.ParseInt(num, 10, 64)
		if !ok || err != nil || v <= 0 {
			return nil, fmt.Errorf("sqldb: migration file %s of %s is not named NNNN_description.sql", n, m.Component)
		}
		if prev, dup := byVersion[v]; dup && (forDialect == "") == !specific[v] {
			return nil, fmt.Errorf("sqldb: %s migrations %s and %s share version %d", m.Component, prev.file, n, v)
		}
		if forDialect == "" && specific[v] {
			continue
		}
		byVersion[v] = migration{version: v, name: rest, file: n}
		specific[v] = forDialect != ""
	}
	out := make([]migration, 0, len(byVersion))
	for _, mg := range byVersion {
		out = append(out, mg)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].version < out[j].version })
	return out, nil
}

// Migrate applies the component's pending migrations. Several processes may call it at once on
// the same database: each migration runs in its own transaction under a lock, and a version
// applied by another process is skipped.
func (db *DB) Migrate(ctx context.Context, m Migrations) (applied int, err error) {
	list, err := m.list(db.Dialect)
	if err != nil {
		return 0, err
	}
	if err := db.ensureMigrationTable(ctx); err != nil {
		return 0, err
	}
	for _, mg := range list {
		body, err := fs.ReadFile(m.FS, mg.file)
		if err != nil {
			return applied, err
		}
		did := false
		err = db.InTx(ctx, func(tx *Tx) error {
			did = false
			if err := tx.LockTx(ctx, "sqldb.migrate"); err != nil {
				return err
			}
			var n int
			if err := tx.QueryRow(ctx, "SELECT COUNT(*) FROM schema_migrations WHERE component = ? AND version = ?",
				m.Component, mg.version).Scan(&n); err != nil {
				return err
			}
			if n > 0 {
				return nil
			}
			if _, err := tx.Tx.ExecContext(ctx, string(body)); err != nil {
				return fmt.Errorf("sqldb: %s migration %s: %w", m.Component, path.Base(mg.file), err)
			}
			if _, err := tx.Exec(ctx, "INSERT INTO schema_migrations (component, version, name, applied_at) VALUES (?, ?, ?, ?)",
				m.Component, mg.version, mg.name, time.Now().UTC()); err != nil {
				return err
			}
			did = true
			return nil
		})
		if err != nil {
			return applied, err
		}
		if did {
			applied++
		}
	}
	return applied, nil
}

// Version reports the highest applied migration of a component (0 when none).
func (db *DB) Version(ctx context.Context, component string) (int64, error) {
	if err := db.ensureMigrationTable(ctx); err != nil {
		return 0, err
	}
	var v int64
	err := db.QueryRow(ctx, "SELECT COALESCE(MAX(version), 0) FROM schema_migrations WHERE component = ?", component).Scan(&v)
	return v, err
}

func (db *DB) ensureMigrationTable(ctx context.Context) error {
	const ddl = `CREATE TABLE IF NOT EXISTS schema_migrations (
	component TEXT NOT NULL,
	version BIGINT NOT NULL,
	name TEXT NOT NULL,
	applied_at TIMESTAMP NOT NULL,
	PRIMARY KEY (component, version))`
	err := db.InTx(ctx, func(tx *Tx) error {
		if err := tx.LockTx(ctx, "sqldb.migrate"); err != nil {
			return err
		}
		_, err := tx.Tx.ExecContext(ctx, ddl)
		return err
	})
	if err != nil {
		return fmt.Errorf("sqldb: create schema_migrations: %w", err)
	}
	return nil
}
