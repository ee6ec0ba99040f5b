package sqlstore_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/ern-cpms/cpms/cpms"
	"github.com/ern-cpms/cpms/internal/sqldb/sqldbtest"
)

// BenchmarkAppendAudit appends batches of events to a growing chain; events/s is the figure
// to compare between batch sizes and engines.
func BenchmarkAppendAudit(b *testing.B) {
	for _, e := range sqldbtest.Engines(b) {
		for _, size := range []int{1, 64} {
			b.Run(fmt.Sprintf("%s/batch=%d", e.Name, size), func(b *testing.B) {
				ctx := b.Context()
				s := newStore(b, e.Open(b))
				events := make([]cpms.AuditEvent, size)
				for i := range events {
					events[i] = cpms.AuditEvent{At: time.Now(), Action: "patient.read", Actor: "alice", ActorID: "u-alice",
						ObjectType: "patient", ObjectID: fmt.Sprintf("p-%d", i), PatientID: fmt.Sprintf("p-%d", i),
						Source: "192.0.2.7", RequestID: "req", Detail: `{"view":"summary"}`}
				}
				for b.Loop() {
					if _, err := s.AppendAudit(ctx, events); err != nil {
						b.Fatal(err)
					}
				}
				b.ReportMetric(float64(b.N*size)/b.Elapsed().Seconds(), "events/s")
			})
		}
	}
}

// BenchmarkTokenByHash looks tokens up among 10 000, as every API request does.
func BenchmarkTokenByHash(b *testing.B) {
	for _, e := range sqldbtest.Engines(b) {
		b.Run(e.Name, func(b *testing.B) {
			ctx := b.Context()
			s := newStore(b, e.Open(b))
			const n = 10_000
			now := time.Now()
			if err := s.CreateUser(ctx, cpms.User{ID: "u-1", Username: "alice", DisplayName: "Alice", CreatedAt: now}); err != nil {
				b.Fatal(err)
			}
			for i := range n {
				t := cpms.Token{ID: fmt.Sprintf("t-%d", i), Hash: fmt.Sprintf("%064x", i), Name: "token", UserID: "u-1", CreatedAt: now}
				if err := s.CreateToken(ctx, t); err != nil {
					b.Fatal(err)
				}
			}
			i := 0
			for b.Loop() {
				if _, err := s.TokenByHash(ctx, fmt.Sprintf("%064x", i%n)); err != nil {
					b.Fatal(err)
				}
				i += 7919
			}
		})
	}
}
