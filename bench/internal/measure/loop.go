package measure

import (
	"context"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// Buffers are the write and read buffer sizes of a transport; zero ones are net/http's.
type Buffers struct{ Write, Read int }

// NewTransport is one client's transport: one keep-alive connection, each dial counted in
// conns when it is not nil.
func NewTransport(timeout time.Duration, bufs Buffers, conns *atomic.Int64) *http.Transport {
	dialer := &net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}
	return &http.Transport{
		Proxy: nil,
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			if conns != nil {
				conns.Add(1)
			}
			return dialer.DialContext(ctx, network, addr)
		},
		MaxIdleConns:          1,
		MaxIdleConnsPerHost:   1,
		MaxConnsPerHost:       1,
		IdleConnTimeout:       90 * time.Second,
		ResponseHeaderTimeout: timeout,
		DisableCompression:    true,
		WriteBufferSize:       bufs.Write,
		ReadBufferSize:        bufs.Read,
	}
}

// NewClient is a client over tr that does not follow redirects.
func NewClient(tr *http.Transport, timeout time.Duration) *http.Client {
	return &http.Client{Transport: tr, Timeout: timeout,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

// Do sends req and reads the whole answer, so that the connection is reused.
func Do(client *http.Client, req *http.Request) (int, error) {
	status, _, err := Drain(client, req, nil)
	return status, err
}

// Drain sends req and reads the whole answer into buf, over and over, counting its bytes; with
// no buf it reads through io.Discard.
func Drain(client *http.Client, req *http.Request, buf []byte) (int, int64, error) {
	resp, err := client.Do(req)
	if err != nil {
		return 0, 0, err
	}
	defer resp.Body.Close()
	if buf == nil {
		n, err := io.Copy(io.Discard, resp.Body)
		return resp.StatusCode, n, err
	}
	var n int64
	for {
		k, err := resp.Body.Read(buf)
		n += int64(k)
		if err == io.EOF {
			return resp.StatusCode, n, nil
		}
		if err != nil {
			return resp.StatusCode, n, err
		}
	}
}

// Tally is what one client saw in a measured window.
type Tally struct {
	Lat      []time.Duration // latencies of the answers as expected
	Errs     int             // failed requests
	Last     time.Time       // when the last answer came
	Statuses map[int]int     // unexpected status codes
	FirstErr string
}

// Fail counts a failed request.
func (t *Tally) Fail(msg string) {
	t.Errs++
	if t.FirstErr == "" {
		t.FirstErr = msg
	}
}

// Status counts an answer with an unexpected status code.
func (t *Tally) Status(code int) {
	t.Errs++
	if t.Statuses == nil {
		t.Statuses = map[int]int{}
	}
	t.Statuses[code]++
}

// Add adds another client's tally to this one; the latencies are left unsorted.
func (t *Tally) Add(o *Tally) {
	t.Lat = append(t.Lat, o.Lat...)
	t.Errs += o.Errs
	if o.Last.After(t.Last) {
		t.Last = o.Last
	}
	for c, k := range o.Statuses {
		if t.Statuses == nil {
			t.Statuses = map[int]int{}
		}
		t.Statuses[c] += k
	}
	if t.FirstErr == "" {
		t.FirstErr = o.FirstErr
	}
}

// Since is the time from a window's start to the last answer; 0 if none came.
func (t *Tally) Since(from time.Time) time.Duration {
	if t.Last.IsZero() {
		return 0
	}
	return t.Last.Sub(from)
}

// Loop is a closed loop: Clients clients, each with its own transport and so its own keep-alive
// connection, each sending its next request as soon as the last one is answered, for Warmup
// unmeasured and then Duration measured. An answer is as expected when its status is 200.
type Loop struct {
	Clients                   int
	Warmup, Duration, Timeout time.Duration
	Buffers                   Buffers  // of each client's transport
	ReadBuf                   int      // bytes each client reads of an answer at a time; 0: through io.Discard
	Kinds                     []string // names of the request kinds, for latencies by kind (two or more)
	// First, if set, builds client i's first request before any client starts; an error ends
	// the run before it begins (Outcome.Skipped). Without Next that request is sent again and
	// again, so it has no body.
	First func(ctx context.Context, i int) (*http.Request, error)
	// Next builds client i's next request (also its first, without First) and says which of
	// Kinds it is. It runs outside the timed part of the loop; an error stops the client.
	Next func(ctx context.Context, i int, rng *rand.Rand) (*http.Request, int, error)
	// AtWindow, if set, is called when the measured window opens, while the clients run.
	AtWindow func()
	// AtEnd, if set, is called as soon as the clients have stopped.
	AtEnd func()
}

// Outcome is what a Loop measured in its window.
type Outcome struct {
	Tally                 // of all clients; Lat sorted
	N       int           // answers as expected
	Elapsed time.Duration // from the window's start to the last answer
	Kinds   []KindLat     // latencies by kind, with two kinds or more
	Bytes   int64         // body bytes of the answers as expected
	Conns   int64         // connections the clients opened
	Skipped string        // why the loop could not run
}

// KindLat are the latencies of one kind of request.
type KindLat struct {
	Name string
	Lat  []time.Duration // sorted
}

type client struct {
	Tally
	kinds [][]time.Duration
	bytes int64
}

// Run runs the loop until its window ends or ctx is done.
func (l *Loop) Run(ctx context.Context) *Outcome {
	o := &Outcome{}
	var first []*http.Request
	if l.First != nil {
		first = make([]*http.Request, l.Clients)
		for i := range first {
			req, err := l.First(ctx, i)
			if err != nil {
				o.Skipped = err.Error()
				return o
			}
			first[i] = req
		}
	}
	var conns atomic.Int64
	from := time.Now().Add(l.Warmup)
	until := from.Add(l.Duration)
	clients := make([]client, l.Clients)
	var wg sync.WaitGroup
	if l.AtWindow != nil {
		wg.Add(1)
		go func() {
			defer wg.Done()
			t := time.NewTimer(time.Until(from))
			defer t.Stop()
			select {
			case <-t.C:
				l.AtWindow()
			case <-ctx.Done():
			}
		}()
	}
	for i := range clients {
		wg.Add(1)
		go func(i int, c *client) {
			defer wg.Done()
			tr := NewTransport(l.Timeout, l.Buffers, &conns)
			defer tr.CloseIdleConnections()
			var req *http.Request
			if first != nil {
				req = first[i]
			}
			l.client(ctx, NewClient(tr, l.Timeout), i, req, c, from, until)
		}(i, &clients[i])
	}
	wg.Wait()
	if l.AtEnd != nil {
		l.AtEnd()
	}
	o.Conns = conns.Load()
	kinds := make([][]time.Duration, len(l.Kinds))
	for i := range clients {
		c := &clients[i]
		o.Add(&c.Tally)
		for k := range kinds {
			kinds[k] = append(kinds[k], c.kinds[k]...)
		}
		o.Bytes += c.bytes
	}
	slices.Sort(o.Lat)
	o.N = len(o.Lat)
	if len(l.Kinds) > 1 {
		for k, name := range l.Kinds {
			slices.Sort(kinds[k])
			o.Kinds = append(o.Kinds, KindLat{Name: name, Lat: kinds[k]})
		}
	}
	o.Elapsed = o.Since(from)
	return o
}

// client runs client i: req, when not nil, is its first request.
func (l *Loop) client(ctx context.Context, hc *http.Client, i int, req *http.Request, c *client, from, until time.Time) {
	var rng *rand.Rand
	if l.Next != nil {
		rng = rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), uint64(i)))
	}
	var buf []byte
	if l.ReadBuf > 0 {
		buf = make([]byte, l.ReadBuf)
	}
	c.Lat = make([]time.Duration, 0, 1<<14)
	c.kinds = make([][]time.Duration, len(l.Kinds))
	prebuilt := req != nil
	for first := true; ctx.Err() == nil; first = false {
		kind := 0
		if l.Next != nil && !(first && prebuilt) {
			var err error
			if req, kind, err = l.Next(ctx, i, rng); err != nil {
				c.Fail(err.Error())
				return
			}
		}
		t0 := time.Now()
		if !t0.Before(until) {
			return
		}
		status, n, err := Drain(hc, req, buf)
		t1 := time.Now()
		if t0.Before(from) {
			continue
		}
		c.Last = t1
		switch {
		case err != nil:
			if ctx.Err() != nil {
				return
			}
			c.Fail(err.Error())
		case status != http.StatusOK:
			c.Status(status)
		default:
			c.Lat = append(c.Lat, t1.Sub(t0))
			if kind < len(c.kinds) {
				c.kinds[kind] = append(c.kinds[kind], t1.Sub(t0))
			}
			c.bytes += n
		}
	}
}
