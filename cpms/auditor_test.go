package cpms_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ern-cpms/cpms/cpms"
	"github.com/ern-cpms/cpms/cpms/sqlstore"
	"github.com/ern-cpms/cpms/internal/sqldb/sqldbtest"
)

// spyStore passes every call to the real audit store and counts AppendAudit calls and the
// events they carry. When hold is set, the first AppendAudit signals held and waits until hold
// is closed before it writes.
type spyStore struct {
	cpms.AuditStore
	hold chan struct{}
	held chan struct{}
	fail atomic.Bool // when set, AppendAudit fails without writing

	mu      sync.Mutex
	calls   int
	events  int
	largest int
}

var errDiskFull = errors.New("disk full")

func (s *spyStore) AppendAudit(ctx context.Context, events []cpms.AuditEvent) ([]cpms.AuditEvent, error) {
	s.mu.Lock()
	s.calls++
	first := s.calls == 1
	s.mu.Unlock()
	if first && s.hold != nil {
		close(s.held)
		<-s.hold
	}
	if s.fail.Load() {
		return nil, errDiskFull
	}
	out, err := s.AuditStore.AppendAudit(ctx, events)
	if err == nil {
		s.mu.Lock()
		s.events += len(events)
		s.largest = max(s.largest, len(events))
		s.mu.Unlock()
	}
	return out, err
}

func (s *spyStore) counts() (calls, events, largest int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls, s.events, s.largest
}

func newAuditStore(t testing.TB) *sqlstore.Store {
	t.Helper()
	st, err := sqlstore.New(context.Background(), sqlstore.Config{DB: sqldbtest.OpenSQLite(t)})
	if err != nil {
		t.Fatal(err)
	}
	return st
}

func event(i int) cpms.AuditEvent {
	return cpms.AuditEvent{At: time.Date(2026, 3, 2, 9, 0, 0, i*1000, time.UTC), Action: "test.record", Actor: "tester",
		ObjectType: "thing", ObjectID: fmt.Sprintf("thing-%04d", i)}
}

// stored reports how many records of the trail carry this object ID.
func stored(t *testing.T, st cpms.AuditStore, objectID string) int {
	t.Helper()
	evs, err := st.AuditEvents(context.Background(), cpms.AuditFilter{ObjectID: objectID})
	if err != nil {
		t.Error(err)
	}
	return len(evs)
}

func TestAuditorConcurrentRecord(t *testing.T) {
	const n = 200
	ctx := context.Background()
	st := newAuditStore(t)
	spy := &spyStore{AuditStore: st, hold: make(chan struct{}), held: make(chan struct{})}
	a := cpms.NewAuditor(cpms.AuditorConfig{Store: spy})
	defer a.Close()

	// The first event's write is held: its Record must not return meanwhile, and the events
	// recorded while it is held go to the database together.
	firstDone := make(chan error, 1)
	go func() { firstDone <- a.Record(ctx, event(0)) }()
	<-spy.held

	var started, finished sync.WaitGroup
	for i := 1; i < n; i++ {
		started.Add(1)
		finished.Add(1)
		go func() {
			defer finished.Done()
			started.Done()
			e := event(i)
			if err := a.Record(ctx, e); err != nil {
				t.Errorf("Record %d: %v", i, err)
				return
			}
			if got := stored(t, st, e.ObjectID); got != 1 {
				t.Errorf("Record %d returned with %d copies of its event stored, want 1", i, got)
			}
		}()
	}
	started.Wait()
	select {
	case err := <-firstDone:
		t.Fatalf("Record returned (%v) before its event was written", err)
	default:
	}
	if got := stored(t, st, event(0).ObjectID); got != 0 {
		t.Fatalf("the held event is stored already")
	}
	close(spy.hold)
	if err := <-firstDone; err != nil {
		t.Fatalf("Record 0: %v", err)
	}
	if got := stored(t, st, event(0).ObjectID); got != 1 {
		t.Errorf("Record 0 returned with %d copies stored", got)
	}
	finished.Wait()

	count, err := cpms.VerifyAudit(ctx, st)
	if err != nil || count != n {
		t.Fatalf("VerifyAudit = %d, %v; want %d records and no error", count, err, n)
	}
	calls, events, largest := spy.counts()
	if events != n {
		t.Errorf("%d events passed to the store, want %d", events, n)
	}
	if calls >= n || largest < 2 {
		t.Errorf("%d events took %d transactions (largest %d): no group commit", n, calls, largest)
	}
	t.Logf("%d events in %d transactions, largest %d", n, calls, largest)
}

