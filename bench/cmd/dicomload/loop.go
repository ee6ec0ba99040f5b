package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"mime"
	"mime/multipart"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// loop is a closed loop: clients clients, each with its own transport and so its own
// keep-alive connection, each sending its next request as soon as the last one is answered,
// for warmup unmeasured and then duration measured.
type loop struct {
	clients          int
	warmup, duration time.Duration
	timeout          time.Duration
	kinds            []string // names of the request kinds, for latencies by kind
	// next builds client i's next request and says which kind it is.
	next func(ctx context.Context, i int, rng *rand.Rand) (*http.Request, int, error)
}

type loopWorker struct {
	lat      []time.Duration
	kindLat  [][]time.Duration
	errs     int
	bytes    int64
	last     time.Time
	statuses map[int]int
	firstErr string
}

func (w *loopWorker) fail(msg string) {
	w.errs++
	if w.firstErr == "" {
		w.firstErr = msg
	}
}

func (l *loop) run(ctx context.Context, t *target, scenario string) *result {
	r := &result{scenario: scenario, server: t.name}
	var conns atomic.Int64
	start := time.Now()
	from := start.Add(l.warmup)
	until := from.Add(l.duration)
	meter := cpuMeter{t: t}
	workers := make([]loopWorker, l.clients)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		tm := time.NewTimer(time.Until(from))
		defer tm.Stop()
		select {
		case <-tm.C:
			meter.start(ctx)
		case <-ctx.Done():
		}
	}()
	for i := range workers {
		wg.Add(1)
		go func(i int, w *loopWorker) {
			defer wg.Done()
			tr := newTransport(l.timeout, &conns)
			defer tr.CloseIdleConnections()
			client := newClient(tr, l.timeout)
			rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), uint64(i)))
			buf := make([]byte, 256<<10)
			w.lat = make([]time.Duration, 0, 1<<14)
			w.kindLat = make([][]time.Duration, len(l.kinds))
			for ctx.Err() == nil {
				req, kind, err := l.next(ctx, i, rng)
				if err != nil {
					w.fail(err.Error())
					return
				}
				t0 := time.Now()
				if !t0.Before(until) {
					return
				}
				status, n, err := drain(client, req, buf)
				t1 := time.Now()
				if t0.Before(from) {
					continue
				}
				w.last = t1
				switch {
				case err != nil:
					if ctx.Err() != nil {
						return
					}
					w.fail(err.Error())
				case status != http.StatusOK:
					w.errs++
					if w.statuses == nil {
						w.statuses = map[int]int{}
					}
					w.statuses[status]++
				default:
					w.lat = append(w.lat, t1.Sub(t0))
					if kind < len(w.kindLat) {
						w.kindLat[kind] = append(w.kindLat[kind], t1.Sub(t0))
					}
					w.bytes += n
				}
			}
		}(i, &workers[i])
	}
	wg.Wait()
	meter.stop(ctx, r)
	r.conns = conns.Load()
	var last time.Time
	kinds := make([][]time.Duration, len(l.kinds))
	for i := range workers {
		w := &workers[i]
		r.lat = append(r.lat, w.lat...)
		for k := range kinds {
			kinds[k] = append(kinds[k], w.kindLat[k]...)
		}
		r.errs += w.errs
		r.bytes += w.bytes
		if w.last.After(last) {
			last = w.last
		}
		for c, k := range w.statuses {
			if r.statuses == nil {
				r.statuses = map[int]int{}
			}
			r.statuses[c] += k
		}
		if r.firstErr == "" {
			r.firstErr = w.firstErr
		}
	}
	r.n = len(r.lat)
	sortLat(r.lat)
	if len(l.kinds) > 1 {
		for k, name := range l.kinds {
			r.kinds = append(r.kinds, kindLat{name: name, lat: sortLat(kinds[k])})
		}
	}
	if !last.IsZero() {
		r.elapsed = last.Sub(from)
	}
	if ctx.Err() != nil {
		r.skipped = "interrupted"
	}
	return r
}

