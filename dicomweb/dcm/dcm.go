// Package dcm reads and writes DICOM Part 10 instances for the DICOMweb store: it inspects an
// untrusted instance while it streams past (structure, lengths, transfer syntax, where the pixel
// data and bulk values lie), decodes its attributes with github.com/suyashkumar/dicom behind
// guards, renders them as DICOM JSON (PS3.18 Annex F), and, from a stored instance, cuts frames,
// rewrites native data as Explicit VR Little Endian and renders frames as JPEG or PNG.
//
// Nothing here holds a bulk value (pixel data, large OB/OW/UN…) in memory while inspecting: the
// caller streams the instance to storage through Inspect's reader and later reads the byte
// ranges the Instance records. Every failure of an untrusted instance is a *Refusal carrying the
// PS3.18 failure reason; nothing panics out of this package.
package dcm

import "fmt"

// Tag is a DICOM attribute tag, group in the high 16 bits: 0x7FE00010 is Pixel Data.
type Tag uint32

// Common tags.
const (
	TagTransferSyntaxUID Tag = 0x00020010
	TagSOPClassUID       Tag = 0x00080016
	TagSOPInstanceUID    Tag = 0x00080018
	TagStudyInstanceUID  Tag = 0x0020000D
	TagSeriesInstanceUID Tag = 0x0020000E
	TagPixelData         Tag = 0x7FE00010
	TagFloatPixelData    Tag = 0x7FE00008
	TagDoublePixelData   Tag = 0x7FE00009
)

// String is the (gggg,eeee) form.
func (t Tag) String() string { return fmt.Sprintf("(%04X,%04X)", uint16(t>>16), uint16(t)) }

// Hex is the 8-digit upper-case form used as keys in DICOM JSON: "7FE00010".
func (t Tag) Hex() string { return fmt.Sprintf("%08X", uint32(t)) }

// Transfer syntaxes the store knows by name.
const (
	ImplicitVRLittleEndian = "1.2.840.10008.1.2"
	ExplicitVRLittleEndian = "1.2.840.10008.1.2.1"
	DeflatedExplicitVRLE   = "1.2.840.10008.1.2.1.99"
	ExplicitVRBigEndian    = "1.2.840.10008.1.2.2"
)

// Limits bound what Inspect accepts.
type Limits struct {
	// MaxSize is the largest instance, in bytes (0: no limit).
	MaxSize int64
	// MaxHeader is the most bytes of non-bulk attribute values kept in memory for one instance
	// (0: 64 MiB). An instance whose attributes need more is refused.
	MaxHeader int64
	// BulkThreshold is the value length from which an OB/OD/OF/OL/OV/OW/UN value is bulk data:
	// not decoded, recorded as a byte range, and given a BulkDataURI in the metadata
	// (0: 1024 bytes). Pixel Data is always bulk.
	BulkThreshold int64
}

// Instance is what Inspect learned about one instance.
type Instance struct {
	Size                 int64  // bytes read, the whole Part 10 stream
	TransferSyntaxUID    string // from the File Meta Information
	SOPClassUID          string
	SOPInstanceUID       string
	StudyInstanceUID     string
	SeriesInstanceUID    string
	SpecificCharacterSet string // as found (values below are decoded to UTF-8)

	// Attributes are the decoded values of the top-level attributes the index and QIDO need,
	// keyed by tag, each as the DICOM JSON "Value" array would hold it, rendered to strings: a
	// PN as its Alphabetic (=Ideographic=Phonetic joined by "="), numbers in their decimal form,
	// multiple values in order. Only non-empty attributes appear.
	Attributes map[Tag][]string

	// Metadata is the instance's DICOM JSON object (PS3.18 F.2): every attribute except the
	// File Meta group, sequences included, with each bulk value as
	//   "BulkDataURI": "{bulk}/<path>"
	// where <path> is the BulkRef.Path of that value; the store replaces "{bulk}" with the
	// instance's bulkdata URL when it serves the metadata.
	Metadata []byte

	// Pixel describes the pixel data (nil when the instance has none).
	Pixel *Pixel

	// Bulk lists every bulk value (Pixel Data included), in stream order.
	Bulk []BulkRef
}

// BulkRef is where one bulk value lies in the stored instance.
type BulkRef struct {
	// Path names the value: its tag in hex, and for a value inside a sequence the tags and
	// item indexes leading to it: "7FE00010", "00880200/0/7FE00010".
	Path   string
	Tag    Tag
	VR     string
	Offset int64 // of the value's first byte, from the start of the stream
	Length int64 // of the value; for encapsulated pixel data, up to the sequence delimiter
	// Encapsulated is set for pixel data in fragments.
	Encapsulated bool
	// BigEndian is set when the value's bytes are in big-endian order (Explicit VR Big Endian).
	BigEndian bool
}

// Pixel is the image description and the layout of the frames.
type Pixel struct {
	Rows, Columns             int
	SamplesPerPixel           int
	BitsAllocated, BitsStored int
	HighBit                   int
	PixelRepresentation       int // 0 unsigned, 1 signed
	PlanarConfiguration       int
	Photometric               string  // e.g. MONOCHROME2, RGB, YBR_FULL_422
	NumberOfFrames            int     // 1 when absent
	RescaleSlope              float64 // 1 when absent
	RescaleIntercept          float64
	WindowCenter, WindowWidth float64 // the first of each; 0 width when absent

	Encapsulated bool
	BigEndian    bool
	// Native data: frame i is the FrameLength bytes at Offset + i*FrameLength (for
	// BitsAllocated 1, frames are bit-packed and FrameLength is rounded up per frame as
	// written: see FrameBits).
	Offset      int64
	FrameLength int64
	// FrameBits is Rows*Columns*SamplesPerPixel*BitsAllocated: frames of 1-bit data are not
	// byte-aligned in the stream.
	FrameBits int64
	// Encapsulated data: the fragments of each frame, in order (one frame per fragment unless
	// the Basic Offset Table or the frame count says otherwise).
	Frames [][]Fragment
}

// Fragment is one item of encapsulated pixel data: Length bytes at Offset (the item value,
// after its 8-byte item header).
type Fragment struct {
	Offset, Length int64
}

// Refusal is an instance the store cannot accept, with the PS3.18 / PS3.4 failure reason
// (FailureReason (0008,1197)) and a message safe to show to the sender (no patient data).
type Refusal struct {
	Reason  uint16
	Message string
}

func (r *Refusal) Error() string { return r.Message }

// Failure reasons (PS3.4 C.4.2.1.4 / PS3.18 Table 10.5.3-1) used by the store.
const (
	ReasonProcessingFailure uint16 = 0x0110 // 272: e.g. unreadable, truncated, malformed
	ReasonDuplicateSOP      uint16 = 0x0111 // 273
	ReasonOutOfResources    uint16 = 0xA700 // e.g. larger than allowed
	ReasonDataSetMismatch   uint16 = 0xA900 // e.g. the study UID differs from the request's
	ReasonCannotUnderstand  uint16 = 0xC000 // e.g. unknown transfer syntax, not DICOM
	ReasonTransferSyntax    uint16 = 0xC122 // transfer syntax not supported
	ReasonSOPClass          uint16 = 0x0122 // SOP class not supported
)
