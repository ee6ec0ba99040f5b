package dcm

import (
	"bytes"
	"encoding/binary"
	"errors"
	"image"
	"image/color"
	"image/png"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/suyashkumar/dicom"
	"github.com/suyashkumar/dicom/pkg/tag"
)

func rdtGrayPixel(rows, cols, ba, bs int, signed bool, photometric string) *Pixel {
	pr := 0
	if signed {
		pr = 1
	}
	return &Pixel{Rows: rows, Columns: cols, SamplesPerPixel: 1, BitsAllocated: ba, BitsStored: bs,
		HighBit: bs - 1, PixelRepresentation: pr, Photometric: photometric, NumberOfFrames: 1,
		RescaleSlope: 1, FrameLength: int64(rows * cols * ba / 8), FrameBits: int64(rows * cols * ba)}
}

func rdtU16(big bool, vals ...uint16) []byte {
	var b []byte
	for _, v := range vals {
		if big {
			b = binary.BigEndian.AppendUint16(b, v)
		} else {
			b = binary.LittleEndian.AppendUint16(b, v)
		}
	}
	return b
}

func rdtGrayValues(t *testing.T, img image.Image) []uint8 {
	t.Helper()
	g, ok := img.(*image.Gray)
	if !ok {
		t.Fatalf("image is %T, want *image.Gray", img)
	}
	return g.Pix
}

// A 12-bit signed CT with garbage above the high bit, rescaled to HU and windowed.
func TestDecodeFrameCT(t *testing.T) {
	hu := []int{-2024, -160, -159, 0, 40, 239, 240, 1000}
	var stored []uint16
	for _, h := range hu {
		s := uint16(h+1024) & 0x0FFF // 12-bit two's complement
		stored = append(stored, s|0xA000)
	}
	want := []uint8{0, 0, 1, 102, 128, 255, 255, 255}
	for _, big := range []bool{false, true} {
		p := rdtGrayPixel(2, 4, 16, 12, true, "MONOCHROME2")
		p.RescaleIntercept, p.WindowCenter, p.WindowWidth, p.BigEndian = -1024, 40, 400, big
		img, err := DecodeFrame(rdtU16(big, stored...), p)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(want, rdtGrayValues(t, img)); diff != "" {
			t.Errorf("big endian %v (-want +got):\n%s", big, diff)
		}
		// The window of the options wins: center 0, width 2 (lo -1.5, hi 0.5).
		c, w := 0.0, 2.0
		out, ct, err := Render(rdtU16(big, stored...), p, RenderOptions{Format: "image/png", WindowCenter: &c, WindowWidth: &w})
		if err != nil || ct != "image/png" {
			t.Fatalf("Render: %v %q", err, ct)
		}
		dec, err := png.Decode(bytes.NewReader(out))
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff([]uint8{0, 0, 0, 255, 255, 255, 255, 255}, rdtGrayValues(t, dec)); diff != "" {
			t.Errorf("window from options (-want +got):\n%s", diff)
		}
	}
}

// Without a window, the frame's min and max span black to white; MONOCHROME1 is inverted.
func TestDecodeFrameMinMaxAndInversion(t *testing.T) {
	raw := []byte{50, 100, 150, 75}
	p := rdtGrayPixel(2, 2, 8, 8, false, "MONOCHROME2")
	img, err := DecodeFrame(raw, p)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]uint8{0, 128, 255, 64}, rdtGrayValues(t, img)); diff != "" {
		t.Errorf("MONOCHROME2 (-want +got):\n%s", diff)
	}
	p.Photometric = "MONOCHROME1"
	img, _ = DecodeFrame(raw, p)
	if diff := cmp.Diff([]uint8{255, 127, 0, 191}, rdtGrayValues(t, img)); diff != "" {
		t.Errorf("MONOCHROME1 (-want +got):\n%s", diff)
	}
	// 32-bit with a fractional slope (dose grids).
	p = rdtGrayPixel(1, 3, 32, 32, false, "MONOCHROME2")
	p.RescaleSlope = 0.25
	var b []byte
	for _, v := range []uint32{0, 2000000, 4000000} {
		b = binary.LittleEndian.AppendUint32(b, v)
	}
	img, _ = DecodeFrame(b, p)
	if diff := cmp.Diff([]uint8{0, 128, 255}, rdtGrayValues(t, img)); diff != "" {
		t.Errorf("32-bit (-want +got):\n%s", diff)
	}
	// A constant image is black rather than a division by zero.
	img, _ = DecodeFrame([]byte{9, 9, 9, 9}, rdtGrayPixel(2, 2, 8, 8, false, "MONOCHROME2"))
	if diff := cmp.Diff([]uint8{0, 0, 0, 0}, rdtGrayValues(t, img)); diff != "" {
		t.Errorf("constant (-want +got):\n%s", diff)
	}
}

