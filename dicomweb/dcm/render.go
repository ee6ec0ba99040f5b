package dcm

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"image/jpeg"
	"image/png"
	"io"
	"math"
	"strings"
)

// ErrCannotRender is returned (wrapped, test with errors.Is) for a frame or an output format
// that cannot be rendered: an unsupported photometric interpretation (PALETTE COLOR…), bit
// depth or compression, or a media type other than image/jpeg and image/png. The HTTP layer
// answers 406 Not Acceptable.
var ErrCannotRender = errors.New("dcm: cannot render this image")

// ErrNoSuchFrame is returned by FrameBytes for a frame number out of range.
var ErrNoSuchFrame = errors.New("dcm: no such frame")

// Rendering limits.
const (
	rdMaxSide    = 16384 // of a scaled output image
	rdMaxFrame   = 1 << 31
	rdDefQuality = 90
)

// RenderOptions say how Render produces a rendered frame.
type RenderOptions struct {
	// Format is the media type: "image/jpeg" (also when empty) or "image/png".
	Format string
	// Quality is the JPEG quality, 1 to 100 (0: 90).
	Quality int
	// WindowCenter and WindowWidth override the VOI window of grayscale images. When nil the
	// first window of the instance (Pixel.WindowCenter/WindowWidth) applies, or, if it has
	// none, a window spanning the minimum to the maximum of the frame's rescaled values.
	WindowCenter, WindowWidth *float64
	// Width and Height bound the output size: the frame is scaled to fit within them,
	// keeping its aspect ratio (a zero bound does not constrain; both zero: native size).
	Width, Height int
}

// DecodeFrame decodes one frame, as FrameBytes returns it, to an image: *image.Gray for
// monochrome data (rescaled, then windowed per PS3.3 C.11.2.1.2 with the instance's first
// window, or min/max when it has none; MONOCHROME1 inverted; 1-bit data is black and white),
// *image.RGBA for RGB and YBR_FULL / YBR_FULL_422 native data. Encapsulated frames are
// decoded only when they are JPEG Baseline / 8-bit Extended (image/jpeg). Anything else gives
// an error wrapping ErrCannotRender.
func DecodeFrame(raw []byte, p *Pixel) (image.Image, error) {
	return rdDecode(raw, p, nil, nil)
}

// Render decodes one frame like DecodeFrame, with the window and size of opt, and encodes it.
// It returns the encoded bytes and their content type.
func Render(raw []byte, p *Pixel, opt RenderOptions) (out []byte, contentType string, err error) {
	format := opt.Format
	if format == "" {
		format = "image/jpeg"
	}
	if format != "image/jpeg" && format != "image/png" {
		return nil, "", fmt.Errorf("%w: media type %q", ErrCannotRender, format)
	}
	if opt.Width < 0 || opt.Height < 0 || opt.Width > rdMaxSide || opt.Height > rdMaxSide {
		return nil, "", fmt.Errorf("dcm: render: output size %dx%d out of range", opt.Width, opt.Height)
	}
	defer func() {
		if r := recover(); r != nil {
			out, contentType, err = nil, "", fmt.Errorf("dcm: render: internal error: %v", r)
		}
	}()
	img, err := rdDecode(raw, p, opt.WindowCenter, opt.WindowWidth)
	if err != nil {
		return nil, "", err
	}
	b := img.Bounds()
	if w, h := rdFit(b.Dx(), b.Dy(), opt.Width, opt.Height); w != b.Dx() || h != b.Dy() {
		img = rdScale(img, w, h)
	}
	var buf bytes.Buffer
	if format == "image/png" {
		err = (&png.Encoder{CompressionLevel: png.DefaultCompression}).Encode(&buf, img)
	} else {
		q := opt.Quality
		if q <= 0 {
			q = rdDefQuality
		}
		err = jpeg.Encode(&buf, img, &jpeg.Options{Quality: min(q, 100)})
	}
	if err != nil {
		return nil, "", fmt.Errorf("dcm: render: encoding %s: %w", format, err)
	}
	return buf.Bytes(), format, nil
}

