package dicomwebhttp

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/ern-cpms/cpms/dicomweb"
	"github.com/ern-cpms/cpms/dicomweb/dcm"
)

// Rendered and thumbnail resources (PS3.18 8.3.5 / 8.3.6): one frame as JPEG (the default) or
// PNG, for monochrome and colour native data and JPEG baseline; anything else is a 406 that
// says why. Query parameters: window=center,width[,function], viewport=width,height, quality.

// renderFormat picks the image type from the Accept header (the first one supported).
func renderFormat(accept []string) (string, error) {
	if len(accept) == 0 {
		return "image/jpeg", nil
	}
	for _, m := range parseAccept(accept) {
		switch m.typ {
		case "image/jpeg", "image/png":
			return m.typ, nil
		case "*/*", "image/*":
			return "image/jpeg", nil
		}
	}
	return "", notAcceptable("rendered images are image/jpeg or image/png")
}

func renderOptions(rq *request, format string, thumbnail bool) (dcm.RenderOptions, error) {
	q := rq.r.URL.Query()
	opt := dcm.RenderOptions{Format: format}
	if thumbnail {
		opt.Width, opt.Height = 128, 128
	}
	if v := q.Get("window"); v != "" {
		parts := strings.Split(v, ",")
		if len(parts) < 2 || len(parts) > 3 {
			return opt, badRequest("window is center,width[,function]")
		}
		c, err1 := strconv.ParseFloat(parts[0], 64)
		w, err2 := strconv.ParseFloat(parts[1], 64)
		if err1 != nil || err2 != nil || w < 1 {
			return opt, badRequest("window is center,width[,function] with a width of at least 1")
		}
		if len(parts) == 3 && !strings.EqualFold(parts[2], "linear") {
			return opt, badRequest("only the linear window function is supported")
		}
		opt.WindowCenter, opt.WindowWidth = &c, &w
	}
	if v := q.Get("viewport"); v != "" {
		parts := strings.Split(v, ",")
		w, err1 := strconv.Atoi(parts[0])
		h := w
		var err2 error
		if len(parts) > 1 {
			h, err2 = strconv.Atoi(parts[1])
		}
		if err1 != nil || err2 != nil || w < 1 || h < 1 || w > 4096 || h > 4096 {
			return opt, badRequest("viewport is width,height in pixels (1 to 4096)")
		}
		opt.Width, opt.Height = w, h
	}
	if v := q.Get("quality"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 100 {
			return opt, badRequest("quality is 1 to 100")
		}
		opt.Quality = n
	}
	return opt, nil
}

// rendered serves …/instances/{sop}/rendered (frame 1), …/frames/{n}/rendered and, with
// thumbnail, the thumbnails of an instance, a series or a study (their middle instance).
func (s *Server) rendered(thumbnail bool) func(*request) error {
	return func(rq *request) error {
		format, err := renderFormat(rq.r.Header.Values("Accept"))
		if err != nil {
			return err
		}
		opt, err := renderOptions(rq, format, thumbnail)
		if err != nil {
			return err
		}
		rec, err := s.representative(rq)
		if err != nil {
			return err
		}
		frame := 1
		if f := rq.r.PathValue("frames"); f != "" {
			n, err := strconv.Atoi(f)
			if err != nil || n < 1 {
				return badRequest("a rendered frame is one frame number, from 1")
			}
			frame = n
		}
		return s.writeRendered(rq, rec, frame, opt)
	}
}

// writeRendered renders frame n of rec, audits the read and answers the image.
func (s *Server) writeRendered(rq *request, rec dicomweb.InstanceRecord, n int, opt dcm.RenderOptions) error {
	img, ctype, err := s.render(rq.ctx, rec, n, opt)
	if err != nil {
		return err
	}
	if err := s.auditRead(rq, []dicomweb.InstanceRecord{rec}); err != nil {
		return err
	}
	rq.w.Header().Set("Content-Type", ctype)
	rq.w.Header().Set("Cache-Control", "private, max-age=3600")
	_, err = rq.w.Write(img)
	return err
}

// representative is the instance a rendered or thumbnail request shows.
func (s *Server) representative(rq *request) (dicomweb.InstanceRecord, error) {
	if rq.r.PathValue("sop") != "" {
		return s.store.Instance(rq.ctx, rq.scope, rq.r.PathValue("study"), rq.r.PathValue("series"), rq.r.PathValue("sop"))
	}
	recs, err := s.store.Instances(rq.ctx, rq.scope, rq.r.PathValue("study"), rq.r.PathValue("series"))
	if err != nil {
		return dicomweb.InstanceRecord{}, err
	}
	var imgs []dicomweb.InstanceRecord
	for _, r := range recs {
		if r.Rows > 0 && (rq.r.PathValue("series") != "" || r.SeriesUID == recs[0].SeriesUID) {
			imgs = append(imgs, r)
		}
	}
	if len(imgs) == 0 {
		return dicomweb.InstanceRecord{}, notAcceptable("nothing here has an image to render")
	}
	return imgs[len(imgs)/2], nil
}

