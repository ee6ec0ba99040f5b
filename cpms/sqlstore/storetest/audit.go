package storetest

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/ern-cpms/cpms/cpms"
)

// event makes an audit event with every field set.
func event(i int, actor, action, patient string) cpms.AuditEvent {
	return cpms.AuditEvent{
		At: odd(time.Duration(i) * time.Second), Action: action, Outcome: cpms.OutcomeMinorFailure,
		Actor: actor, ActorID: "u-" + actor, OnBehalfOf: "u-clinician", ObjectType: "patient",
		ObjectID: fmt.Sprintf("obj-%d", i), PatientID: patient, Source: "192.0.2.7",
		RequestID: fmt.Sprintf("req-%d", i), Detail: fmt.Sprintf(`{"n":%d}`, i),
	}
}

// VerifyAudit checks the whole audit chain of s and returns the number of records.
func VerifyAudit(ctx context.Context, s cpms.AuditStore) (int64, error) {
	var v cpms.ChainVerifier
	err := s.ScanAudit(ctx, 0, v.Next)
	return v.Count, err
}

func testAudit(t *testing.T, s cpms.Store) {
	ctx := t.Context()
	if list, err := s.AuditEvents(ctx, cpms.AuditFilter{}); err != nil || len(list) != 0 {
		t.Errorf("AuditEvents of an empty store = %v, %v", list, err)
	}
	must(t, s.ScanAudit(ctx, 0, func(e cpms.AuditEvent) error {
		t.Errorf("ScanAudit of an empty store called fn with %d", e.Seq)
		return nil
	}))
	if got, err := s.AppendAudit(ctx, nil); err != nil || len(got) != 0 {
		t.Errorf("AppendAudit of no events = %v, %v", got, err)
	}

	first := []cpms.AuditEvent{
		event(1, "alice", "login", ""),
		event(2, "alice", "patient.read", "p-1"),
		event(3, "system:BE10/pacs", "dicomweb.store", "p-2"),
	}
	first[0].Outcome = cpms.OutcomeSuccess
	in := append([]cpms.AuditEvent(nil), first...)
	got1, err := s.AppendAudit(ctx, in)
	must(t, err)
	wantDiff(t, "events passed to AppendAudit (unchanged)", first, in)
	// The store links them after the last one: recompute the expected chain.
	var want []cpms.AuditEvent
	var prev *cpms.AuditEvent
	for _, e := range first {
		cpms.Link(prev, &e)
		want = append(want, e)
		prev = &want[len(want)-1]
	}
	wantDiff(t, "first batch, linked", want, got1)
	if want[0].Seq != 1 || want[0].PrevHash != cpms.GenesisHash {
		t.Errorf("first record: seq %d prev %s", want[0].Seq, want[0].PrevHash)
	}

	second := []cpms.AuditEvent{event(4, "bob", "patient.read", "p-1"), event(5, "bob", "role.grant", "")}
	got2, err := s.AppendAudit(ctx, second)
	must(t, err)
	for _, e := range second {
		cpms.Link(prev, &e)
		want = append(want, e)
		prev = &want[len(want)-1]
	}
	wantDiff(t, "second batch, linked after the first", want[3:], got2)

	var scanned []cpms.AuditEvent
	must(t, s.ScanAudit(ctx, 0, func(e cpms.AuditEvent) error { scanned = append(scanned, e); return nil }))
	wantDiff(t, "ScanAudit from the start", want, scanned)
	for _, e := range scanned {
		wantUTC(t, "audit time", e.At)
	}
	if n, err := VerifyAudit(ctx, s); err != nil || n != 5 {
		t.Errorf("VerifyAudit = %d, %v; want 5, nil", n, err)
	}
	scanned = nil
	must(t, s.ScanAudit(ctx, 3, func(e cpms.AuditEvent) error { scanned = append(scanned, e); return nil }))
	wantDiff(t, "ScanAudit after 3", want[3:], scanned)
	stop := errors.New("stop")
	calls := 0
	err = s.ScanAudit(ctx, 0, func(e cpms.AuditEvent) error { calls++; return stop })
	if !errors.Is(err, stop) || calls != 1 {
		t.Errorf("ScanAudit with a failing fn: %d calls, err %v; want 1, %v", calls, err, stop)
	}

	seqs := func(list []cpms.AuditEvent) []int64 {
		out := []int64{}
		for _, e := range list {
			out = append(out, e.Seq)
		}
		return out
	}
	for _, tc := range []struct {
		name string
		f    cpms.AuditFilter
		want []int64
	}{
		{"all, newest first", cpms.AuditFilter{}, []int64{5, 4, 3, 2, 1}},
		{"actor", cpms.AuditFilter{Actor: "alice"}, []int64{2, 1}},
		{"patient", cpms.AuditFilter{PatientID: "p-1"}, []int64{4, 2}},
		{"object", cpms.AuditFilter{ObjectID: "obj-3"}, []int64{3}},
		{"action", cpms.AuditFilter{Action: "patient.read"}, []int64{4, 2}},
		{"action and actor", cpms.AuditFilter{Action: "patient.read", Actor: "bob"}, []int64{4}},
		{"limit", cpms.AuditFilter{Limit: 2}, []int64{5, 4}},
		{"filter and limit", cpms.AuditFilter{PatientID: "p-1", Limit: 1}, []int64{4}},
		{"no match", cpms.AuditFilter{Actor: "nobody"}, []int64{}},
	} {
		list, err := s.AuditEvents(ctx, tc.f)
		if err != nil {
			t.Errorf("AuditEvents(%s): %v", tc.name, err)
			continue
		}
		wantDiff(t, "AuditEvents("+tc.name+")", tc.want, seqs(list))
	}
	list, err := s.AuditEvents(ctx, cpms.AuditFilter{ObjectID: "obj-2"})
	must(t, err)
	wantDiff(t, "AuditEvents content", want[1:2], list)
}