func TestDecodeFrameOneBit(t *testing.T) {
	p := rdtGrayPixel(3, 3, 1, 1, false, "MONOCHROME2")
	raw := []byte{0b1010_0101, 0b1} // LSB first: pixels 0,2,5,7,8 on
	img, err := DecodeFrame(raw, p)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]uint8{255, 0, 255, 0, 0, 255, 0, 255, 255}, rdtGrayValues(t, img)); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func TestDecodeFrameColor(t *testing.T) {
	px := [][3]uint8{{255, 0, 0}, {0, 255, 0}, {0, 0, 255}, {10, 20, 30}, {255, 255, 255}, {0, 0, 0}}
	var interleaved, planar []byte
	for _, c := range px {
		interleaved = append(interleaved, c[:]...)
	}
	for k := range 3 {
		for _, c := range px {
			planar = append(planar, c[k])
		}
	}
	p := &Pixel{Rows: 2, Columns: 3, SamplesPerPixel: 3, BitsAllocated: 8, BitsStored: 8, HighBit: 7, Photometric: "RGB"}
	want := image.NewRGBA(image.Rect(0, 0, 3, 2))
	for i, c := range px {
		want.Set(i%3, i/3, color.RGBA{c[0], c[1], c[2], 255})
	}
	for _, c := range []struct {
		planar int
		raw    []byte
	}{{0, interleaved}, {1, planar}} {
		q := *p
		q.PlanarConfiguration = c.planar
		img, err := DecodeFrame(c.raw, &q)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(want.Pix, img.(*image.RGBA).Pix); diff != "" {
			t.Errorf("planar %d (-want +got):\n%s", c.planar, diff)
		}
	}
	// YBR_FULL and YBR_FULL_422 come back as RGB (within rounding).
	var ybr []byte
	for _, c := range px {
		y, cb, cr := color.RGBToYCbCr(c[0], c[1], c[2])
		ybr = append(ybr, y, cb, cr)
	}
	q := *p
	q.Photometric = "YBR_FULL"
	img, err := DecodeFrame(ybr, &q)
	if err != nil {
		t.Fatal(err)
	}
	rdtClose(t, "YBR_FULL", img.(*image.RGBA).Pix, want.Pix, 3)
	// 422: two gray pixels and two of one color per row.
	q = Pixel{Rows: 1, Columns: 4, SamplesPerPixel: 3, BitsAllocated: 8, BitsStored: 8, HighBit: 7, Photometric: "YBR_FULL_422"}
	y, cb, cr := color.RGBToYCbCr(200, 40, 40)
	img, err = DecodeFrame([]byte{10, 200, 128, 128, y, y, cb, cr}, &q)
	if err != nil {
		t.Fatal(err)
	}
	rdtClose(t, "YBR_FULL_422", img.(*image.RGBA).Pix, []uint8{10, 10, 10, 255, 200, 200, 200, 255, 200, 40, 40, 255, 200, 40, 40, 255}, 3)
}

func rdtClose(t *testing.T, what string, got, want []uint8, tol int) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d values, want %d", what, len(got), len(want))
	}
	for i := range got {
		if d := int(got[i]) - int(want[i]); d > tol || d < -tol {
			t.Fatalf("%s: value %d is %d, want %d", what, i, got[i], want[i])
		}
	}
}