// render renders frame n of an instance.
func (s *Server) render(ctx context.Context, rec dicomweb.InstanceRecord, n int, opt dcm.RenderOptions) ([]byte, string, error) {
	layout, err := dicomweb.LayoutOf(rec)
	if err != nil {
		return nil, "", err
	}
	if layout.Pixel == nil {
		return nil, "", notAcceptable("the instance has no image")
	}
	raw, err := dcm.FrameBytes(&blobReaderAt{ctx: ctx, s: s, rec: rec}, layout.Pixel, n)
	if errors.Is(err, dcm.ErrNoSuchFrame) {
		return nil, "", &httpError{status: http.StatusNotFound, msg: "the instance has no such frame"}
	}
	if err != nil {
		return nil, "", err
	}
	img, ctype, err := dcm.Render(raw, layout.Pixel, opt)
	if errors.Is(err, dcm.ErrCannotRender) {
		return nil, "", notAcceptable("this image cannot be rendered by the server (" + rec.TransferSyntaxUID +
			", " + layout.Pixel.Photometric + "); retrieve the frames or the instance instead")
	}
	return img, ctype, err
}

// blobReaderAt reads a stored instance at offsets, for the frame cutter.
type blobReaderAt struct {
	ctx context.Context
	s   *Server
	rec dicomweb.InstanceRecord
}

func (b *blobReaderAt) ReadAt(p []byte, off int64) (int, error) {
	rc, err := b.s.store.OpenRange(b.ctx, b.rec, off, int64(len(p)))
	if err != nil {
		return 0, err
	}
	defer rc.Close()
	n, err := io.ReadFull(rc, p)
	if errors.Is(err, io.ErrUnexpectedEOF) {
		err = io.EOF
	}
	return n, err
}

// wadoURI is WADO-URI (PS3.18 9): one instance by its three UIDs, as DICOM or as an image.
func (s *Server) wadoURI(rq *request) error {
	q := rq.r.URL.Query()
	if q.Get("requestType") != "WADO" {
		return badRequest("requestType must be WADO")
	}
	study, series, sop := q.Get("studyUID"), q.Get("seriesUID"), q.Get("objectUID")
	for _, u := range []string{study, series, sop} {
		if !dicomweb.ValidUID(u) {
			return badRequest("studyUID, seriesUID and objectUID must be UIDs")
		}
	}
	rec, err := s.store.Instance(rq.ctx, rq.scope, study, series, sop)
	if err != nil {
		return err
	}
	ctype := strings.ToLower(strings.TrimSpace(strings.Split(q.Get("contentType"), ",")[0]))
	if ctype == "" {
		ctype = "image/jpeg"
		if rec.Rows == 0 {
			ctype = "application/dicom"
		}
	}
	switch ctype {
	case "application/dicom":
		want := q.Get("transferSyntax")
		ts, err := chooseSyntax(rec.TransferSyntaxUID, want)
		if err != nil {
			return err
		}
		if err := s.auditRead(rq, []dicomweb.InstanceRecord{rec}); err != nil {
			return err
		}
		rc, err := s.store.Open(rq.ctx, rec)
		if err != nil {
			return err
		}
		defer rc.Close()
		rq.w.Header().Set("Content-Type", "application/dicom")
		if ts == rec.TransferSyntaxUID {
			_, err = io.Copy(rq.w, rc)
		} else {
			_, err = dcm.WriteExplicitLE(rq.w, rc, rec.TransferSyntaxUID)
		}
		if err != nil {
			s.log.Warn("dicomweb: WADO-URI retrieve stopped", "sop", rec.SOPUID, "err", err)
		}
		return nil
	case "image/jpeg", "image/png":
		opt := dcm.RenderOptions{Format: ctype}
		frame := 1
		if v := q.Get("frameNumber"); v != "" {
			if frame, err = strconv.Atoi(v); err != nil || frame < 1 {
				return badRequest("frameNumber is a whole number from 1")
			}
		}
		if v := q.Get("windowCenter"); v != "" {
			c, err1 := strconv.ParseFloat(v, 64)
			w, err2 := strconv.ParseFloat(q.Get("windowWidth"), 64)
			if err1 != nil || err2 != nil || w < 1 {
				return badRequest("windowCenter and windowWidth go together; the width is at least 1")
			}
			opt.WindowCenter, opt.WindowWidth = &c, &w
		}
		if v := q.Get("columns"); v != "" {
			opt.Width, _ = strconv.Atoi(v)
		}
		if v := q.Get("rows"); v != "" {
			opt.Height, _ = strconv.Atoi(v)
		}
		if opt.Width < 0 || opt.Height < 0 || opt.Width > 4096 || opt.Height > 4096 {
			return badRequest("rows and columns are 1 to 4096")
		}
		return s.writeRendered(rq, rec, frame, opt)
	}
	return notAcceptable("contentType is application/dicom, image/jpeg or image/png")
}
