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

	"github.com/ern-cpms/cpms/bench/internal/measure"
)

// bufs are the buffers of every client's transport: large bodies go out and come in.
var bufs = measure.Buffers{Write: 256 << 10, Read: 64 << 10}

// runLoop drives t with l, a closed loop whose clients read each answer 256 KiB at a time, and
// reports it as the scenario given.
func runLoop(ctx context.Context, t *target, scenario string, l *measure.Loop) *result {
	r := &result{scenario: scenario, server: t.name}
	meter := t.meter()
	l.Buffers, l.ReadBuf = bufs, 256<<10
	l.AtWindow = func() { meter.Start(ctx) }
	l.AtEnd = func() { r.record(meter.Stop(ctx)) }
	o := l.Run(ctx)
	r.n, r.errs, r.elapsed, r.lat, r.kinds, r.bytes = o.N, o.Errs, o.Elapsed, o.Lat, o.Kinds, o.Bytes
	r.conns, r.statuses, r.firstErr = o.Conns, o.Statuses, o.FirstErr
	if ctx.Err() != nil {
		r.skipped = "interrupted"
	}
	return r
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