func TestDecodeFrameRefusals(t *testing.T) {
	for _, c := range []struct {
		name   string
		p      *Pixel
		raw    []byte
		render bool // ErrCannotRender, else another error
	}{
		{"palette", &Pixel{Rows: 1, Columns: 1, SamplesPerPixel: 1, BitsAllocated: 8, Photometric: "PALETTE COLOR"}, []byte{1}, true},
		{"12 bits allocated", rdtGrayPixel(1, 1, 12, 12, false, "MONOCHROME2"), []byte{1, 2}, true},
		{"RGB with 1 sample", &Pixel{Rows: 1, Columns: 1, SamplesPerPixel: 1, BitsAllocated: 8, Photometric: "RGB"}, []byte{1}, true},
		{"encapsulated not JPEG", &Pixel{Rows: 1, Columns: 1, Encapsulated: true, Photometric: "MONOCHROME2"}, []byte{1, 2, 3}, true},
		{"broken JPEG", &Pixel{Rows: 1, Columns: 1, Encapsulated: true, Photometric: "MONOCHROME2"}, []byte{0xFF, 0xD8, 0xFF, 0xC0}, true},
		{"short", rdtGrayPixel(4, 4, 16, 16, false, "MONOCHROME2"), make([]byte, 31), false},
		{"short 1-bit", rdtGrayPixel(4, 4, 1, 1, false, "MONOCHROME2"), make([]byte, 1), false},
		{"no size", &Pixel{Photometric: "MONOCHROME2"}, nil, false},
		{"huge", rdtGrayPixel(65535, 65535, 16, 16, false, "MONOCHROME2"), make([]byte, 10), false},
		{"nil", nil, nil, false},
	} {
		_, err := DecodeFrame(c.raw, c.p)
		if err == nil || errors.Is(err, ErrCannotRender) != c.render {
			t.Errorf("%s: err = %v, want ErrCannotRender %v", c.name, err, c.render)
		}
	}
	if _, _, err := Render([]byte{1}, rdtGrayPixel(1, 1, 8, 8, false, "MONOCHROME2"), RenderOptions{Format: "image/gif"}); !errors.Is(err, ErrCannotRender) {
		t.Errorf("gif: err = %v", err)
	}
	if _, _, err := Render([]byte{1}, rdtGrayPixel(1, 1, 8, 8, false, "MONOCHROME2"), RenderOptions{Width: 1 << 20}); err == nil {
		t.Errorf("huge viewport: no error")
	}
}

func rdtGradient(rows, cols int) ([]byte, *Pixel) {
	p := rdtGrayPixel(rows, cols, 16, 16, true, "MONOCHROME2")
	p.RescaleIntercept, p.WindowCenter, p.WindowWidth = -1024, 40, 400
	var vals []uint16
	for y := range rows {
		for x := range cols {
			vals = append(vals, uint16(int16(x*4+y-200+1024)))
		}
	}
	return rdtU16(false, vals...), p
}

