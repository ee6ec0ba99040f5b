// Package dicomwebtest makes synthetic DICOM instances for tests, benchmarks and the demo
// network: CT slices written as Part 10 files in Explicit VR Little Endian. Their names, IDs and
// dates are those the caller gives (invented ones in tests, the demo network's made-up patients).
package dicomwebtest

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math"
	"strings"
)

// CTImageStorage is the SOP class of the generated instances.
const CTImageStorage = "1.2.840.10008.5.1.4.1.1.2"

// CT describes one synthetic CT slice.
type CT struct {
	PatientName, PatientID, IssuerOfPatientID string
	BirthDate, Sex                            string
	StudyUID, SeriesUID, SOPUID               string
	StudyDate, StudyTime                      string
	AccessionNumber, StudyDescription         string
	Modality                                  string // default CT
	SeriesNumber, InstanceNumber              int
	Size                                      int // rows and columns (default 64)
}

// Study makes n slices of one series of a synthetic study: UIDs under root (a numeric UID
// prefix unique to the caller), slice k numbered k+1.
func Study(root string, patient int, n, size int) [][]byte {
	var out [][]byte
	for k := range n {
		out = append(out, CT{
			PatientName: fmt.Sprintf("Testpatient%d^Synthetic", patient), PatientID: fmt.Sprintf("SYN%06d", patient),
			IssuerOfPatientID: "1.2.826.0.1.3680043.10.1", BirthDate: "19700101", Sex: "O",
			StudyUID: root + ".1", SeriesUID: root + ".1.1", SOPUID: fmt.Sprintf("%s.1.1.%d", root, k+1),
			StudyDate: "20240102", StudyTime: "101500", AccessionNumber: fmt.Sprintf("ACC%06d", patient),
			StudyDescription: "Synthetic CT", SeriesNumber: 1, InstanceNumber: k + 1, Size: size,
		}.Bytes())
	}
	return out
}

// Bytes writes the slice as a Part 10 file: 16-bit signed pixels, a gradient with a disc.
func (c CT) Bytes() []byte {
	if c.Size == 0 {
		c.Size = 64
	}
	if c.Modality == "" {
		c.Modality = "CT"
	}
	var ds elements
	ds.str(0x00080005, "CS", "ISO_IR 192")
	ds.str(0x00080016, "UI", CTImageStorage)
	ds.str(0x00080018, "UI", c.SOPUID)
	ds.str(0x00080020, "DA", c.StudyDate)
	ds.str(0x00080030, "TM", c.StudyTime)
	ds.str(0x00080050, "SH", c.AccessionNumber)
	ds.str(0x00080060, "CS", c.Modality)
	ds.str(0x00080090, "PN", "")
	ds.str(0x00081030, "LO", c.StudyDescription)
	ds.str(0x00100010, "PN", c.PatientName)
	ds.str(0x00100020, "LO", c.PatientID)
	ds.str(0x00100021, "LO", c.IssuerOfPatientID)
	ds.str(0x00100030, "DA", c.BirthDate)
	ds.str(0x00100040, "CS", c.Sex)
	ds.str(0x0020000D, "UI", c.StudyUID)
	ds.str(0x0020000E, "UI", c.SeriesUID)
	ds.str(0x00200010, "SH", "1")
	ds.str(0x00200011, "IS", fmt.Sprint(c.SeriesNumber))
	ds.str(0x00200013, "IS", fmt.Sprint(c.InstanceNumber))
	ds.us(0x00280002, 1)
	ds.str(0x00280004, "CS", "MONOCHROME2")
	ds.us(0x00280010, uint16(c.Size))
	ds.us(0x00280011, uint16(c.Size))
	ds.us(0x00280100, 16)
	ds.us(0x00280101, 16)
	ds.us(0x00280102, 15)
	ds.us(0x00280103, 1)
	ds.str(0x00281050, "DS", "40")
	ds.str(0x00281051, "DS", "400")
	ds.str(0x00281052, "DS", "-1024")
	ds.str(0x00281053, "DS", "1")
	pix := make([]byte, 2*c.Size*c.Size)
	for y := range c.Size {
		for x := range c.Size {
			v := int16(x * 2000 / c.Size)
			dx, dy := float64(x-c.Size/2), float64(y-c.Size/2)
			if math.Hypot(dx, dy) < float64(c.Size)/4 {
				v = int16(1024 + 60 + c.InstanceNumber)
			}
			binary.LittleEndian.PutUint16(pix[2*(y*c.Size+x):], uint16(v))
		}
	}
	ds.raw(0x7FE00010, "OW", pix)
	return part10(c.SOPUID, CTImageStorage, ds.b.Bytes())
}