func rdDecode(raw []byte, p *Pixel, wc, ww *float64) (img image.Image, err error) {
	defer func() {
		if r := recover(); r != nil {
			img, err = nil, fmt.Errorf("dcm: decode frame: internal error: %v", r)
		}
	}()
	if p == nil || p.Rows <= 0 || p.Columns <= 0 || p.Rows > 0xFFFF || p.Columns > 0xFFFF {
		return nil, errors.New("dcm: decode frame: invalid image size")
	}
	if p.Encapsulated {
		return rdDecodeJPEG(raw, p, wc, ww)
	}
	spp := max(p.SamplesPerPixel, 1)
	switch ph := strings.TrimSpace(p.Photometric); {
	case (ph == "MONOCHROME1" || ph == "MONOCHROME2") && spp == 1:
		return rdGray(raw, p, wc, ww)
	case (ph == "RGB" || ph == "YBR_FULL") && spp == 3:
		return rdColor(raw, p, ph == "YBR_FULL")
	case ph == "YBR_FULL_422" && spp == 3 && p.BitsAllocated == 8:
		return rdYBR422(raw, p)
	default:
		return nil, fmt.Errorf("%w: photometric interpretation %q with %d samples per pixel", ErrCannotRender, ph, spp)
	}
}

// rdSampler reads the stored values of native pixel data: unsigned, masked to Bits Stored.
type rdSampler struct {
	raw    []byte
	bytes  int // per sample: 1, 2 or 4
	big    bool
	shift  uint
	mask   uint32
	bits   int // stored
	signed bool
}

func rdNewSampler(raw []byte, p *Pixel, samples int) (rdSampler, error) {
	ba := p.BitsAllocated
	if ba != 8 && ba != 16 && ba != 32 {
		return rdSampler{}, fmt.Errorf("%w: %d bits allocated", ErrCannotRender, ba)
	}
	bs := p.BitsStored
	if bs <= 0 || bs > ba {
		bs = ba
	}
	hb := p.HighBit
	if hb < bs-1 || hb >= ba {
		hb = bs - 1
	}
	s := rdSampler{raw: raw, bytes: ba / 8, big: p.BigEndian, shift: uint(hb + 1 - bs),
		mask: uint32(1<<bs - 1), bits: bs, signed: p.PixelRepresentation == 1}
	if need := int64(samples) * int64(s.bytes); int64(len(raw)) < need {
		return rdSampler{}, fmt.Errorf("dcm: decode frame: %d bytes of pixel data, need %d", len(raw), need)
	}
	return s, nil
}

// at is the i-th stored value, unsigned.
func (s *rdSampler) at(i int) uint32 {
	var u uint32
	switch s.bytes {
	case 1:
		u = uint32(s.raw[i])
	case 2:
		if s.big {
			u = uint32(binary.BigEndian.Uint16(s.raw[2*i:]))
		} else {
			u = uint32(binary.LittleEndian.Uint16(s.raw[2*i:]))
		}
	default:
		if s.big {
			u = binary.BigEndian.Uint32(s.raw[4*i:])
		} else {
			u = binary.LittleEndian.Uint32(s.raw[4*i:])
		}
	}
	return u >> s.shift & s.mask
}

// value is a stored value as a number, sign-extended per Pixel Representation.
func (s *rdSampler) value(u uint32) float64 {
	if s.signed && s.bits < 64 && u&(1<<(s.bits-1)) != 0 {
		return float64(int64(u) - int64(1)<<s.bits)
	}
	return float64(u)
}

// rdWindow is the linear VOI LUT function of PS3.3 C.11.2.1.2.1 to 0…255.
func rdWindow(x, c, w float64) uint8 {
	w = max(w, 1)
	switch {
	case x <= c-0.5-(w-1)/2:
		return 0
	case x > c-0.5+(w-1)/2:
		return 255
	}
	y := ((x-(c-0.5))/(w-1) + 0.5) * 255
	return uint8(min(max(math.Round(y), 0), 255))
}

