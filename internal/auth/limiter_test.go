package auth

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// fakeClock is a settable clock for the limiter; it is safe for concurrent
// use so the race test can share it.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

func TestLimiter(t *testing.T) {
	type step struct {
		advance time.Duration
		key     string
		want    bool
	}
	tests := []struct {
		name  string
		cfg   LimiterConfig
		steps []step
	}{
		{
			name: "burst then refill",
			cfg:  LimiterConfig{Rate: 1, Burst: 3},
			steps: []step{
				{0, "a", true}, {0, "a", true}, {0, "a", true}, {0, "a", false},
				{999 * time.Millisecond, "a", false},
				{time.Millisecond, "a", true}, {0, "a", false},
				{10 * time.Second, "a", true}, {0, "a", true}, {0, "a", true}, {0, "a", false},
			},
		},
		{
			name: "keys are independent",
			cfg:  LimiterConfig{Rate: 1, Burst: 1},
			steps: []step{
				{0, "a", true}, {0, "a", false}, {0, "b", true}, {0, "b", false}, {0, "a", false},
			},
		},
		{
			name: "slow rate",
			cfg:  LimiterConfig{Rate: 10.0 / 60, Burst: 2},
			steps: []step{
				{0, "ip", true}, {0, "ip", true}, {0, "ip", false},
				{5 * time.Second, "ip", false},
				{time.Second, "ip", true}, {0, "ip", false},
			},
		},
		{
			name: "clock stepping back does not refill",
			cfg:  LimiterConfig{Rate: 1, Burst: 1},
			steps: []step{
				{0, "a", true}, {-time.Hour, "a", false}, {time.Hour, "a", false}, {time.Second, "a", true},
			},
		},
		{
			name:  "zero rate fails closed",
			cfg:   LimiterConfig{Rate: 0, Burst: 5},
			steps: []step{{0, "a", false}, {time.Hour, "a", false}},
		},
		{
			name:  "zero burst fails closed",
			cfg:   LimiterConfig{Rate: 5, Burst: 0},
			steps: []step{{0, "a", false}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clk := &fakeClock{now: time.Unix(1_700_000_000, 0)}
			tt.cfg.Clock = clk.Now
			l := NewLimiter(tt.cfg)
			var got, want []bool
			for _, s := range tt.steps {
				clk.Advance(s.advance)
				got = append(got, l.Allow(s.key))
				want = append(want, s.want)
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("Allow results (-want +got):\n%s", diff)
			}
		})
	}
}

func TestLimiterEviction(t *testing.T) {
	clk := &fakeClock{now: time.Unix(1_700_000_000, 0)}
	l := NewLimiter(LimiterConfig{Rate: 1.0 / 3600, Burst: 1, MaxKeys: 3, Clock: clk.Now})
	for _, k := range []string{"a", "b", "c"} {
		if !l.Allow(k) {
			t.Fatalf("first event of %s refused", k)
		}
	}
	if l.Allow("a") {
		t.Fatal("a allowed twice")
	}
	// "a" was seen last; a fourth key pushes out the least recent, "b".
	if !l.Allow("d") {
		t.Fatal("d refused")
	}
	if len(l.keys) != 3 || l.order.Len() != 3 {
		t.Fatalf("remembers %d keys (list %d), want 3", len(l.keys), l.order.Len())
	}
	if !l.Allow("b") {
		t.Error("evicted key b did not start afresh")
	}
	// Now "c" was evicted for "b"; "a" and "d" are still limited.
	if l.Allow("a") || l.Allow("d") {
		t.Error("a recent key lost its state")
	}

	// Keys whose buckets have refilled are dropped first and make room for
	// many new keys without evicting a limited one.
	clk2 := &fakeClock{now: time.Unix(1_700_000_000, 0)}
	l2 := NewLimiter(LimiterConfig{Rate: 1, Burst: 1, MaxKeys: 100, Clock: clk2.Now})
	for i := range 1000 {
		l2.Allow(fmt.Sprint("idle-", i))
		clk2.Advance(2 * time.Second)
	}
	if n := len(l2.keys); n > 2 {
		t.Errorf("limiter holds %d keys whose buckets were full", n)
	}
	if l2.order.Len() != len(l2.keys) {
		t.Errorf("list (%d) and map (%d) disagree", l2.order.Len(), len(l2.keys))
	}
}

func TestLimiterConcurrent(t *testing.T) {
	clk := &fakeClock{now: time.Unix(1_700_000_000, 0)}
	l := NewLimiter(LimiterConfig{Rate: 1, Burst: 50, MaxKeys: 8, Clock: clk.Now})
	var wg sync.WaitGroup
	var mu sync.Mutex
	allowed := map[string]int{}
	for g := range 8 {
		wg.Go(func() {
			key := fmt.Sprint("k", g%2)
			n := 0
			for range 100 {
				if l.Allow(key) {
					n++
				}
			}
			mu.Lock()
			allowed[key] += n
			mu.Unlock()
		})
	}
	wg.Wait()
	// The clock does not move: each of the two keys gets exactly its burst.
	if diff := cmp.Diff(map[string]int{"k0": 50, "k1": 50}, allowed); diff != "" {
		t.Errorf("allowed per key (-want +got):\n%s", diff)
	}
}

func BenchmarkLimiterAllow(b *testing.B) {
	l := NewLimiter(LimiterConfig{Rate: 1000, Burst: 1000, MaxKeys: 1024})
	keys := make([]string, 4096)
	for i := range keys {
		keys[i] = fmt.Sprint("203.0.113.", i)
	}
	i := 0
	for b.Loop() {
		l.Allow(keys[i%len(keys)])
		i++
	}
}

func TestLockout(t *testing.T) {
	def := LockoutPolicy{}
	tests := []struct {
		name     string
		failures int
		policy   LockoutPolicy
		want     time.Duration
	}{
		{"none", 0, def, 0},
		{"below threshold", 4, def, 0},
		{"at threshold", 5, def, 15 * time.Minute},
		{"one more", 6, def, 30 * time.Minute},
		{"two more", 7, def, time.Hour},
		{"capped", 12, def, 24 * time.Hour},
		{"far beyond", 1 << 40, def, 24 * time.Hour},
		{"negative count", -3, def, 0},
		{"custom", 3, LockoutPolicy{Threshold: 3, Base: time.Minute, Max: 5 * time.Minute}, time.Minute},
		{"custom grows", 5, LockoutPolicy{Threshold: 3, Base: time.Minute, Max: 5 * time.Minute}, 4 * time.Minute},
		{"custom cap not a power of two", 6, LockoutPolicy{Threshold: 3, Base: time.Minute, Max: 5 * time.Minute}, 5 * time.Minute},
		{"base above max", 3, LockoutPolicy{Threshold: 3, Base: time.Hour, Max: time.Minute}, time.Minute},
		{"huge max no overflow", 200, LockoutPolicy{Threshold: 1, Base: time.Second, Max: time.Duration(1<<63 - 1)}, time.Duration(1<<63 - 1)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Lockout(tt.failures, tt.policy); got != tt.want {
				t.Errorf("Lockout(%d) = %v, want %v", tt.failures, got, tt.want)
			}
		})
	}
	if got := DefaultLockoutPolicy(); got != (LockoutPolicy{5, 15 * time.Minute, 24 * time.Hour}) {
		t.Errorf("DefaultLockoutPolicy = %+v", got)
	}
}