func TestRenderScaling(t *testing.T) {
	raw, p := rdtGradient(32, 64)
	for _, c := range []struct {
		opt  RenderOptions
		w, h int
	}{
		{RenderOptions{}, 64, 32},
		{RenderOptions{Width: 16}, 16, 8},
		{RenderOptions{Height: 8}, 16, 8},
		{RenderOptions{Width: 16, Height: 16}, 16, 8},
		{RenderOptions{Width: 100, Height: 10}, 20, 10},
		{RenderOptions{Width: 128}, 128, 64},
		{RenderOptions{Width: 1, Height: 1}, 1, 1},
	} {
		for _, format := range []string{"image/jpeg", "image/png"} {
			c.opt.Format = format
			out, ct, err := Render(raw, p, c.opt)
			if err != nil || ct != format {
				t.Fatalf("%+v: %v %q", c.opt, err, ct)
			}
			cfg, kind, err := image.DecodeConfig(bytes.NewReader(out))
			if err != nil || "image/"+kind != format || cfg.Width != c.w || cfg.Height != c.h {
				t.Errorf("%+v: %s %dx%d (%v), want %dx%d", c.opt, kind, cfg.Width, cfg.Height, err, c.w, c.h)
			}
		}
	}
	// PNG is lossless: at native size it is DecodeFrame's image; scaled, the gradient stays
	// monotonic along rows and a flat image stays flat.
	full, _ := DecodeFrame(raw, p)
	out, _, _ := Render(raw, p, RenderOptions{Format: "image/png"})
	dec, _ := png.Decode(bytes.NewReader(out))
	if diff := cmp.Diff(full.(*image.Gray).Pix, dec.(*image.Gray).Pix); diff != "" {
		t.Errorf("PNG differs from DecodeFrame")
	}
	out, _, _ = Render(raw, p, RenderOptions{Format: "image/png", Width: 20})
	dec, _ = png.Decode(bytes.NewReader(out))
	g := dec.(*image.Gray)
	for y := range g.Rect.Dy() {
		for x := 1; x < g.Rect.Dx(); x++ {
			if g.GrayAt(x, y).Y < g.GrayAt(x-1, y).Y {
				t.Fatalf("scaled gradient not monotonic at %d,%d", x, y)
			}
		}
	}
	flat := bytes.Repeat([]byte{7}, 30*50)
	for _, w := range []int{7, 49, 200} {
		out, _, _ = Render(flat, rdtGrayPixel(30, 50, 8, 8, false, "MONOCHROME2"), RenderOptions{Format: "image/png", Width: w})
		dec, _ = png.Decode(bytes.NewReader(out))
		for _, v := range dec.(*image.Gray).Pix {
			if v != 0 {
				t.Fatalf("flat image scaled to width %d has value %d", w, v)
			}
		}
	}
	// Color scales too, and JPEG quality is honoured.
	rgb := bytes.Repeat([]byte{200, 40, 40}, 40*40)
	cp := &Pixel{Rows: 40, Columns: 40, SamplesPerPixel: 3, BitsAllocated: 8, BitsStored: 8, HighBit: 7, Photometric: "RGB"}
	out, _, err := Render(rgb, cp, RenderOptions{Format: "image/png", Width: 10})
	if err != nil {
		t.Fatal(err)
	}
	dec, _ = png.Decode(bytes.NewReader(out))
	if r, g, b, _ := dec.At(5, 5).RGBA(); r>>8 != 200 || g>>8 != 40 || b>>8 != 40 {
		t.Errorf("scaled color = %d %d %d", r>>8, g>>8, b>>8)
	}
	lo, _, _ := Render(raw, p, RenderOptions{Quality: 5})
	hi, _, _ := Render(raw, p, RenderOptions{Quality: 100})
	if len(lo) >= len(hi) {
		t.Errorf("JPEG quality 5 gives %d bytes, 100 gives %d", len(lo), len(hi))
	}
}

func TestFrameBytes(t *testing.T) {
	// Three native 2x2 16-bit frames after a 10-byte header.
	file := append(make([]byte, 10), bytes.Repeat([]byte{1}, 8)...)
	file = append(file, bytes.Repeat([]byte{2}, 8)...)
	file = append(file, bytes.Repeat([]byte{3}, 8)...)
	p := rdtGrayPixel(2, 2, 16, 16, false, "MONOCHROME2")
	p.Offset, p.NumberOfFrames = 10, 3
	r := bytes.NewReader(file)
	for i := 1; i <= 3; i++ {
		b, err := FrameBytes(r, p, i)
		if err != nil || !bytes.Equal(b, bytes.Repeat([]byte{byte(i)}, 8)) {
			t.Errorf("frame %d: % x %v", i, b, err)
		}
	}
	for _, i := range []int{0, -1, 4} {
		if _, err := FrameBytes(r, p, i); !errors.Is(err, ErrNoSuchFrame) {
			t.Errorf("frame %d: err = %v", i, err)
		}
	}
	p.Offset = 20 // the last frame runs past the end
	if _, err := FrameBytes(r, p, 3); !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Errorf("past the end: err = %v", err)
	}

	// 1-bit 3x3 frames, 9 bits each, packed LSB first without padding.
	frames := [][]bool{
		{true, false, true, false, false, true, false, true, true},
		{false, true, true, true, false, false, false, false, true},
		{true, true, true, true, true, true, true, true, false},
	}
	var bits []bool
	for _, f := range frames {
		bits = append(bits, f...)
	}
	packed := make([]byte, 3+(len(bits)+7)/8)
	for i, on := range bits {
		if on {
			packed[3+i/8] |= 1 << (i % 8)
		}
	}
	bp := rdtGrayPixel(3, 3, 1, 1, false, "MONOCHROME2")
	bp.Offset, bp.NumberOfFrames, bp.FrameLength = 3, 3, 2
	for i, f := range frames {
		b, err := FrameBytes(bytes.NewReader(packed), bp, i+1)
		if err != nil {
			t.Fatal(err)
		}
		var want [2]byte
		for k, on := range f {
			if on {
				want[k/8] |= 1 << (k % 8)
			}
		}
		if !bytes.Equal(b, want[:]) {
			t.Errorf("1-bit frame %d: % 08b, want % 08b", i+1, b, want)
		}
	}

	// Encapsulated: fragments concatenated.
	ep := &Pixel{Encapsulated: true, Frames: [][]Fragment{{{Offset: 2, Length: 3}}, {{Offset: 0, Length: 2}, {Offset: 6, Length: 2}}}}
	data := bytes.NewReader([]byte("ABCDEFGH"))
	for i, want := range []string{"CDE", "ABGH"} {
		if b, err := FrameBytes(data, ep, i+1); err != nil || string(b) != want {
			t.Errorf("fragment frame %d: %q %v", i+1, b, err)
		}
	}
	if _, err := FrameBytes(data, ep, 3); !errors.Is(err, ErrNoSuchFrame) {
		t.Errorf("encapsulated frame 3: err = %v", err)
	}
}

