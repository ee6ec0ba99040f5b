package auth

import (
	"container/list"
	"math"
	"sync"
	"time"
)

// LimiterConfig configures a [Limiter].
type LimiterConfig struct {
	// Rate is how many events per second each key earns back; it must be
	// positive. For "10 login attempts a minute" use 10.0/60.
	Rate float64
	// Burst is how many events a key may spend at once, and what a key
	// seen for the first time starts with; it must be at least 1.
	Burst int
	// MaxKeys bounds how many keys are remembered; 0 means 10000. When it
	// is reached, the least recently seen key is forgotten (and so starts
	// again with a full burst), which bounds memory under a flood of keys.
	MaxKeys int
	// Clock returns the current time; nil means time.Now.
	Clock func() time.Time
}

// Limiter is an in-memory rate limiter keyed by string (for example a client
// IP address for login throttling). Each key behaves as a token bucket of
// Burst tokens refilled at Rate per second, computed exactly in integer time
// as the generic cell rate algorithm does (ITU-T I.371): a key remembers only
// the time at which its bucket will be full again. It is safe for concurrent
// use. Its state is per process and lost on restart, which is acceptable for
// throttling; durable counters such as failed-login counts belong to the
// store (see [Lockout]).
type Limiter struct {
	interval time.Duration // time to earn one token
	slack    time.Duration // (Burst-1) intervals: how far ahead a key may run
	refuse   bool          // mis-configured: refuse everything
	maxKeys  int
	clock    func() time.Time

	mu    sync.Mutex
	keys  map[string]*list.Element // of *bucket
	order *list.List               // most recently seen at the front
}

type bucket struct {
	key  string
	full time.Time // when the bucket is full again; at or before now: full
}

// NewLimiter returns a Limiter. A Rate that is not positive and finite or a
// Burst below 1 makes a limiter that refuses every event, so a
// mis-configuration fails closed.
func NewLimiter(cfg LimiterConfig) *Limiter {
	l := &Limiter{
		maxKeys: cfg.MaxKeys,
		clock:   cfg.Clock,
		keys:    make(map[string]*list.Element),
		order:   list.New(),
	}
	if l.maxKeys <= 0 {
		l.maxKeys = 10000
	}
	if l.clock == nil {
		l.clock = time.Now
	}
	if !(cfg.Rate > 0) || math.IsInf(cfg.Rate, 0) || cfg.Burst < 1 {
		l.refuse = true
		return l
	}
	// Cap both durations so that no sum of them can overflow.
	const ceiling = float64(math.MaxInt64 / 4)
	interval := min(math.Round(float64(time.Second)/cfg.Rate), ceiling)
	l.interval = max(time.Duration(interval), 1)
	slack := min(float64(l.interval)*float64(cfg.Burst-1), ceiling)
	l.slack = time.Duration(slack)
	return l
}

// Allow reports whether an event for key may happen now, and if so spends
// one token of key's bucket.
func (l *Limiter) Allow(key string) bool {
	if l.refuse {
		return false
	}
	now := l.clock()
	l.mu.Lock()
	defer l.mu.Unlock()
	var b *bucket
	if e, ok := l.keys[key]; ok {
		b = e.Value.(*bucket)
		l.order.MoveToFront(e)
	} else {
		l.evict(now)
		b = &bucket{key: key, full: now}
		l.keys[key] = l.order.PushFront(b)
	}
	// A clock that steps back only makes the bucket look emptier.
	start := b.full
	if start.Before(now) {
		start = now
	}
	if start.Sub(now) > l.slack {
		return false
	}
	b.full = start.Add(l.interval)
	return true
}

// evict makes room for one new key. Buckets that are full again are
// indistinguishable from new ones and go first, least recently seen first;
// if the table is still full the least recently seen key goes.
func (l *Limiter) evict(now time.Time) {
	for e := l.order.Back(); e != nil && !e.Value.(*bucket).full.After(now); {
		prev := e.Prev()
		l.remove(e)
		e = prev
	}
	for len(l.keys) >= l.maxKeys {
		l.remove(l.order.Back())
	}
}

func (l *Limiter) remove(e *list.Element) {
	delete(l.keys, e.Value.(*bucket).key)
	l.order.Remove(e)
}
