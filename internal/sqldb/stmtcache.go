package sqldb

import (
	"context"
	"database/sql"
	"sync"
)

// maxCachedStmts bounds the cache: queries built with a variable number of placeholders make
// new texts, and past this many the rest simply run unprepared.
const maxCachedStmts = 512

// stmtCache keeps one prepared statement per query text, for SQLite only: compiling the SQL
// text took about a quarter of the server's CPU on reads, and database/sql re-prepares a
// statement on each pooled connection by itself. PostgreSQL's driver (pgx) already caches
// prepared statements per connection, so the cache stays empty there.
type stmtCache struct {
	mu    sync.RWMutex
	stmts map[string]*sql.Stmt
}

// cached returns the prepared statement of query if there is one. Transactions use only this:
// preparing takes a second connection from the pool, and a transaction that waits for one
// while holding its own can starve with others doing the same.
func (c *stmtCache) cached(db *DB, query string) *sql.Stmt {
	if db.Dialect != SQLite {
		return nil
	}
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.stmts[query]
}

// get returns the prepared statement of query, preparing it the first time; nil when the
// engine does not use the cache, the cache is full or preparing failed (the caller then runs
// the query as text and meets the error there).
func (c *stmtCache) get(ctx context.Context, db *DB, query string) *sql.Stmt {
	if db.Dialect != SQLite {
		return nil
	}
	c.mu.RLock()
	st := c.stmts[query]
	n := len(c.stmts)
	c.mu.RUnlock()
	if st != nil || n >= maxCachedStmts {
		return st
	}
	// Preparing does not depend on the request: a cancelled request must not poison the cache.
	st, err := db.DB.PrepareContext(context.WithoutCancel(ctx), query)
	if err != nil {
		return nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if old := c.stmts[query]; old != nil {
		st.Close()
		return old
	}
	if c.stmts == nil {
		c.stmts = map[string]*sql.Stmt{}
	}
	c.stmts[query] = st
	return st
}

func (c *stmtCache) close() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, st := range c.stmts {
		st.Close()
	}
	c.stmts = nil
}
