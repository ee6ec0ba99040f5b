package dicomwebhttp

import (
	"mime"
	"net/url"
	"strings"

	"github.com/ern-cpms/cpms/dicomweb"
)

// qido is QIDO-RS at one level. The answer is DICOM JSON (the default, also when no Accept
// header is sent); a page cut short by limit carries a Warning.
func (s *Server) qido(level dicomweb.Level) func(*request) error {
	return func(rq *request) error {
		if !acceptsJSON(rq.r.Header.Values("Accept")) {
			return notAcceptable("QIDO-RS answers application/dicom+json")
		}
		values, err := queryValues(rq.r.URL.RawQuery)
		if err != nil {
			return badRequest("the query string is malformed")
		}
		q, fields, warnings, err := dicomweb.ParseQuery(level, values)
		if err != nil {
			return err
		}
		q.Scope, q.StudyUID, q.SeriesUID = rq.scope, rq.r.PathValue("study"), rq.r.PathValue("series")
		q.Metadata = fields.All || len(fields.Tags) > 0 // else the instances' summaries suffice
		res, err := s.store.Search(rq.ctx, q)
		if err != nil {
			return err
		}
		var (
			out     []dicomweb.Object
			studies []dicomweb.StudyRef
		)
		switch level {
		case dicomweb.LevelStudy:
			for _, h := range res.Studies {
				o, err := dicomweb.StudyJSON(h, fields, rq.base)
				if err != nil {
					return err
				}
				out = append(out, o)
				studies = append(studies, dicomweb.StudyRef{UID: h.StudyUID, PatientRef: h.PatientRef})
			}
		case dicomweb.LevelSeries:
			for _, h := range res.Series {
				o, err := dicomweb.SeriesJSON(h, fields, rq.base)
				if err != nil {
					return err
				}
				out = append(out, o)
				studies = append(studies, dicomweb.StudyRef{UID: h.StudyUID, PatientRef: h.PatientRef})
			}
		default:
			for _, r := range res.Instances {
				o, err := dicomweb.InstanceJSON(r, fields, rq.base)
				if err != nil {
					return err
				}
				out = append(out, o)
				studies = append(studies, dicomweb.StudyRef{UID: r.StudyUID, PatientRef: r.PatientRef})
			}
		}
		if err := s.store.AuditSearch(rq.ctx, rq.p, rq.ri, rq.scope, studies); err != nil {
			return err
		}
		for _, w := range warnings {
			warn(rq.w, w)
		}
		if res.More {
			warn(rq.w, "The number of results exceeded the maximum supported by the server or the limit asked for. Additional results can be requested.")
		}
		rq.w.Header().Set("Content-Type", "application/dicom+json")
		rq.w.Header().Set("Cache-Control", "no-store")
		_, err = rq.w.Write(dicomweb.AppendJSON(make([]byte, 0, 4096), out))
		return err
	}
}

// queryValues parses a query string; includefield values keep their commas whether they came
// percent-encoded or not (url.ParseQuery decodes %2C to ",").
func queryValues(raw string) (url.Values, error) {
	return url.ParseQuery(raw)
}

// acceptsJSON reports whether the Accept header allows DICOM JSON (absent: yes).
func acceptsJSON(accept []string) bool {
	if len(accept) == 0 {
		return true
	}
	for _, h := range accept {
		for _, part := range strings.Split(h, ",") {
			mt, _, err := mime.ParseMediaType(strings.TrimSpace(part))
			if err != nil {
				continue
			}
			switch mt {
			case "application/dicom+json", "application/json", "*/*", "application/*":
				return true
			}
		}
	}
	return false
}
