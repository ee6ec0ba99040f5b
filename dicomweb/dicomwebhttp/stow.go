package dicomwebhttp

import (
	"bufio"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"strings"

	"github.com/ern-cpms/cpms/dicomweb"
	"github.com/ern-cpms/cpms/dicomweb/dcm"
)

// commitBatch is how many instances of a request are indexed in one transaction.
const commitBatch = 64

// stow is STOW-RS: a multipart/related request of application/dicom parts, each stored or
// refused on its own, answered with the PS3.18 store response (200 all stored, 202 some, 409
// none). Parts stream from the request to the blob store; the request is never held whole.
func (s *Server) stow(rq *request) error {
	mt, params, err := mime.ParseMediaType(rq.r.Header.Get("Content-Type"))
	if err != nil || mt != "multipart/related" {
		return &httpError{status: http.StatusUnsupportedMediaType,
			msg: `STOW-RS takes multipart/related; type="application/dicom"`}
	}
	if t := strings.ToLower(params["type"]); t != "" && t != "application/dicom" {
		return &httpError{status: http.StatusUnsupportedMediaType,
			msg: "this server stores application/dicom parts only (type=" + params["type"] + ")"}
	}
	if params["boundary"] == "" {
		return badRequest("the multipart request has no boundary")
	}
	study := rq.r.PathValue("study")
	// A large buffer under the multipart reader (whose own is 4 KiB) reads the connection in
	// large chunks rather than a few kilobytes at a time.
	mr := multipart.NewReader(bufio.NewReaderSize(rq.r.Body, 1<<20), params["boundary"])
	var (
		outcomes []dicomweb.Outcome
		staged   []dicomweb.Staged
	)
	// Accepted instances are indexed a batch at a time, in one transaction each; their bytes are
	// durable in the blob store before.
	commit := func() error {
		if len(staged) == 0 {
			return nil
		}
		outs, err := s.store.Commit(rq.ctx, staged)
		staged = staged[:0]
		if err != nil {
			return err
		}
		outcomes = append(outcomes, outs...)
		return nil
	}
	for {
		part, err := mr.NextRawPart()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			if len(outcomes)+len(staged) == 0 {
				return badRequest("the multipart body could not be read: " + safeErr(err))
			}
			break // a broken tail: answer for the parts read so far
		}
		if ct, _, _ := mime.ParseMediaType(part.Header.Get("Content-Type")); ct != "" && ct != "application/dicom" {
			io.Copy(io.Discard, part)
			staged = append(staged, dicomweb.Staged{Outcome: dicomweb.Outcome{Failed: true, Reason: dcm.ReasonCannotUnderstand,
				Message: "a part of type " + ct + " is not a DICOM instance"}})
			continue
		}
		st, err := s.store.Stage(rq.ctx, rq.scope, study, part)
		part.Close()
		if err != nil {
			s.store.Discard(staged)
			return err
		}
		staged = append(staged, st)
		if len(staged) >= commitBatch {
			if err := commit(); err != nil {
				return err
			}
		}
	}
	if err := commit(); err != nil {
		return err
	}
	if len(outcomes) == 0 {
		return badRequest("the request holds no instance")
	}
	if err := s.store.AfterStore(rq.ctx, rq.p, rq.ri, rq.scope, outcomes); err != nil {
		return err
	}
	return writeStoreResponse(rq, study, outcomes)
}

func safeErr(err error) string {
	if strings.Contains(err.Error(), "EOF") {
		return "it ended before its closing boundary"
	}
	return "malformed"
}

// writeStoreResponse writes the PS3.18 Store Instances Response.
func writeStoreResponse(rq *request, study string, outcomes []dicomweb.Outcome) error {
	var stored, failed []map[string]any
	studies := map[string]bool{}
	var warnings []string
	for _, o := range outcomes {
		item := map[string]any{}
		if o.SOPClassUID != "" {
			item["00081150"] = uiValue(o.SOPClassUID)
		}
		if o.SOPInstanceUID != "" {
			item["00081155"] = uiValue(o.SOPInstanceUID)
		}
		if o.Failed {
			item["00081197"] = map[string]any{"vr": "US", "Value": []int{int(o.Reason)}}
			failed = append(failed, item)
			warnings = append(warnings, o.Message)
			continue
		}
		studies[o.StudyUID] = true
		item["00081190"] = map[string]any{"vr": "UR", "Value": []string{rq.base + "/studies/" + o.StudyUID + "/series/" +
			o.SeriesUID + "/instances/" + o.SOPInstanceUID}}
		if o.Warning != "" {
			warnings = append(warnings, o.Warning)
		}
		stored = append(stored, item)
	}
	resp := map[string]any{}
	switch {
	case study != "":
		resp["00081190"] = map[string]any{"vr": "UR", "Value": []string{rq.base + "/studies/" + study}}
	case len(studies) == 1:
		for uid := range studies {
			resp["00081190"] = map[string]any{"vr": "UR", "Value": []string{rq.base + "/studies/" + uid}}
		}
	}
	if len(stored) > 0 {
		resp["00081199"] = map[string]any{"vr": "SQ", "Value": stored}
	}
	if len(failed) > 0 {
		resp["00081198"] = map[string]any{"vr": "SQ", "Value": failed}
	}
	status := http.StatusOK
	switch {
	case len(stored) == 0:
		status = http.StatusConflict
	case len(failed) > 0:
		status = http.StatusAccepted
	}
	seen := map[string]bool{}
	for _, w := range warnings {
		if !seen[w] {
			seen[w] = true
			warn(rq.w, w)
		}
	}
	b, err := json.Marshal(resp)
	if err != nil {
		return err
	}
	rq.w.Header().Set("Content-Type", "application/dicom+json")
	rq.w.WriteHeader(status)
	_, err = rq.w.Write(b)
	return err
}

func uiValue(uid string) map[string]any { return map[string]any{"vr": "UI", "Value": []string{uid}} }