func rdGray(raw []byte, p *Pixel, wc, ww *float64) (*image.Gray, error) {
	n := p.Rows * p.Columns
	invert := strings.TrimSpace(p.Photometric) == "MONOCHROME1"
	if p.BitsAllocated == 1 {
		if len(raw) < (n+7)/8 {
			return nil, fmt.Errorf("dcm: decode frame: %d bytes of 1-bit pixel data, need %d", len(raw), (n+7)/8)
		}
		img := image.NewGray(image.Rect(0, 0, p.Columns, p.Rows))
		for i := range n {
			on := raw[i/8]>>(i%8)&1 == 1
			if on != invert {
				img.Pix[i] = 255
			}
		}
		return img, nil
	}
	s, err := rdNewSampler(raw, p, n)
	if err != nil {
		return nil, err
	}
	img := image.NewGray(image.Rect(0, 0, p.Columns, p.Rows))
	slope, icpt := p.RescaleSlope, p.RescaleIntercept
	if slope == 0 || math.IsNaN(slope) || math.IsInf(slope, 0) {
		slope = 1
	}
	modality := func(u uint32) float64 { return s.value(u)*slope + icpt }

	var c, w float64
	switch {
	case wc != nil && ww != nil:
		c, w = *wc, *ww
	case p.WindowWidth > 0:
		c, w = p.WindowCenter, p.WindowWidth
		if wc != nil {
			c = *wc
		}
		if ww != nil {
			w = *ww
		}
	default: // from the data: the minimum maps to black, the maximum to white
		lo, hi := math.Inf(1), math.Inf(-1)
		for i := range n {
			v := modality(s.at(i))
			lo, hi = min(lo, v), max(hi, v)
		}
		c, w = (lo+hi)/2+0.5, hi-lo+1
		if wc != nil {
			c = *wc
		}
		if ww != nil {
			w = *ww
		}
	}
	gray := func(u uint32) uint8 {
		g := rdWindow(modality(u), c, w)
		if invert {
			g = 255 - g
		}
		return g
	}
	if s.bits <= 16 { // through a table of every stored value
		lut := make([]uint8, 1<<s.bits)
		for u := range lut {
			lut[u] = gray(uint32(u))
		}
		for i := range n {
			img.Pix[i] = lut[s.at(i)]
		}
		return img, nil
	}
	for i := range n {
		img.Pix[i] = gray(s.at(i))
	}
	return img, nil
}

// rdColor decodes RGB or YBR_FULL, planar or interleaved, to RGBA.
func rdColor(raw []byte, p *Pixel, ybr bool) (*image.RGBA, error) {
	n := p.Rows * p.Columns
	s, err := rdNewSampler(raw, p, 3*n)
	if err != nil {
		return nil, err
	}
	if s.signed {
		return nil, fmt.Errorf("%w: signed color samples", ErrCannotRender)
	}
	down := uint(max(s.bits-8, 0)) // to 8 bits
	up := uint(max(8-s.bits, 0))
	img := image.NewRGBA(image.Rect(0, 0, p.Columns, p.Rows))
	stride := 1 // of a sample of the same pixel
	if p.PlanarConfiguration == 1 {
		stride = n
	}
	for i := range n {
		first := 3 * i
		if stride != 1 {
			first = i
		}
		var v [3]uint8
		for k := range 3 {
			v[k] = uint8(s.at(first+k*stride) >> down << up)
		}
		if ybr {
			v[0], v[1], v[2] = color.YCbCrToRGB(v[0], v[1], v[2])
		}
		copy(img.Pix[4*i:], []uint8{v[0], v[1], v[2], 255})
	}
	return img, nil
}

// rdYBR422 decodes native YBR_FULL_422: for each two pixels of a row, Y1 Y2 Cb Cr.
func rdYBR422(raw []byte, p *Pixel) (*image.RGBA, error) {
	pairs := (p.Columns + 1) / 2
	if need := p.Rows * pairs * 4; len(raw) < need {
		return nil, fmt.Errorf("dcm: decode frame: %d bytes of YBR_FULL_422 data, need %d", len(raw), need)
	}
	img := image.NewRGBA(image.Rect(0, 0, p.Columns, p.Rows))
	for y := range p.Rows {
		for k := range pairs {
			q := raw[(y*pairs+k)*4:]
			for j := range 2 {
				x := 2*k + j
				if x >= p.Columns {
					break
				}
				r, g, b := color.YCbCrToRGB(q[j], q[2], q[3])
				copy(img.Pix[img.PixOffset(x, y):], []uint8{r, g, b, 255})
			}
		}
	}
	return img, nil
}

