package dicomwebhttp

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"

	"github.com/ern-cpms/cpms/dicomweb"
	"github.com/ern-cpms/cpms/dicomweb/dcm"
)

// records returns the instances a retrieve names: a study, a series or one instance.
func (s *Server) records(rq *request) ([]dicomweb.InstanceRecord, error) {
	study, series, sop := rq.r.PathValue("study"), rq.r.PathValue("series"), rq.r.PathValue("sop")
	if sop != "" {
		rec, err := s.store.Instance(rq.ctx, rq.scope, study, series, sop)
		if err != nil {
			return nil, err
		}
		return []dicomweb.InstanceRecord{rec}, nil
	}
	return s.store.Instances(rq.ctx, rq.scope, study, series)
}

func (s *Server) auditRead(rq *request, recs []dicomweb.InstanceRecord) error {
	var refs []dicomweb.StudyRef
	for _, r := range recs {
		refs = append(refs, dicomweb.StudyRef{UID: r.StudyUID, PatientRef: r.PatientRef})
	}
	return s.store.Audit(rq.ctx, rq.p, rq.ri, rq.scope, "images.read", refs)
}

// mediaRange is one entry of an Accept header.
type mediaRange struct {
	typ, subtype string // of multipart/related: the type parameter
	ts           string
}

func parseAccept(h []string) []mediaRange {
	var out []mediaRange
	for _, v := range h {
		for _, part := range strings.Split(v, ",") {
			mt, params, err := mime.ParseMediaType(strings.TrimSpace(part))
			if err != nil {
				continue
			}
			out = append(out, mediaRange{typ: mt, subtype: strings.ToLower(params["type"]), ts: params["transfer-syntax"]})
		}
	}
	return out
}

// retrieve is WADO-RS for instances: multipart/related; type="application/dicom". With
// transfer-syntax=* (or none asked, for encapsulated and Explicit VR Little Endian data) each
// instance leaves as stored; Implicit VR and big-endian instances are rewritten as Explicit VR
// Little Endian unless "*" is asked for.
func (s *Server) retrieve(rq *request) error {
	want := ""
	ok := len(rq.r.Header.Values("Accept")) == 0
	for _, m := range parseAccept(rq.r.Header.Values("Accept")) {
		if m.typ == "*/*" || (m.typ == "multipart/related" && (m.subtype == "" || m.subtype == "application/dicom")) {
			ok, want = true, m.ts
			break
		}
	}
	if !ok {
		return notAcceptable(`WADO-RS retrieves instances as multipart/related; type="application/dicom"`)
	}
	recs, err := s.records(rq)
	if err != nil {
		return err
	}
	for _, r := range recs {
		if _, err := chooseSyntax(r.TransferSyntaxUID, want); err != nil {
			return err
		}
	}
	if err := s.auditRead(rq, recs); err != nil {
		return err
	}
	mw := newMultipart(rq.w, "application/dicom")
	for _, r := range recs {
		ts, _ := chooseSyntax(r.TransferSyntaxUID, want)
		pw, err := mw.part("application/dicom; transfer-syntax=" + ts)
		if err != nil {
			return nil // the client went away
		}
		rc, err := s.store.Open(rq.ctx, r)
		if err != nil {
			s.log.Error("dicomweb: a stored instance cannot be read", "scope", rq.scope.String(), "sop", r.SOPUID, "err", err)
			return nil // headers are sent: the client sees the broken multipart
		}
		if ts == r.TransferSyntaxUID {
			_, err = io.Copy(pw, rc)
		} else {
			_, err = dcm.WriteExplicitLE(pw, rc, r.TransferSyntaxUID)
		}
		rc.Close()
		if err != nil {
			s.log.Warn("dicomweb: retrieve stopped", "sop", r.SOPUID, "err", err)
			return nil
		}
	}
	mw.close()
	return nil
}

// chooseSyntax is the transfer syntax an instance stored in stored leaves in when want is
// asked ("" none, "*" any).
func chooseSyntax(stored, want string) (string, error) {
	native := stored == dcm.ImplicitVRLittleEndian || stored == dcm.ExplicitVRBigEndian
	switch {
	case want == "*" || want == stored:
		return stored, nil
	case want == "" || want == dcm.ExplicitVRLittleEndian:
		if native {
			return dcm.ExplicitVRLittleEndian, nil
		}
		if want == "" || stored == dcm.ExplicitVRLittleEndian {
			return stored, nil
		}
	}
	return "", notAcceptable("an instance is stored in transfer syntax " + stored + " and cannot be converted to " + want +
		`; ask for transfer-syntax=*`)
}