// ---- samples: a Pixel built from suyashkumar/dicom's attributes and a byte search for the
// top-level Pixel Data element.

func rdtSamplePixel(t *testing.T, name string) (*Pixel, []byte) {
	t.Helper()
	b := xctSample(t, name)
	ds, err := xctParse(b)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	str := func(tg tag.Tag) string {
		e, err := ds.FindElementByTag(tg)
		if err != nil {
			return ""
		}
		switch v := e.Value.GetValue().(type) {
		case []string:
			if len(v) > 0 {
				return strings.TrimSpace(v[0])
			}
		case []int:
			if len(v) > 0 {
				return strconv.Itoa(v[0])
			}
		}
		return ""
	}
	num := func(tg tag.Tag, def float64) float64 {
		if f, err := strconv.ParseFloat(str(tg), 64); err == nil {
			return f
		}
		return def
	}
	p := &Pixel{
		Rows: int(num(tag.Rows, 0)), Columns: int(num(tag.Columns, 0)), SamplesPerPixel: int(num(tag.SamplesPerPixel, 1)),
		BitsAllocated: int(num(tag.BitsAllocated, 0)), BitsStored: int(num(tag.BitsStored, 0)), HighBit: int(num(tag.HighBit, 0)),
		PixelRepresentation: int(num(tag.PixelRepresentation, 0)), PlanarConfiguration: int(num(tag.PlanarConfiguration, 0)),
		Photometric: str(tag.PhotometricInterpretation), NumberOfFrames: int(num(tag.NumberOfFrames, 1)),
		RescaleSlope: num(tag.RescaleSlope, 1), RescaleIntercept: num(tag.RescaleIntercept, 0),
		WindowCenter: num(tag.WindowCenter, 0), WindowWidth: num(tag.WindowWidth, 0),
	}
	ts := xcTrimUID(str(tag.TransferSyntaxUID))
	p.BigEndian = ts == ExplicitVRBigEndian
	p.FrameBits = int64(p.Rows * p.Columns * p.SamplesPerPixel * p.BitsAllocated)
	p.FrameLength = (p.FrameBits + 7) / 8
	total := uint32((p.FrameBits*int64(p.NumberOfFrames) + 7) / 8)
	total += total & 1
	var bo binary.AppendByteOrder = binary.LittleEndian
	if p.BigEndian {
		bo = binary.BigEndian
	}
	tagBytes := bo.AppendUint16(bo.AppendUint16(nil, 0x7FE0), 0x0010)
	var heads [][]byte
	switch ts {
	case ImplicitVRLittleEndian:
		heads = [][]byte{bo.AppendUint32(tagBytes, total)}
	case ExplicitVRLittleEndian, ExplicitVRBigEndian:
		for _, vr := range []string{"OW", "OB"} {
			heads = append(heads, bo.AppendUint32(append(append(tagBytes, vr...), 0, 0), total))
		}
	default: // encapsulated
		p.Encapsulated = true
		for _, vr := range []string{"OB", "OW"} {
			heads = append(heads, append(append(tagBytes, vr+"\x00\x00"...), 0xFF, 0xFF, 0xFF, 0xFF))
		}
	}
	at := -1
	for _, h := range heads {
		if i := bytes.LastIndex(b, h); i > at {
			at = i + len(h)
		}
	}
	if at < 0 {
		t.Fatalf("%s: pixel data not found", name)
	}
	p.Offset = int64(at)
	if p.Encapsulated { // the Basic Offset Table, then one fragment per frame
		pos := at + 8 + int(binary.LittleEndian.Uint32(b[at+4:]))
		for binary.LittleEndian.Uint32(b[pos:]) == 0xE000FFFE {
			n := int64(binary.LittleEndian.Uint32(b[pos+4:]))
			p.Frames = append(p.Frames, []Fragment{{Offset: int64(pos + 8), Length: n}})
			pos += 8 + int(n)
		}
	}
	return p, b
}