// rdDecodeJPEG decodes an encapsulated frame if it is a JPEG the standard library reads
// (baseline or 8-bit extended / progressive); grayscale goes through the VOI pipeline.
func rdDecodeJPEG(raw []byte, p *Pixel, wc, ww *float64) (image.Image, error) {
	if len(raw) < 3 || raw[0] != 0xFF || raw[1] != 0xD8 || raw[2] != 0xFF {
		return nil, fmt.Errorf("%w: encapsulated pixel data that is not JPEG", ErrCannotRender)
	}
	img, err := jpeg.Decode(bytes.NewReader(raw))
	if err != nil {
		return nil, fmt.Errorf("%w: JPEG: %v", ErrCannotRender, err)
	}
	g, ok := img.(*image.Gray)
	if !ok {
		return img, nil
	}
	b := g.Bounds()
	q := *p
	q.Rows, q.Columns, q.SamplesPerPixel = b.Dy(), b.Dx(), 1
	q.BitsAllocated, q.BitsStored, q.HighBit, q.PixelRepresentation = 8, 8, 7, 0
	q.BigEndian, q.Encapsulated = false, false
	if ph := strings.TrimSpace(p.Photometric); ph != "MONOCHROME1" {
		q.Photometric = "MONOCHROME2"
	}
	pix := make([]byte, 0, b.Dx()*b.Dy())
	for y := b.Min.Y; y < b.Max.Y; y++ {
		pix = append(pix, g.Pix[g.PixOffset(b.Min.X, y):][:b.Dx()]...)
	}
	return rdGray(pix, &q, wc, ww)
}

// rdFit is the size of a sw×sh image scaled to fit within w×h (0: unbounded).
func rdFit(sw, sh, w, h int) (int, int) {
	if w <= 0 && h <= 0 || sw <= 0 || sh <= 0 {
		return sw, sh
	}
	scale := math.Inf(1)
	if w > 0 {
		scale = float64(w) / float64(sw)
	}
	if h > 0 {
		scale = min(scale, float64(h)/float64(sh))
	}
	fw := min(max(1, int(math.Round(float64(sw)*scale))), rdMaxSide)
	fh := min(max(1, int(math.Round(float64(sh)*scale))), rdMaxSide)
	return fw, fh
}

type rdTap struct {
	first int
	w     []float32
}

// rdTaps are the weights of a triangle filter widened to the scale when shrinking (an
// area-averaging, antialiased bilinear filter).
func rdTaps(src, dst int) []rdTap {
	scale := float64(src) / float64(dst)
	support := max(scale, 1)
	taps := make([]rdTap, dst)
	for d := range taps {
		center := (float64(d)+0.5)*scale - 0.5
		lo := max(int(math.Ceil(center-support)), 0)
		hi := min(int(math.Floor(center+support)), src-1)
		var ws []float32
		sum := 0.0
		for s := lo; s <= hi; s++ {
			wt := max(1-math.Abs(float64(s)-center)/support, 0)
			ws = append(ws, float32(wt))
			sum += wt
		}
		if sum == 0 { // only when upscaling at the very edge
			lo, ws, sum = min(max(int(math.Round(center)), 0), src-1), []float32{1}, 1
		}
		for i := range ws {
			ws[i] /= float32(sum)
		}
		taps[d] = rdTap{first: lo, w: ws}
	}
	return taps
}

// rdScale resamples img to w×h (separable, horizontal then vertical).
func rdScale(img image.Image, w, h int) image.Image {
	var pix []uint8
	var nc, sw, sh int
	switch m := img.(type) {
	case *image.Gray:
		m = rdCompactGray(m)
		pix, nc = m.Pix, 1
		sw, sh = m.Rect.Dx(), m.Rect.Dy()
	default:
		b := img.Bounds()
		rgba := image.NewRGBA(image.Rect(0, 0, b.Dx(), b.Dy()))
		draw.Draw(rgba, rgba.Rect, img, b.Min, draw.Src)
		pix, nc = rgba.Pix, 4
		sw, sh = b.Dx(), b.Dy()
	}
	hx, vy := rdTaps(sw, w), rdTaps(sh, h)
	tmp := make([]float32, sh*w*nc)
	for y := range sh {
		row := pix[y*sw*nc:]
		for x, t := range hx {
			for c := range nc {
				var acc float32
				for k, wt := range t.w {
					acc += wt * float32(row[(t.first+k)*nc+c])
				}
				tmp[(y*w+x)*nc+c] = acc
			}
		}
	}
	out := make([]uint8, h*w*nc)
	for y, t := range vy {
		for x := range w * nc {
			var acc float32
			for k, wt := range t.w {
				acc += wt * tmp[(t.first+k)*w*nc+x]
			}
			out[y*w*nc+x] = uint8(min(max(acc+0.5, 0), 255))
		}
	}
	if nc == 1 {
		return &image.Gray{Pix: out, Stride: w, Rect: image.Rect(0, 0, w, h)}
	}
	return &image.RGBA{Pix: out, Stride: 4 * w, Rect: image.Rect(0, 0, w, h)}
}