// drain sends req and reads the whole answer into buf, over and over, counting its bytes.
func drain(client *http.Client, req *http.Request, buf []byte) (int, int64, error) {
	resp, err := client.Do(req)
	if err != nil {
		return 0, 0, err
	}
	defer resp.Body.Close()
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

// qidoKinds are the queries of the qido mix, sent in equal shares in random order.
var qidoKinds = []string{"name", "uid", "series", "instances", "date"}

// qidoQuery is query kind of the mix against a random study of the set: a wildcard on the
// patient name that matches ten patients of this run, a study by UID, the series and the
// instances of a study, and the studies of a modality and a date range (capped by limit).
func qidoQuery(kind int, set *studySet, rng *rand.Rand, limit int) string {
	s := rng.IntN(len(set.studies))
	study := set.studies[s]
	switch qidoKinds[kind] {
	case "name":
		// Commas and '*' are left as they are: Orthanc ignores percent-encoded ones.
		return fmt.Sprintf("/studies?PatientName=Testpatient%d*", set.patients[s]/10)
	case "uid":
		return "/studies?StudyInstanceUID=" + url.QueryEscape(study)
	case "series":
		return "/studies/" + study + "/series"
	case "instances":
		return "/studies/" + study + "/instances"
	}
	q := "/studies?ModalitiesInStudy=CT&StudyDate=20240101-20241231"
	if limit > 0 {
		q += fmt.Sprintf("&limit=%d", limit)
	}
	return q
}

// qidoCheck sends each kind of query once and returns how many results each
// gave; a query without a result is an error (the data are not there or not found).
func qidoCheck(ctx context.Context, t *target, set *studySet, limit int) (string, error) {
	var parts []string
	rng := rand.New(rand.NewPCG(1, 2))
	for k, name := range qidoKinds {
		req, err := t.request(ctx, http.MethodGet, qidoQuery(k, set, rng, limit), nil)
		if err != nil {
			return "", err
		}
		req.Header.Set("Accept", "application/dicom+json")
		resp, err := t.setup.Do(req)
		if err != nil {
			return "", err
		}
		raw, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			return "", err
		}
		if resp.StatusCode != http.StatusOK {
			return "", fmt.Errorf("query %s (%s) answered %d: %.200s", name, req.URL.RequestURI(), resp.StatusCode, raw)
		}
		var items []json.RawMessage
		if err := json.Unmarshal(raw, &items); err != nil {
			return "", fmt.Errorf("query %s: the answer is not a JSON array: %v", name, err)
		}
		if len(items) == 0 {
			return "", fmt.Errorf("query %s (%s) found nothing", name, req.URL.RequestURI())
		}
		parts = append(parts, fmt.Sprintf("%s %d", name, len(items)))
	}
	return "results: " + strings.Join(parts, ", "), nil
}

// wadoAccept asks for the instances as they were stored.
const wadoAccept = `multipart/related; type="application/dicom"; transfer-syntax=*`

// wadoCheck retrieves the study once and counts its parts and their bytes.
func wadoCheck(ctx context.Context, t *target, study string, want int) (string, error) {
	req, err := t.request(ctx, http.MethodGet, "/studies/"+study, nil)
	if err != nil {
		return "", err
	}
	req.Header.Set("Accept", wadoAccept)
	resp, err := t.setup.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		raw, _ := io.ReadAll(io.LimitReader(resp.Body, 300))
		return "", fmt.Errorf("retrieve answered %d: %s", resp.StatusCode, bytes.TrimSpace(raw))
	}
	parts, size, err := countParts(resp.Header.Get("Content-Type"), resp.Body)
	if err != nil {
		return "", err
	}
	if parts != want {
		return "", fmt.Errorf("retrieve gave %d instances, want %d", parts, want)
	}
	return fmt.Sprintf("%d instances, %s MB each retrieve", parts, sig(float64(size)/1e6)), nil
}

// countParts reads a multipart/related body and counts its parts and their bytes; every part
// must be a Part 10 file.
func countParts(contentType string, body io.Reader) (int, int64, error) {
	mt, params, err := mime.ParseMediaType(contentType)
	if err != nil || mt != "multipart/related" || params["boundary"] == "" {
		return 0, 0, fmt.Errorf("retrieve answered %q, not multipart/related", contentType)
	}
	mr := multipart.NewReader(body, params["boundary"])
	var n int
	var size int64
	head := make([]byte, 132)
	for {
		p, err := mr.NextRawPart()
		if err == io.EOF {
			return n, size, nil
		}
		if err != nil {
			return n, size, err
		}
		k, err := io.ReadFull(p, head)
		if err != nil || string(head[128:132]) != "DICM" {
			return n, size, fmt.Errorf("part %d is not a Part 10 file", n+1)
		}
		rest, err := io.Copy(io.Discard, p)
		if err != nil {
			return n, size, err
		}
		n++
		size += int64(k) + rest
	}
}
