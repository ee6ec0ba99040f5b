package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ern-cpms/cpms/bench/internal/measure"
)

// target is one DICOMweb server the harness drives.
type target struct {
	name       string // cpms or orthanc
	base       string // the DICOMweb root: studies are at base + "/studies"
	token      string // bearer token; empty for none
	metricsURL string // where the server's process CPU time is read; empty for none
	pid        int    // a process whose CPU time is read from /proc; 0 for none
	setup      *http.Client
}

func (t *target) request(ctx context.Context, method, path string, body io.Reader) (*http.Request, error) {
	req, err := http.NewRequestWithContext(ctx, method, t.base+path, body)
	if err != nil {
		return nil, err
	}
	if t.token != "" {
		req.Header.Set("Authorization", "Bearer "+t.token)
	}
	return req, nil
}

// stowOutcome is what a STOW answer says of one request.
type stowOutcome struct {
	status         int
	stored, failed int
}

// parseStoreResponse reads a PS3.18 Store Instances Response (application/dicom+json): the
// items of ReferencedSOPSequence (0008,1199) and FailedSOPSequence (0008,1198).
func parseStoreResponse(body []byte) (stored, failed int, err error) {
	if len(body) == 0 {
		return 0, 0, errors.New("empty store response")
	}
	var resp map[string]struct {
		Value []json.RawMessage `json:"Value"`
	}
	if err := json.Unmarshal(body, &resp); err != nil {
		// Some servers wrap the dataset in a one-element array.
		var arr []map[string]struct {
			Value []json.RawMessage `json:"Value"`
		}
		if err2 := json.Unmarshal(body, &arr); err2 != nil || len(arr) != 1 {
			return 0, 0, fmt.Errorf("store response is not DICOM JSON: %v", err)
		}
		resp = arr[0]
	}
	return len(resp["00081199"].Value), len(resp["00081198"].Value), nil
}

// sendStow sends one STOW-RS request of the batch, read from its files, and checks the answer:
// 200, as many ReferencedSOPSequence items as instances sent and no FailedSOPSequence.
func sendStow(ctx context.Context, client *http.Client, t *target, batch []instance) (stowOutcome, error) {
	var o stowOutcome
	body, n, err := stowBody(batch)
	if err != nil {
		return o, err
	}
	req, err := t.request(ctx, http.MethodPost, "/studies", body)
	if err != nil {
		body.Close()
		return o, err
	}
	req.ContentLength = n
	req.Header.Set("Content-Type", stowContentType)
	req.Header.Set("Accept", "application/dicom+json")
	resp, err := client.Do(req)
	if err != nil {
		return o, err
	}
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	o.status = resp.StatusCode
	if err != nil {
		return o, err
	}
	if resp.StatusCode != http.StatusOK && resp.StatusCode != http.StatusAccepted && resp.StatusCode != http.StatusConflict {
		return o, nil
	}
	stored, failed, perr := parseStoreResponse(raw)
	if perr != nil {
		return o, perr
	}
	o.stored, o.failed = stored, failed
	if o.stored > len(batch) {
		o.stored = len(batch)
	}
	return o, nil
}

// stow stores the instances with clients concurrent clients, batch instances per request: a
// fixed amount of work, so the window runs until the last instance is answered. First each
// client stores one batch of warm (unmeasured, on the connection it then keeps).
func stow(ctx context.Context, t *target, scenario string, insts, warm []instance, clients, batch int, timeout time.Duration) *result {
	r := &result{scenario: scenario, server: t.name}
	var conns atomic.Int64
	cls := make([]*http.Client, clients)
	for i := range cls {
		tr := measure.NewTransport(timeout, bufs, &conns)
		defer tr.CloseIdleConnections()
		cls[i] = measure.NewClient(tr, timeout)
	}
	warmBatches := batches(warm, batch)
	var wg sync.WaitGroup
	var warmErr atomic.Value
	for i, c := range cls {
		if i >= len(warmBatches) {
			break
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			o, err := sendStow(ctx, c, t, warmBatches[i])
			switch {
			case err != nil:
				warmErr.CompareAndSwap(nil, err.Error())
			case o.status != http.StatusOK:
				warmErr.CompareAndSwap(nil, fmt.Sprintf("warm-up STOW answered %d", o.status))
			}
		}()
	}
	wg.Wait()
	if e, _ := warmErr.Load().(string); e != "" {
		r.note = "warm-up: " + e
	}
	if ctx.Err() != nil {
		r.skipped = "interrupted"
		return r
	}

	work := batches(insts, batch)
	var next atomic.Int64
	type worker struct {
		measure.Tally
		n, items, itemErrs int
		bytes              int64
	}
	workers := make([]worker, clients)
	meter := t.meter()
	meter.Start(ctx)
	from := time.Now()
	for i, c := range cls {
		wg.Add(1)
		go func(w *worker) {
			defer wg.Done()
			for ctx.Err() == nil {
				k := int(next.Add(1)) - 1
				if k >= len(work) {
					return
				}
				b := work[k]
				t0 := time.Now()
				o, err := sendStow(ctx, c, t, b)
				t1 := time.Now()
				w.Last = t1
				switch {
				case err != nil:
					if ctx.Err() != nil {
						return
					}
					w.Fail(err.Error())
					w.itemErrs += len(b)
				case o.status != http.StatusOK:
					w.Status(o.status)
					w.items += o.stored
					w.itemErrs += len(b) - o.stored
					for _, inst := range b[:o.stored] {
						w.bytes += inst.size // which ones were stored is not tracked; sizes are equal
					}
				case o.failed > 0 || o.stored != len(b):
					w.items += o.stored
					w.itemErrs += len(b) - o.stored
					w.Fail(fmt.Sprintf("200 with %d stored and %d failed of %d", o.stored, o.failed, len(b)))
				default:
					w.n++
					w.items += len(b)
					w.bytes += totalSize(b)
					w.Lat = append(w.Lat, t1.Sub(t0))
				}
			}
		}(&workers[i])
	}
	wg.Wait()
	var all measure.Tally
	for i := range workers {
		w := &workers[i]
		all.Add(&w.Tally)
		r.n += w.n
		r.items += w.items
		r.itemErrs += w.itemErrs
		r.bytes += w.bytes
	}
	r.lat, r.errs, r.statuses, r.firstErr, r.elapsed = all.Lat, all.Errs, all.Statuses, all.FirstErr, all.Since(from)
	r.record(meter.Stop(ctx))
	r.conns = conns.Load()
	slices.Sort(r.lat)
	if ctx.Err() != nil {
		r.skipped = "interrupted"
	}
	return r
}