func rdCompactGray(m *image.Gray) *image.Gray {
	b := m.Bounds()
	if m.Stride == b.Dx() && b.Min == (image.Point{}) {
		return m
	}
	c := image.NewGray(image.Rect(0, 0, b.Dx(), b.Dy()))
	for y := range b.Dy() {
		copy(c.Pix[y*b.Dx():], m.Pix[m.PixOffset(b.Min.X, b.Min.Y+y):][:b.Dx()])
	}
	return c
}

// FrameBytes reads frame i (1-based, as in WADO-RS) of a stored instance: for native data
// the frame's bytes (1-bit frames, which need not start on a byte boundary, are realigned to
// start at bit 0 of their first byte, trailing bits zero); for encapsulated data its fragments
// concatenated. A frame number out of range gives ErrNoSuchFrame.
func FrameBytes(r io.ReaderAt, p *Pixel, i int) ([]byte, error) {
	if p == nil {
		return nil, errors.New("dcm: frame: no pixel data")
	}
	if p.Encapsulated {
		if i < 1 || i > len(p.Frames) {
			return nil, ErrNoSuchFrame
		}
		var total int64
		for _, f := range p.Frames[i-1] {
			if f.Length < 0 || f.Offset < 0 {
				return nil, errors.New("dcm: frame: invalid fragment")
			}
			total += f.Length
		}
		if total > rdMaxFrame {
			return nil, errors.New("dcm: frame: too large")
		}
		buf := make([]byte, total)
		off := int64(0)
		for _, f := range p.Frames[i-1] {
			if err := rdReadAt(r, buf[off:off+f.Length], f.Offset); err != nil {
				return nil, err
			}
			off += f.Length
		}
		return buf, nil
	}
	if i < 1 || i > max(p.NumberOfFrames, 1) {
		return nil, ErrNoSuchFrame
	}
	bits := p.FrameBits
	if bits <= 0 {
		bits = int64(p.Rows) * int64(p.Columns) * int64(max(p.SamplesPerPixel, 1)) * int64(p.BitsAllocated)
	}
	if bits <= 0 || bits/8 > rdMaxFrame || p.Offset < 0 {
		return nil, errors.New("dcm: frame: invalid frame size")
	}
	if bits%8 == 0 && p.BitsAllocated != 1 {
		n := p.FrameLength
		if n <= 0 {
			n = bits / 8
		}
		if n > rdMaxFrame {
			return nil, errors.New("dcm: frame: too large")
		}
		buf := make([]byte, n)
		return buf, rdReadAt(r, buf, p.Offset+int64(i-1)*n)
	}
	// Bit-packed frames follow one another without padding.
	start := int64(i-1) * bits
	shift := uint(start % 8)
	n := (bits + 7) / 8
	in := make([]byte, (int64(shift)+bits+7)/8)
	if err := rdReadAt(r, in, p.Offset+start/8); err != nil {
		return nil, err
	}
	out := in[:n]
	if shift != 0 {
		out = make([]byte, n)
		for k := range out {
			b := in[k] >> shift
			if k+1 < len(in) {
				b |= in[k+1] << (8 - shift)
			}
			out[k] = b
		}
	}
	if rest := bits % 8; rest != 0 {
		out[n-1] &= byte(1)<<rest - 1
	}
	return out, nil
}

func rdReadAt(r io.ReaderAt, p []byte, off int64) error {
	n, err := r.ReadAt(p, off)
	if n == len(p) {
		return nil
	}
	if err == nil || err == io.EOF {
		err = io.ErrUnexpectedEOF
	}
	return fmt.Errorf("dcm: frame: reading %d bytes at %d: %w", len(p), off, err)
}