// MR_small in three syntaxes decodes to the same image, whose gray levels follow the stored
// values as suyashkumar/dicom reads them.
func TestDecodeFrameSamplesMR(t *testing.T) {
	var ref []uint8
	for _, name := range []string{"MR_small.dcm", "MR_small_implicit.dcm", "MR_small_bigendian.dcm"} {
		p, b := rdtSamplePixel(t, name)
		raw, err := FrameBytes(bytes.NewReader(b), p, 1)
		if err != nil {
			t.Fatal(err)
		}
		img, err := DecodeFrame(raw, p)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		g := rdtGrayValues(t, img)
		if ref == nil {
			ref = g
			ds, _ := xctParse(b)
			e, _ := ds.FindElementByTag(tag.PixelData)
			nf, err := e.Value.GetValue().(dicom.PixelDataInfo).Frames[0].GetNativeFrame()
			if err != nil {
				t.Fatal(err)
			}
			rdtMonotonic(t, name, nf, g, false)
		} else if diff := cmp.Diff(ref, g); diff != "" {
			t.Errorf("%s differs from MR_small.dcm", name)
		}
	}
}

// rdtMonotonic checks that gray levels order like the stored values (reversed if invert).
func rdtMonotonic(t *testing.T, name string, nf interface {
	GetPixel(x, y int) ([]int, error)
	Rows() int
	Cols() int
}, g []uint8, invert bool) {
	t.Helper()
	type pv struct {
		v int
		g uint8
	}
	var all []pv
	for y := range nf.Rows() {
		for x := range nf.Cols() {
			s, _ := nf.GetPixel(x, y)
			all = append(all, pv{s[0], g[y*nf.Cols()+x]})
		}
	}
	distinct := map[uint8]bool{}
	for i := 1; i < len(all); i++ {
		a, b := all[i-1], all[i]
		if invert {
			a.g, b.g = 255-a.g, 255-b.g
		}
		if a.v < b.v && a.g > b.g || a.v > b.v && a.g < b.g {
			t.Fatalf("%s: stored %d -> %d but %d -> %d", name, a.v, a.g, b.v, b.g)
		}
		distinct[b.g] = true
	}
	if len(distinct) < 16 {
		t.Errorf("%s: only %d gray levels", name, len(distinct))
	}
}

func TestRenderSamples(t *testing.T) {
	for _, c := range []struct {
		name   string
		frames int
		render bool
	}{
		{"CT_small.dcm", 1, true},
		{"CR_small_pcir.dcm", 1, true},
		{"rtdose.dcm", 15, true},
		{"CT_enhanced_multiframe_native.dcm", 2, true},
		{"liver_1frame.dcm", 1, true},
		{"SC_rgb_jpeg_dcmtk.dcm", 1, true},
		{"examples_ybr_color.dcm", 30, true},
		{"JPGExtended.dcm", 1, false},
		{"MR_small_RLE.dcm", 1, false},
		{"MR_small_jpeg_ls_lossless.dcm", 1, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			p, b := rdtSamplePixel(t, c.name)
			r := bytes.NewReader(b)
			if _, err := FrameBytes(r, p, c.frames+1); !errors.Is(err, ErrNoSuchFrame) {
				t.Errorf("frame %d: err = %v", c.frames+1, err)
			}
			raw, err := FrameBytes(r, p, c.frames)
			if err != nil {
				t.Fatal(err)
			}
			out, ct, err := Render(raw, p, RenderOptions{Format: "image/png", Width: 64, Height: 64})
			if !c.render {
				if !errors.Is(err, ErrCannotRender) {
					t.Errorf("err = %v, want ErrCannotRender", err)
				}
				return
			}
			if err != nil || ct != "image/png" {
				t.Fatalf("Render: %v", err)
			}
			cfg, err := png.DecodeConfig(bytes.NewReader(out))
			if err != nil || max(cfg.Width, cfg.Height) != 64 {
				t.Errorf("thumbnail %dx%d %v", cfg.Width, cfg.Height, err)
			}
			img, err := DecodeFrame(raw, p)
			if err != nil {
				t.Fatal(err)
			}
			if b := img.Bounds(); b.Dx() != p.Columns || b.Dy() != p.Rows {
				t.Errorf("decoded %v, want %dx%d", b, p.Columns, p.Rows)
			}
			if c.name == "CR_small_pcir.dcm" || c.name == "CT_small.dcm" {
				ds, _ := xctParse(b)
				e, _ := ds.FindElementByTag(tag.PixelData)
				nf, _ := e.Value.GetValue().(dicom.PixelDataInfo).Frames[0].GetNativeFrame()
				rdtMonotonic(t, c.name, nf, rdtGrayValues(t, img), p.Photometric == "MONOCHROME1")
			}
			if c.name == "liver_1frame.dcm" {
				on := bytes.Count(rdtGrayValues(t, img), []byte{255})
				if on == 0 || on == p.Rows*p.Columns {
					t.Errorf("1-bit segmentation has %d of %d pixels on", on, p.Rows*p.Columns)
				}
			}
			if os.Getenv("DCM_RENDER_OUT") != "" { // for eyeballing
				os.WriteFile(filepath.Join(os.Getenv("DCM_RENDER_OUT"), c.name+".png"), out, 0o644)
			}
		})
	}
}

