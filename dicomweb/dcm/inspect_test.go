package dcm

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// samplesDir holds the shared DICOM samples, beside the project (tests skip when it is absent).
const samplesDir = "../../../shared/dicom/samples"

// sampleFiles reads the sample instances (none when the folder is absent).
func sampleFiles(tb testing.TB) [][]byte {
	files, _ := filepath.Glob(filepath.Join(samplesDir, "*.dcm"))
	var out [][]byte
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			tb.Fatal(err)
		}
		out = append(out, b)
	}
	return out
}

type sampleWant struct {
	reason uint16 // 0: accepted
	check  func(t *testing.T, inst *Instance, in []byte)
}

func frameSizes(p *Pixel) []int {
	var n []int
	for _, f := range p.Frames {
		n = append(n, len(f))
	}
	return n
}

var sampleTable = map[string]sampleWant{
	"CR_small_pcir.dcm": {check: func(t *testing.T, inst *Instance, _ []byte) {
		if inst.Pixel.Photometric != "MONOCHROME1" || inst.SpecificCharacterSet != "ISO_IR 100" {
			t.Errorf("pixel %+v charset %q", inst.Pixel, inst.SpecificCharacterSet)
		}
	}},
	"CT_enhanced_multiframe_native.dcm": {check: func(t *testing.T, inst *Instance, in []byte) {
		p := inst.Pixel
		if p.NumberOfFrames != 2 || p.FrameLength != 512*512*2 || p.Encapsulated || p.Offset+2*p.FrameLength > int64(len(in)) {
			t.Errorf("pixel %+v", p)
		}
	}},
	"CT_small.dcm": {check: func(t *testing.T, inst *Instance, _ []byte) {
		p := inst.Pixel
		if p.Rows != 128 || p.Columns != 128 || p.BitsAllocated != 16 || p.FrameLength != 128*128*2 {
			t.Errorf("pixel %+v", p)
		}
	}},
	"JPEG2000-embedded-sequence-delimiter.dcm": {check: oneFrame(1)},
	"JPGExtended.dcm":                          {check: oneFrame(1)},
	"MR_small.dcm":                             {check: native(64, 64, false)},
	"MR_small_RLE.dcm":                         {check: oneFrame(1)},
	"MR_small_bigendian.dcm":                   {check: native(64, 64, true)},
	"MR_small_implicit.dcm":                    {check: native(64, 64, false)},
	"MR_small_jp2klossless.dcm":                {check: oneFrame(1)},
	"MR_small_jpeg_ls_lossless.dcm":            {check: oneFrame(1)},
	"MR_truncated.dcm":                         {reason: ReasonProcessingFailure},
	"PT_nested_sq_icon.dcm": {check: func(t *testing.T, inst *Instance, _ []byte) {
		var icon bool
		for _, b := range inst.Bulk {
			icon = icon || strings.HasPrefix(b.Path, "00880200/0/") && b.Tag == TagPixelData
		}
		if !icon {
			t.Errorf("no icon pixel data in %+v", inst.Bulk)
		}
	}},
	"SC_rgb_jpeg_dcmtk.dcm": {check: func(t *testing.T, inst *Instance, _ []byte) {
		if inst.SpecificCharacterSet != "ISO_IR 192" || inst.Pixel.SamplesPerPixel != 3 {
			t.Errorf("%q %+v", inst.SpecificCharacterSet, inst.Pixel)
		}
		oneFrame(1)(t, inst, nil)
	}},
	// The meta says JPEG Lossless (whose dataset is Explicit VR LE anyway); the private UN
	// sequence parses, but the dataset is nothing but that sequence: no SOP/Study/Series UIDs.
	"UN_sequence.dcm": {reason: ReasonDataSetMismatch},
	"chrGerm.dcm": {check: func(t *testing.T, inst *Instance, _ []byte) {
		if got := inst.Attributes[0x00100010]; len(got) != 1 || got[0] != "Äneas^Rüdiger" {
			t.Errorf("PatientName %q", got)
		}
	}},
	"chrH31.dcm": {check: func(t *testing.T, inst *Instance, _ []byte) {
		if got := inst.Attributes[0x00100010]; len(got) != 1 || got[0] != "Yamada^Tarou=山田^太郎=やまだ^たろう" {
			t.Errorf("PatientName %q", got)
		}
		if !bytes.Contains(inst.Metadata, []byte(`{"Alphabetic":"Yamada^Tarou","Ideographic":"山田^太郎","Phonetic":"やまだ^たろう"}`)) {
			t.Errorf("PN not split in metadata")
		}
	}},
	"examples_jpeg2k.dcm": {check: func(t *testing.T, inst *Instance, _ []byte) {
		if got := frameSizes(inst.Pixel); len(got) != 1 || got[0] != 3 {
			t.Errorf("frames %v, want one frame of 3 fragments", got)
		}
	}},
	"examples_overlay.dcm": {check: func(t *testing.T, inst *Instance, _ []byte) {
		var overlay bool
		for _, b := range inst.Bulk {
			overlay = overlay || b.Tag == 0x60003000
		}
		if !overlay {
			t.Errorf("overlay data not bulk: %+v", inst.Bulk)
		}
	}},
	"examples_ybr_color.dcm": {check: func(t *testing.T, inst *Instance, in []byte) {
		p := inst.Pixel
		if len(p.Frames) != 30 || p.NumberOfFrames != 30 || p.Photometric != "YBR_FULL_422" {
			t.Fatalf("frames %v", frameSizes(p))
		}
		for i, f := range p.Frames {
			if len(f) != 1 || in[f[0].Offset] != 0xFF || in[f[0].Offset+1] != 0xD8 {
				t.Errorf("frame %d does not start with SOI", i)
			}
		}
	}},
	"image_dfl.dcm": {reason: ReasonTransferSyntax},
	"liver_1frame.dcm": {check: func(t *testing.T, inst *Instance, _ []byte) {
		p := inst.Pixel
		if p.BitsAllocated != 1 || p.FrameBits != 512*512 || p.FrameLength != 512*512/8 {
			t.Errorf("pixel %+v", p)
		}
	}},
	"no_meta.dcm": {reason: ReasonCannotUnderstand},
	// Media Storage SOP Instance UID "1.2.999…" vs SOP Instance UID "1.9.999…": PS3.10 wants
	// them equal (TestRTDosePatched checks the rest of the file).
	"rtdose.dcm": {reason: ReasonDataSetMismatch},
	"test-SR.dcm": {check: func(t *testing.T, inst *Instance, _ []byte) {
		if inst.Pixel != nil || len(inst.Bulk) != 0 {
			t.Errorf("SR with pixel data?")
		}
	}},
}