// metadata is WADO-RS metadata: the precomputed DICOM JSON of each instance, never re-read from
// the instances.
func (s *Server) metadata(rq *request) error {
	if !acceptsJSON(rq.r.Header.Values("Accept")) {
		return notAcceptable("metadata is served as application/dicom+json")
	}
	recs, err := s.records(rq)
	if err != nil {
		return err
	}
	if err := s.auditRead(rq, recs); err != nil {
		return err
	}
	var b bytes.Buffer
	b.WriteByte('[')
	for i, r := range recs {
		if i > 0 {
			b.WriteByte(',')
		}
		b.Write(dicomweb.Metadata(r, rq.base+"/studies/"+r.StudyUID+"/series/"+r.SeriesUID+"/instances/"+r.SOPUID))
	}
	b.WriteByte(']')
	rq.w.Header().Set("Content-Type", "application/dicom+json")
	rq.w.Header().Set("Cache-Control", "private, max-age=0, must-revalidate")
	_, err = rq.w.Write(b.Bytes())
	return err
}

// instanceLayout is the instance the path names, with its pixel and bulk data layout.
func (s *Server) instanceLayout(rq *request) (dicomweb.InstanceRecord, dicomweb.Layout, error) {
	rec, err := s.store.Instance(rq.ctx, rq.scope, rq.r.PathValue("study"), rq.r.PathValue("series"), rq.r.PathValue("sop"))
	if err != nil {
		return rec, dicomweb.Layout{}, err
	}
	layout, err := dicomweb.LayoutOf(rec)
	return rec, layout, err
}

// frames is WADO-RS frames: one part per frame asked for, in the order asked.
func (s *Server) frames(rq *request) error {
	rec, layout, err := s.instanceLayout(rq)
	if err != nil {
		return err
	}
	p := layout.Pixel
	if p == nil {
		return &httpError{status: http.StatusNotFound, msg: "the instance has no pixel data"}
	}
	nums, err := frameList(rq.r.PathValue("frames"), p)
	if err != nil {
		return err
	}
	ok := len(rq.r.Header.Values("Accept")) == 0
	for _, m := range parseAccept(rq.r.Header.Values("Accept")) {
		if m.typ == "*/*" || (m.typ == "multipart/related" && (m.subtype == "" || m.subtype == "application/octet-stream" ||
			(p.Encapsulated && strings.HasPrefix(m.subtype, "image/")))) {
			if p.Encapsulated && m.ts != "*" && m.ts != rec.TransferSyntaxUID && m.subtype == "application/octet-stream" {
				continue
			}
			ok = true
			break
		}
	}
	if !ok {
		return notAcceptable(`frames are served as multipart/related; type="application/octet-stream"; transfer-syntax=*`)
	}
	if p.BitsAllocated == 1 {
		return notAcceptable("frames of 1-bit data are not served one by one; retrieve the instance")
	}
	if err := s.auditRead(rq, []dicomweb.InstanceRecord{rec}); err != nil {
		return err
	}
	ts := rec.TransferSyntaxUID
	if !p.Encapsulated {
		ts = dcm.ExplicitVRLittleEndian
	}
	mw := newMultipart(rq.w, "application/octet-stream")
	for _, n := range nums {
		pw, err := mw.part("application/octet-stream; transfer-syntax=" + ts)
		if err != nil {
			return nil
		}
		if err := s.writeFrame(rq, rec, p, n, pw); err != nil {
			s.log.Warn("dicomweb: frame retrieve stopped", "sop", rec.SOPUID, "err", err)
			return nil
		}
	}
	mw.close()
	return nil
}

func frameList(s string, p *dcm.Pixel) ([]int, error) {
	var out []int
	for _, f := range strings.Split(s, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 1 {
			return nil, badRequest("frame numbers are whole numbers from 1, separated by commas")
		}
		total := p.NumberOfFrames
		if p.Encapsulated {
			total = len(p.Frames)
		}
		if n > total {
			return nil, &httpError{status: http.StatusNotFound, msg: fmt.Sprintf("the instance has %d frames", total)}
		}
		out = append(out, n)
	}
	return out, nil
}

