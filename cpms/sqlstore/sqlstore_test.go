package sqlstore_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ern-cpms/cpms/cpms"
	"github.com/ern-cpms/cpms/cpms/sqlstore"
	"github.com/ern-cpms/cpms/cpms/sqlstore/storetest"
	"github.com/ern-cpms/cpms/internal/sqldb"
	"github.com/ern-cpms/cpms/internal/sqldb/sqldbtest"
	"github.com/google/go-cmp/cmp"
)

// newStore opens a store on db, failing the test on error.
func newStore(t testing.TB, db *sqldb.DB) *sqlstore.Store {
	t.Helper()
	s, err := sqlstore.New(context.Background(), sqlstore.Config{DB: db})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// openURL opens another handle on the database at url, as another process would.
func openURL(t testing.TB, url string) *sqldb.DB {
	t.Helper()
	db, err := sqldb.Open(context.Background(), sqldb.Config{URL: url})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func TestContract(t *testing.T) {
	for _, e := range sqldbtest.Engines(t) {
		t.Run(e.Name, func(t *testing.T) {
			storetest.Run(t, func(t *testing.T) cpms.Store { return newStore(t, e.Open(t)) })
		})
	}
}

func TestNew(t *testing.T) {
	if _, err := sqlstore.New(t.Context(), sqlstore.Config{}); err == nil {
		t.Error("New without a database: no error")
	}
	for _, e := range sqldbtest.Engines(t) {
		t.Run(e.Name, func(t *testing.T) {
			// Several processes starting at once all migrate, once.
			url := e.URL(t)
			const n = 4
			var wg sync.WaitGroup
			errs := make([]error, n)
			dbs := make([]*sqldb.DB, n)
			for i := range n {
				dbs[i] = openURL(t, url)
				wg.Go(func() {
					_, errs[i] = sqlstore.New(t.Context(), sqlstore.Config{DB: dbs[i]})
				})
			}
			wg.Wait()
			for i, err := range errs {
				if err != nil {
					t.Errorf("New in process %d: %v", i, err)
				}
			}
			if v, err := dbs[0].Version(t.Context(), "cpms"); err != nil || v != 3 {
				t.Errorf("cpms schema version = %d, %v; want 3", v, err)
			}
			if _, err := sqlstore.New(t.Context(), sqlstore.Config{DB: dbs[0]}); err != nil {
				t.Errorf("New on a migrated database: %v", err)
			}
		})
	}
}

// TestAuditAcrossProcesses appends from many goroutines on several handles of one database,
// each handle with its own connection pool as a separate process would have, and then checks
// the whole chain.
func TestAuditAcrossProcesses(t *testing.T) {
	for _, e := range sqldbtest.Engines(t) {
		t.Run(e.Name, func(t *testing.T) {
			ctx := t.Context()
			url := e.URL(t)
			const handles, workers, batches = 3, 4, 8
			stores := make([]*sqlstore.Store, handles)
			for i := range stores {
				stores[i] = newStore(t, openURL(t, url))
			}
			var (
				wg       sync.WaitGroup
				mu       sync.Mutex
				returned = map[int64]cpms.AuditEvent{}
				failures []error
				total    int
			)
			for h, s := range stores {
				for w := range workers {
					for b := range batches {
						total += 1 + (h+w+b)%4
					}
					wg.Go(func() {
						for b := range batches {
							events := make([]cpms.AuditEvent, 1+(h+w+b)%4)
							for i := range events {
								events[i] = cpms.AuditEvent{At: time.Now(), Action: "test.append",
									Actor: fmt.Sprintf("p%d/w%d", h, w), Detail: fmt.Sprintf("batch %d event %d", b, i)}
							}
							got, err := s.AppendAudit(ctx, events)
							mu.Lock()
							if err != nil {
								failures = append(failures, err)
							}
							for _, ev := range got {
								if _, dup := returned[ev.Seq]; dup {
									failures = append(failures, fmt.Errorf("seq %d returned twice", ev.Seq))
								}
								returned[ev.Seq] = ev
							}
							mu.Unlock()
						}
					})
				}
			}
			wg.Wait()
			for _, err := range failures {
				t.Error(err)
			}
			var v cpms.ChainVerifier
			err := stores[0].ScanAudit(ctx, 0, func(ev cpms.AuditEvent) error {
				if d := cmp.Diff(returned[ev.Seq], ev); d != "" {
					return fmt.Errorf("record %d differs from what AppendAudit returned (-returned +stored):\n%s", ev.Seq, d)
				}
				return v.Next(ev)
			})
			if err != nil || v.Count != int64(total) || len(returned) != total {
				t.Errorf("chain: %d records verified (%d returned), err %v; want %d", v.Count, len(returned), err, total)
			}
		})
	}
}

// TestAuditTamper alters the stored chain behind the store's back: verification must fail at
// the altered record.
func TestAuditTamper(t *testing.T) {
	for _, e := range sqldbtest.Engines(t) {
		t.Run(e.Name, func(t *testing.T) {
			exec := func(query string, args ...any) func(context.Context, *sqldb.DB, cpms.AuditStore) error {
				return func(ctx context.Context, db *sqldb.DB, _ cpms.AuditStore) error {
					_, err := db.Exec(ctx, query, args...)
					return err
				}
			}
			for _, tc := range []struct {
				name  string
				alter func(context.Context, *sqldb.DB, cpms.AuditStore) error
				valid int64  // records that still verify
				want  string // in the verification error
			}{
				{"detail", exec("UPDATE audit_events SET detail = ? WHERE seq = 3", "{}"), 2, "audit record 3: its content"},
				{"actor", exec("UPDATE audit_events SET actor = ? WHERE seq = 3", "mallory"), 2, "audit record 3: its content"},
				{"time", exec("UPDATE audit_events SET at = ? WHERE seq = 3", time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)), 2, "audit record 3: its content"},
				{"outcome", exec("UPDATE audit_events SET outcome = 0 WHERE seq = 3"), 2, "audit record 3: its content"},
				{"deletion", exec("DELETE FROM audit_events WHERE seq = 3"), 2, "expected record 3"},
				// Re-hashing the altered record breaks the link from the next one.
				{"re-hashed record", func(ctx context.Context, db *sqldb.DB, s cpms.AuditStore) error {
					list, err := s.AuditEvents(ctx, cpms.AuditFilter{})
					if err != nil {
						return err
					}
					e := list[len(list)-3] // seq 3
					e.Detail = "{}"
					_, err = db.Exec(ctx, "UPDATE audit_events SET detail = ?, hash = ? WHERE seq = 3", e.Detail, cpms.ChainHash(e))
					return err
				}, 3, "audit record 4: does not follow record 3"},
			} {
				t.Run(tc.name, func(t *testing.T) {
					ctx := t.Context()
					db := e.Open(t)
					s := newStore(t, db)
					events := make([]cpms.AuditEvent, 5)
					for i := range events {
						events[i] = cpms.AuditEvent{At: time.Now(), Action: "login", Outcome: cpms.OutcomeMinorFailure,
							Actor: "alice", Detail: fmt.Sprintf(`{"attempt":%d}`, i)}
					}
					if _, err := s.AppendAudit(ctx, events); err != nil {
						t.Fatal(err)
					}
					if n, err := storetest.VerifyAudit(ctx, s); err != nil || n != 5 {
						t.Fatalf("untouched chain: %d verified, %v", n, err)
					}
					if err := tc.alter(ctx, db, s); err != nil {
						t.Fatal(err)
					}
					n, err := storetest.VerifyAudit(ctx, s)
					if err == nil || !strings.Contains(err.Error(), tc.want) || n != tc.valid {
						t.Errorf("after altering the %s: %d verified, err %v; want %d and an error with %q", tc.name, n, err, tc.valid, tc.want)
					}
				})
			}
		})
	}
}

// TestSecretAcrossProcesses has goroutines on several handles create one secret at once.
func TestSecretAcrossProcesses(t *testing.T) {
	for _, e := range sqldbtest.Engines(t) {
		t.Run(e.Name, func(t *testing.T) {
			url := e.URL(t)
			const handles, workers = 3, 4
			var (
				wg     sync.WaitGroup
				mu     sync.Mutex
				values [][]byte
			)
			for range handles {
				s := newStore(t, openURL(t, url))
				for range workers {
					wg.Go(func() {
						v, err := s.Secret(t.Context(), "session-key", func() ([]byte, error) {
							b := make([]byte, 32)
							rand.Read(b)
							return b, nil
						})
						if err != nil {
							t.Error(err)
						}
						mu.Lock()
						values = append(values, v)
						mu.Unlock()
					})
				}
			}
			wg.Wait()
			for i, v := range values {
				if len(v) != 32 || !bytes.Equal(v, values[0]) {
					t.Errorf("caller %d got secret %x, caller 0 got %x", i, v, values[0])
				}
			}
		})
	}
}

// TestErrorsKeepDataOut checks that errors a client may see name no user data.
func TestErrorsKeepDataOut(t *testing.T) {
	ctx := t.Context()
	s := newStore(t, sqldbtest.OpenSQLite(t))
	u := cpms.User{ID: "u-1", Username: "jeanne.dupont", DisplayName: "Jeanne Dupont", Email: "jeanne@example.org", CreatedAt: time.Now()}
	if err := s.CreateUser(ctx, u); err != nil {
		t.Fatal(err)
	}
	u.ID = "u-2"
	err := s.CreateUser(ctx, u)
	if cpms.KindOf(err) != cpms.KindConflict {
		t.Fatalf("duplicate user: err = %v, want a conflict", err)
	}
	_, err2 := s.UserByUsername(ctx, "pierre.martin")
	for _, err := range []error{err, err2} {
		for _, secret := range []string{"jeanne", "pierre", "Dupont", "example.org", "users", "UNIQUE", "SQL"} {
			if strings.Contains(err.Error(), secret) {
				t.Errorf("error %q shows %q", err, secret)
			}
		}
	}
}

// TestEnrolAcrossProcesses enrols at one centre and ERN from several handles of one database at
// once, as several server instances would: every CPMS ID is given once and none is skipped.
func TestEnrolAcrossProcesses(t *testing.T) {
	for _, e := range sqldbtest.Engines(t) {
		t.Run(e.Name, func(t *testing.T) {
			ctx := t.Context()
			url := e.URL(t)
			const handles, workers, each = 3, 4, 5
			stores := make([]*sqlstore.Store, handles)
			for i := range stores {
				stores[i] = newStore(t, openURL(t, url))
			}
			if err := stores[0].PutCentre(ctx, cpms.Centre{Code: "BE10", Name: "Leuven", Country: "BE"}); err != nil {
				t.Fatal(err)
			}
			if err := stores[0].PutERN(ctx, cpms.ERN{Code: "EuroBloodNet", Name: "Blood", Centres: []string{"BE10"}}); err != nil {
				t.Fatal(err)
			}
			var (
				wg   sync.WaitGroup
				mu   sync.Mutex
				seen = map[string]string{}
			)
			for h, s := range stores {
				for w := range workers {
					wg.Go(func() {
						for i := range each {
							id := fmt.Sprintf("h%d-w%d-%d", h, w, i)
							now := time.Now()
							p, err := s.CreatePatient(ctx, cpms.Patient{ID: id, ERN: "EuroBloodNet", Centre: "BE10", FirstName: "Synthetic",
								LastName: id, Gender: cpms.GenderOther, BirthDate: "1990-01-01", EnrolledOn: "2026-01-01",
								Variant: cpms.VariantStandard, Version: 1, CreatedAt: now, UpdatedAt: now,
								Consents: []cpms.Consent{{ID: id + "-c", PatientID: id, Kind: cpms.ConsentCare, Given: true,
									Date: "2026-01-01", Version: 1, UpdatedAt: now}}})
							mu.Lock()
							if err != nil {
								t.Errorf("enrol %s: %v", id, err)
							} else if other, dup := seen[p.CPMSID]; dup {
								t.Errorf("%s given to %s and %s", p.CPMSID, other, id)
							} else {
								seen[p.CPMSID] = id
							}
							mu.Unlock()
						}
					})
				}
			}
			wg.Wait()
			for i := 1; i <= handles*workers*each; i++ {
				if _, ok := seen[cpms.CPMSID("BE10", "EuroBloodNet", i)]; !ok {
					t.Errorf("number %d was skipped", i)
				}
			}
		})
	}
}