func oneFrame(frags int) func(*testing.T, *Instance, []byte) {
	return func(t *testing.T, inst *Instance, _ []byte) {
		p := inst.Pixel
		if !p.Encapsulated || len(p.Frames) != 1 || len(p.Frames[0]) != frags {
			t.Errorf("frames %v", frameSizes(p))
		}
	}
}

func native(rows, cols int, big bool) func(*testing.T, *Instance, []byte) {
	return func(t *testing.T, inst *Instance, _ []byte) {
		p := inst.Pixel
		if p.Encapsulated || p.Rows != rows || p.Columns != cols || p.BigEndian != big ||
			p.FrameLength != int64(rows*cols*p.BitsAllocated/8) {
			t.Errorf("pixel %+v", p)
		}
		if got := inst.Attributes[0x00100010]; len(got) != 1 || got[0] != "CompressedSamples^MR1" {
			t.Errorf("PatientName %q", got)
		}
	}
}

func TestSamples(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join(samplesDir, "*.dcm"))
	if len(files) == 0 {
		t.Skip("no sample folder " + samplesDir)
	}
	for _, f := range files {
		name := filepath.Base(f)
		t.Run(name, func(t *testing.T) {
			want, ok := sampleTable[name]
			if !ok {
				t.Fatalf("no expectation for %s", name)
			}
			in, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			inst, err := inspectBytes(in, Limits{})
			if want.reason != 0 {
				if reasonOf(err) != want.reason {
					t.Fatalf("got %v (reason %#x), want reason %#x", err, reasonOf(err), want.reason)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if inst.Size != int64(len(in)) {
				t.Errorf("size %d, want %d", inst.Size, len(in))
			}
			if inst.SOPClassUID == "" || inst.SOPInstanceUID == "" || inst.StudyInstanceUID == "" || inst.SeriesInstanceUID == "" {
				t.Errorf("missing UIDs: %+v", inst)
			}
			if !json.Valid(inst.Metadata) {
				t.Errorf("invalid JSON metadata")
			}
			for _, b := range inst.Bulk {
				if b.Offset < 0 || b.Offset+b.Length > int64(len(in)) {
					t.Errorf("bulk %+v outside the file", b)
				}
				if !bytes.Contains(inst.Metadata, []byte(`"BulkDataURI":"{bulk}/`+b.Path+`"`)) {
					t.Errorf("no BulkDataURI for %s", b.Path)
				}
			}
			if want.check != nil {
				want.check(t, inst, in)
			}
		})
	}
}

// TestSameDatasetAcrossSyntaxes: MR_small in Explicit LE, Implicit LE and Big Endian decodes to
// the same attributes.
func TestSameDatasetAcrossSyntaxes(t *testing.T) {
	var ref map[Tag][]string
	for _, name := range []string{"MR_small.dcm", "MR_small_implicit.dcm", "MR_small_bigendian.dcm"} {
		in, err := os.ReadFile(filepath.Join(samplesDir, name))
		if err != nil {
			t.Skip("no samples")
		}
		inst, err := inspectBytes(in, Limits{})
		if err != nil {
			t.Fatal(err)
		}
		if ref == nil {
			ref = inst.Attributes
			continue
		}
		for tag, v := range ref {
			if got := strings.Join(inst.Attributes[tag], `\`); got != strings.Join(v, `\`) {
				t.Errorf("%s %v: %q, want %q", name, tag, got, strings.Join(v, `\`))
			}
		}
	}
}

func TestRTDosePatched(t *testing.T) {
	in, err := os.ReadFile(filepath.Join(samplesDir, "rtdose.dcm"))
	if err != nil {
		t.Skip("no samples")
	}
	// Make the meta's Media Storage SOP Instance UID match the dataset's.
	i := bytes.Index(in, []byte("1.2.999.999.99.9.9999.9999.20030818153516"))
	in = append([]byte(nil), in...)
	in[i+2] = '9'
	inst, err := inspectBytes(in, Limits{})
	if err != nil {
		t.Fatal(err)
	}
	p := inst.Pixel
	if p.NumberOfFrames != 15 || p.BitsAllocated != 32 || p.Offset+15*p.FrameLength > int64(len(in)) {
		t.Errorf("pixel %+v", p)
	}
}

func TestMRTruncatedMessage(t *testing.T) {
	in, err := os.ReadFile(filepath.Join(samplesDir, "MR_truncated.dcm"))
	if err != nil {
		t.Skip("no samples")
	}
	_, err = inspectBytes(in, Limits{})
	if err == nil || !strings.Contains(err.Error(), "truncated") {
		t.Fatalf("got %v", err)
	}
}