// elements writes explicit VR little-endian elements in the order given (callers keep tag order).
type elements struct {
	b    bytes.Buffer
	last uint32
}

func (e *elements) str(tag uint32, vr, v string) {
	b := []byte(v)
	if len(b)%2 == 1 {
		pad := byte(' ')
		if vr == "UI" {
			pad = 0
		}
		b = append(b, pad)
	}
	e.raw(tag, vr, b)
}

func (e *elements) us(tag uint32, v uint16) {
	b := make([]byte, 2)
	binary.LittleEndian.PutUint16(b, v)
	e.raw(tag, "US", b)
}

func (e *elements) raw(tag uint32, vr string, v []byte) {
	if tag <= e.last {
		panic(fmt.Sprintf("dicomwebtest: tag %08X after %08X", tag, e.last))
	}
	e.last = tag
	var h [12]byte
	binary.LittleEndian.PutUint16(h[0:], uint16(tag>>16))
	binary.LittleEndian.PutUint16(h[2:], uint16(tag))
	copy(h[4:6], vr)
	switch vr {
	case "OB", "OW", "OF", "OD", "OL", "OV", "SQ", "UC", "UN", "UR", "UT", "SV", "UV":
		binary.LittleEndian.PutUint32(h[8:], uint32(len(v)))
		e.b.Write(h[:12])
	default:
		binary.LittleEndian.PutUint16(h[6:], uint16(len(v)))
		e.b.Write(h[:8])
	}
	e.b.Write(v)
}

// part10 wraps a dataset in the preamble and File Meta Information.
func part10(sop, class string, dataset []byte) []byte {
	var meta elements
	meta.raw(0x00020001, "OB", []byte{0, 1})
	meta.str(0x00020002, "UI", class)
	meta.str(0x00020003, "UI", sop)
	meta.str(0x00020010, "UI", "1.2.840.10008.1.2.1")
	meta.str(0x00020012, "UI", "1.2.826.0.1.3680043.10.1.1")
	var out bytes.Buffer
	out.Write(make([]byte, 128))
	out.WriteString("DICM")
	var gl elements
	b := make([]byte, 4)
	binary.LittleEndian.PutUint32(b, uint32(meta.b.Len()))
	gl.raw(0x00020000, "UL", b)
	out.Write(gl.b.Bytes())
	out.Write(meta.b.Bytes())
	out.Write(dataset)
	return out.Bytes()
}

// Multipart builds a STOW-RS body of the instances; it returns the body and its Content-Type.
func Multipart(instances [][]byte) ([]byte, string) {
	const boundary = "dicomwebtest-boundary-7c1e"
	var b bytes.Buffer
	for _, inst := range instances {
		b.WriteString("--" + boundary + "\r\nContent-Type: application/dicom\r\n\r\n")
		b.Write(inst)
		b.WriteString("\r\n")
	}
	b.WriteString("--" + boundary + "--\r\n")
	return b.Bytes(), `multipart/related; type="application/dicom"; boundary=` + boundary
}

// UIDRoot is a UID prefix for test data; callers append their own numbers.
func UIDRoot(n int) string { return "1.2.826.0.1.3680043.10.1." + strings.TrimLeft(fmt.Sprint(n), "-") }