// FuzzDecodeFrame: whatever the description and the bytes, an image or an error, never a
// panic (DecodeFrame recovers; an "internal error" is a bug).
func FuzzDecodeFrame(f *testing.F) {
	f.Add([]byte{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}, uint8(2), uint8(2), uint8(16), uint8(12), uint8(0), uint8(0x11))
	f.Add(bytes.Repeat([]byte{0x80}, 48), uint8(4), uint8(4), uint8(8), uint8(8), uint8(2), uint8(0x02))
	photometrics := []string{"MONOCHROME1", "MONOCHROME2", "RGB", "YBR_FULL", "YBR_FULL_422", "PALETTE COLOR"}
	f.Fuzz(func(t *testing.T, raw []byte, rows, cols, ba, bs, ph, flags uint8) {
		p := &Pixel{Rows: int(rows % 64), Columns: int(cols % 64), BitsAllocated: int(ba % 40), BitsStored: int(bs % 40),
			HighBit: int(bs%40) - 1 + int(flags>>5), PixelRepresentation: int(flags & 1),
			PlanarConfiguration: int(flags >> 1 & 1), BigEndian: flags&4 != 0, Encapsulated: flags&8 != 0,
			Photometric: photometrics[int(ph)%len(photometrics)], SamplesPerPixel: 1, RescaleSlope: 1}
		if p.Photometric[0] != 'M' && p.Photometric[0] != 'P' {
			p.SamplesPerPixel = 3
		}
		img, err := DecodeFrame(raw, p)
		if err != nil {
			if strings.Contains(err.Error(), "internal error") {
				t.Fatal(err)
			}
			return
		}
		if b := img.Bounds(); !p.Encapsulated && (b.Dx() != p.Columns || b.Dy() != p.Rows) {
			t.Fatalf("image %v for %dx%d", b, p.Columns, p.Rows)
		}
		if _, _, err := Render(raw, p, RenderOptions{Width: int(rows % 8), Height: int(cols % 8)}); err != nil {
			t.Fatalf("Render after DecodeFrame succeeded: %v", err)
		}
	})
}

func BenchmarkRender(b *testing.B) {
	raw, p := rdtGradient(512, 512)
	for _, c := range []struct {
		name string
		opt  RenderOptions
	}{
		{"jpeg", RenderOptions{Format: "image/jpeg"}},
		{"png", RenderOptions{Format: "image/png"}},
		{"jpeg-thumb128", RenderOptions{Format: "image/jpeg", Width: 128, Height: 128}},
	} {
		b.Run(c.name, func(b *testing.B) {
			b.SetBytes(int64(len(raw)))
			for b.Loop() {
				if _, _, err := Render(raw, p, c.opt); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
	b.Run("decode-only", func(b *testing.B) {
		for b.Loop() {
			DecodeFrame(raw, p)
		}
	})
}