// writeFrame copies frame n (from 1) of an instance to w: for native data the frame's bytes in
// little-endian order, for encapsulated data its fragments.
func (s *Server) writeFrame(rq *request, rec dicomweb.InstanceRecord, p *dcm.Pixel, n int, w io.Writer) error {
	if p.Encapsulated {
		for _, f := range p.Frames[n-1] {
			if err := s.copyRange(rq, rec, f.Offset, f.Length, w, false, 0); err != nil {
				return err
			}
		}
		return nil
	}
	return s.copyRange(rq, rec, p.Offset+int64(n-1)*p.FrameLength, p.FrameLength, w, p.BigEndian, p.BitsAllocated)
}

func (s *Server) copyRange(rq *request, rec dicomweb.InstanceRecord, off, length int64, w io.Writer, swap bool, bits int) error {
	rc, err := s.store.OpenRange(rq.ctx, rec, off, length)
	if err != nil {
		return err
	}
	defer rc.Close()
	if !swap || bits <= 8 {
		_, err = io.Copy(w, rc)
		return err
	}
	size := bits / 8
	buf := make([]byte, 64<<10/size*size)
	for {
		n, err := io.ReadFull(rc, buf)
		for i := 0; i+size <= n; i += size {
			for a, b := i, i+size-1; a < b; a, b = a+1, b-1 {
				buf[a], buf[b] = buf[b], buf[a]
			}
		}
		if _, werr := w.Write(buf[:n]); werr != nil {
			return werr
		}
		if err == io.EOF || err == io.ErrUnexpectedEOF {
			return nil
		}
		if err != nil {
			return err
		}
	}
}

// bulkdata serves one bulk value named by its path in the instance's metadata.
func (s *Server) bulkdata(rq *request) error {
	rec, layout, err := s.instanceLayout(rq)
	if err != nil {
		return err
	}
	path := rq.r.PathValue("path")
	for _, b := range layout.Bulk {
		if b.Path != path {
			continue
		}
		if err := s.auditRead(rq, []dicomweb.InstanceRecord{rec}); err != nil {
			return err
		}
		mw := newMultipart(rq.w, "application/octet-stream")
		if b.Encapsulated && layout.Pixel != nil {
			for i := range layout.Pixel.Frames {
				pw, err := mw.part("application/octet-stream; transfer-syntax=" + rec.TransferSyntaxUID)
				if err != nil {
					return nil
				}
				if err := s.writeFrame(rq, rec, layout.Pixel, i+1, pw); err != nil {
					return nil
				}
			}
			mw.close()
			return nil
		}
		pw, err := mw.part("application/octet-stream")
		if err != nil {
			return nil
		}
		if err := s.copyRange(rq, rec, b.Offset, b.Length, pw, b.BigEndian, bulkBits(b.VR)); err != nil {
			return nil
		}
		mw.close()
		return nil
	}
	return &httpError{status: http.StatusNotFound, msg: "the instance has no bulk data at this path"}
}

func bulkBits(vr string) int {
	switch vr {
	case "OW":
		return 16
	case "OF", "OL":
		return 32
	case "OD", "OV":
		return 64
	}
	return 8
}

// deleteStudy removes a study from the scope (audited).
func (s *Server) deleteStudy(rq *request) error {
	n, err := s.store.DeleteStudy(rq.ctx, rq.p, rq.ri, rq.scope, rq.r.PathValue("study"))
	if err != nil {
		return err
	}
	rq.w.Header().Set("Content-Type", "application/json")
	fmt.Fprintf(rq.w, "{\"deletedInstances\":%d}\n", n)
	return nil
}

// multipartWriter writes multipart/related; type=… with one part per object, streaming.
type multipartWriter struct {
	w        io.Writer
	boundary string
	started  bool
}

func newMultipart(w http.ResponseWriter, typ string) *multipartWriter {
	b := make([]byte, 16)
	rand.Read(b)
	m := &multipartWriter{w: w, boundary: "cpms-" + hex.EncodeToString(b)}
	w.Header().Set("Content-Type", fmt.Sprintf(`multipart/related; type="%s"; boundary=%s`, typ, m.boundary))
	return m
}

func (m *multipartWriter) part(contentType string) (io.Writer, error) {
	var b bytes.Buffer
	if m.started {
		b.WriteString("\r\n")
	}
	m.started = true
	b.WriteString("--" + m.boundary + "\r\nContent-Type: " + contentType + "\r\n\r\n")
	_, err := m.w.Write(b.Bytes())
	return m.w, err
}

func (m *multipartWriter) close() {
	if m.started {
		io.WriteString(m.w, "\r\n")
	}
	io.WriteString(m.w, "--"+m.boundary+"--\r\n")
}