func TestAuditorMaxBatch(t *testing.T) {
	const n, maxBatch = 40, 4
	ctx := context.Background()
	st := newAuditStore(t)
	spy := &spyStore{AuditStore: st, hold: make(chan struct{}), held: make(chan struct{})}
	a := cpms.NewAuditor(cpms.AuditorConfig{Store: spy, MaxBatch: maxBatch})
	defer a.Close()
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		if err := a.Record(ctx, event(0)); err != nil {
			t.Errorf("Record 0: %v", err)
		}
	}()
	<-spy.held
	var started sync.WaitGroup
	for i := 1; i < n; i++ {
		wg.Add(1)
		started.Add(1)
		go func() {
			defer wg.Done()
			started.Done()
			if err := a.Record(ctx, event(i)); err != nil {
				t.Errorf("Record %d: %v", i, err)
			}
		}()
	}
	started.Wait()
	close(spy.hold)
	wg.Wait()
	calls, events, largest := spy.counts()
	if events != n || largest > maxBatch || largest < 2 {
		t.Errorf("%d events in %d transactions, largest %d; want %d events, batches of 2 to %d", events, calls, largest, n, maxBatch)
	}
	if count, err := cpms.VerifyAudit(ctx, st); err != nil || count != n {
		t.Errorf("VerifyAudit = %d, %v", count, err)
	}
}

func TestAuditorStoreFailure(t *testing.T) {
	ctx := context.Background()
	st := newAuditStore(t)
	spy := &spyStore{AuditStore: st}
	a := cpms.NewAuditor(cpms.AuditorConfig{Store: spy})
	defer a.Close()
	spy.fail.Store(true)
	err := a.Record(ctx, event(1))
	if cpms.KindOf(err) != cpms.KindUnavailable || !errors.Is(err, errDiskFull) {
		t.Fatalf("Record on a failing store = %v, want an unavailable error caused by the store's", err)
	}
	spy.fail.Store(false)
	if err := a.Record(ctx, event(2)); err != nil {
		t.Fatalf("Record once the store works again: %v", err)
	}
	if stored(t, st, event(1).ObjectID) != 0 || stored(t, st, event(2).ObjectID) != 1 {
		t.Error("the trail does not hold exactly the acknowledged event")
	}
}

func TestAuditorClose(t *testing.T) {
	ctx := context.Background()
	st := newAuditStore(t)
	a := cpms.NewAuditor(cpms.AuditorConfig{Store: st})
	if err := a.Record(ctx, event(1)); err != nil {
		t.Fatal(err)
	}
	a.Close()
	a.Close() // a second Close is harmless
	// A Record after Close must fail at once, every time, and not wait for a writer that is gone.
	// (The deadline only turns a hang into a failure.)
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	for i := range 200 {
		if err := a.Record(ctx, event(100+i)); !errors.Is(err, cpms.ErrAuditorClosed) {
			t.Fatalf("Record %d after Close = %v, want ErrAuditorClosed", i, err)
		}
	}
	if count, err := cpms.VerifyAudit(ctx, st); err != nil || count != 1 {
		t.Errorf("VerifyAudit = %d, %v; want the one event recorded before Close", count, err)
	}
}

// TestAuditorCloseWhileRecording closes the auditor while events arrive: every Record either
// succeeds with its event stored, or fails with ErrAuditorClosed and its event not stored.
func TestAuditorCloseWhileRecording(t *testing.T) {
	const rounds, n = 20, 50
	for round := range rounds {
		st := newAuditStore(t)
		spy := &spyStore{AuditStore: st, hold: make(chan struct{}), held: make(chan struct{})}
		a := cpms.NewAuditor(cpms.AuditorConfig{Store: spy, MaxBatch: 8})
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second) // turns a hang into a failure
		results := make([]error, n)
		var wg sync.WaitGroup
		wg.Add(1)
		go func() { defer wg.Done(); results[0] = a.Record(ctx, event(0)) }()
		<-spy.held
		for i := 1; i < n; i++ {
			wg.Add(1)
			go func() { defer wg.Done(); results[i] = a.Record(ctx, event(i)) }()
		}
		closed := make(chan struct{})
		go func() { a.Close(); close(closed) }()
		close(spy.hold)
		wg.Wait()
		<-closed
		cancel()
		ok := 0
		for i, err := range results {
			want := 0
			switch {
			case err == nil:
				want, ok = 1, ok+1
			case errors.Is(err, cpms.ErrAuditorClosed):
			default:
				t.Fatalf("round %d: Record %d = %v, want nil or ErrAuditorClosed", round, i, err)
			}
			if got := stored(t, st, event(i).ObjectID); got != want {
				t.Fatalf("round %d: Record %d returned %v and %d copies are stored", round, i, err, got)
			}
		}
		if count, err := cpms.VerifyAudit(context.Background(), st); err != nil || count != int64(ok) {
			t.Fatalf("round %d: VerifyAudit = %d, %v; want %d", round, count, err, ok)
		}
	}
}

func BenchmarkAuditorRecord(b *testing.B) {
	st := newAuditStore(b)
	spy := &spyStore{AuditStore: st}
	a := cpms.NewAuditor(cpms.AuditorConfig{Store: spy})
	defer a.Close()
	ctx := context.Background()
	var next atomic.Int64
	// Requests wait on the disk, not the CPU: many of them record at once on a server.
	b.SetParallelism(16)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			i := next.Add(1)
			e := cpms.AuditEvent{At: time.Now(), Action: "bench.record", Actor: "bench", ObjectType: "thing",
				ObjectID: fmt.Sprint(i)}
			if err := a.Record(ctx, e); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.StopTimer()
	calls, events, _ := spy.counts()
	if calls > 0 {
		b.ReportMetric(float64(events)/float64(calls), "events/txn")
	}
}