// testAuditConcurrent appends from many goroutines at once; the chain must stay whole.
func testAuditConcurrent(t *testing.T, s cpms.Store) {
	ctx := t.Context()
	const workers, batches = 8, 6
	var wg sync.WaitGroup
	errs := make(chan error, workers*batches)
	for w := range workers {
		wg.Go(func() {
			for b := range batches {
				n := 1 + (w+b)%3
				events := make([]cpms.AuditEvent, n)
				for i := range events {
					events[i] = event(i, fmt.Sprintf("worker%d", w), "test.append", "")
				}
				_, err := s.AppendAudit(ctx, events)
				errs <- err
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		must(t, err)
	}
	want := int64(0)
	for w := range workers {
		for b := range batches {
			want += int64(1 + (w+b)%3)
		}
	}
	if n, err := VerifyAudit(ctx, s); err != nil || n != want {
		t.Errorf("VerifyAudit after concurrent appends = %d, %v; want %d, nil", n, err, want)
	}
}

// testAuditLarge appends batches larger than any single statement or page a store might use.
func testAuditLarge(t *testing.T, s cpms.Store) {
	ctx := t.Context()
	total := 0
	for _, n := range []int{1, 150, 1100} {
		events := make([]cpms.AuditEvent, n)
		for i := range events {
			events[i] = event(i, "bulk", "test.bulk", "")
		}
		got, err := s.AppendAudit(ctx, events)
		must(t, err)
		if len(got) != n || got[0].Seq != int64(total+1) || got[n-1].Seq != int64(total+n) {
			t.Fatalf("AppendAudit of %d after %d: got %d records, seq %d…%d", n, total, len(got), got[0].Seq, got[len(got)-1].Seq)
		}
		total += n
	}
	if n, err := VerifyAudit(ctx, s); err != nil || n != int64(total) {
		t.Errorf("VerifyAudit = %d, %v; want %d, nil", n, err, total)
	}
	count := 0
	must(t, s.ScanAudit(ctx, 1000, func(e cpms.AuditEvent) error {
		if e.Seq != int64(1001+count) {
			return fmt.Errorf("ScanAudit after 1000: record %d where %d was due", e.Seq, 1001+count)
		}
		count++
		return nil
	}))
	if count != total-1000 {
		t.Errorf("ScanAudit after 1000 gave %d records, want %d", count, total-1000)
	}
}

func testSecrets(t *testing.T, s cpms.Store) {
	ctx := t.Context()
	key := []byte{0, 1, 2, 0xfe, 0xff, 'k'}
	calls := 0
	got, err := s.Secret(ctx, "session-key", func() ([]byte, error) { calls++; return bytes.Clone(key), nil })
	must(t, err)
	if !bytes.Equal(got, key) || calls != 1 {
		t.Errorf("first Secret = %x after %d calls of create; want %x after 1", got, calls, key)
	}
	got, err = s.Secret(ctx, "session-key", func() ([]byte, error) {
		t.Error("Secret called create for a stored secret")
		return []byte("other"), nil
	})
	must(t, err)
	if !bytes.Equal(got, key) {
		t.Errorf("second Secret = %x, want %x", got, key)
	}

	// A failing create stores nothing.
	boom := errors.New("no entropy")
	if _, err := s.Secret(ctx, "csrf-key", func() ([]byte, error) { return nil, boom }); !errors.Is(err, boom) {
		t.Errorf("Secret with a failing create: err = %v, want %v", err, boom)
	}
	got, err = s.Secret(ctx, "csrf-key", func() ([]byte, error) { return []byte("csrf"), nil })
	if err != nil || string(got) != "csrf" {
		t.Errorf("Secret after a failed create = %q, %v", got, err)
	}
	// Names are separate.
	got, err = s.Secret(ctx, "session-key", func() ([]byte, error) { return nil, boom })
	if err != nil || !bytes.Equal(got, key) {
		t.Errorf("Secret of the first name again = %x, %v", got, err)
	}
}

// testSecretsConcurrent has many goroutines create one secret at once: they must all get the
// same value.
func testSecretsConcurrent(t *testing.T, s cpms.Store) {
	ctx := t.Context()
	const n = 16
	var wg sync.WaitGroup
	values := make([][]byte, n)
	errs := make([]error, n)
	for i := range n {
		wg.Go(func() {
			values[i], errs[i] = s.Secret(ctx, "shared", func() ([]byte, error) {
				b := make([]byte, 32)
				rand.Read(b)
				return b, nil
			})
		})
	}
	wg.Wait()
	for i := range n {
		must(t, errs[i])
		if !bytes.Equal(values[i], values[0]) {
			t.Errorf("goroutine %d got secret %x, goroutine 0 got %x", i, values[i], values[0])
		}
	}
	stored, err := s.Secret(ctx, "shared", func() ([]byte, error) { return nil, errors.New("not called") })
	must(t, err)
	if !bytes.Equal(stored, values[0]) {
		t.Errorf("stored secret %x differs from the one returned %x", stored, values[0])
	}
}

func testSettings(t *testing.T, s cpms.Store) {
	ctx := t.Context()
	check := func(name, want string, wantOK bool) {
		t.Helper()
		v, ok, err := s.Setting(ctx, name)
		if err != nil || v != want || ok != wantOK {
			t.Errorf("Setting(%s) = %q, %v, %v; want %q, %v", name, v, ok, err, want, wantOK)
		}
	}
	check("demo.seeded", "", false)
	must(t, s.PutSetting(ctx, "demo.seeded", "2026-03-02"))
	check("demo.seeded", "2026-03-02", true)
	must(t, s.PutSetting(ctx, "demo.seeded", "again"))
	check("demo.seeded", "again", true)
	must(t, s.PutSetting(ctx, "empty", ""))
	check("empty", "", true)
	check("other", "", false)
}
