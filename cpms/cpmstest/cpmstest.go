// Package cpmstest builds the workflow service the way the edges' tests need it: on a real
// database (cpms/sqlstore), with a real audit trail, cheap password hashing and the demo
// network loaded.
package cpmstest

import (
	"context"
	"testing"

	"github.com/ern-cpms/cpms/cpms"
	"github.com/ern-cpms/cpms/cpms/sqlstore"
	"github.com/ern-cpms/cpms/internal/auth"
	"github.com/ern-cpms/cpms/internal/sqldb"
)

// CheapPassword is a password hashing cost that keeps tests fast (never for real accounts).
var CheapPassword = auth.Params{Memory: 8 * 1024, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}

// Operator is the principal of the tests' own set-up: whoever runs commands on the data.
var Operator = &cpms.Principal{Operator: "test"}

// DemoService returns a service on db with the demo network loaded. cfg gives the rest of the
// configuration (Demo, Images…); its Store, Auditor and, when unset, Password are filled in. The
// auditor is closed when the test ends, before the database.
func DemoService(t testing.TB, db *sqldb.DB, cfg cpms.Config) (*cpms.Service, *sqlstore.Store) {
	t.Helper()
	ctx := context.Background()
	st, err := sqlstore.New(ctx, sqlstore.Config{DB: db})
	if err != nil {
		t.Fatal(err)
	}
	aud := cpms.NewAuditor(cpms.AuditorConfig{Store: st})
	t.Cleanup(aud.Close)
	cfg.Store, cfg.Auditor = st, aud
	if cfg.Password == (auth.Params{}) {
		cfg.Password = CheapPassword
	}
	svc, err := cpms.NewService(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.SeedDemo(ctx, Operator); err != nil {
		t.Fatal(err)
	}
	return svc, st
}
