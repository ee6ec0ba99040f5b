package dicomweb

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/ern-cpms/cpms/dicomweb/dcm"
)

// Tags the store reads or answers.
const (
	tagSpecificCharacterSet    dcm.Tag = 0x00080005
	tagStudyDate               dcm.Tag = 0x00080020
	tagSeriesDate              dcm.Tag = 0x00080021
	tagStudyTime               dcm.Tag = 0x00080030
	tagSeriesTime              dcm.Tag = 0x00080031
	tagAccessionNumber         dcm.Tag = 0x00080050
	tagInstanceAvailability    dcm.Tag = 0x00080056
	tagModality                dcm.Tag = 0x00080060
	tagModalitiesInStudy       dcm.Tag = 0x00080061
	tagSOPClassesInStudy       dcm.Tag = 0x00080062
	tagReferringPhysicianName  dcm.Tag = 0x00080090
	tagTimezoneOffsetFromUTC   dcm.Tag = 0x00080201
	tagRetrieveURL             dcm.Tag = 0x00081190
	tagStudyDescription        dcm.Tag = 0x00081030
	tagSeriesDescription       dcm.Tag = 0x0008103E
	tagPatientName             dcm.Tag = 0x00100010
	tagPatientID               dcm.Tag = 0x00100020
	tagIssuerOfPatientID       dcm.Tag = 0x00100021
	tagPatientBirthDate        dcm.Tag = 0x00100030
	tagPatientSex              dcm.Tag = 0x00100040
	tagBodyPartExamined        dcm.Tag = 0x00180015
	tagStudyID                 dcm.Tag = 0x00200010
	tagSeriesNumber            dcm.Tag = 0x00200011
	tagInstanceNumber          dcm.Tag = 0x00200013
	tagLaterality              dcm.Tag = 0x00200060
	tagNumberOfStudySeries     dcm.Tag = 0x00201206
	tagNumberOfStudyInstances  dcm.Tag = 0x00201208
	tagNumberOfSeriesInstances dcm.Tag = 0x00201209
	tagRows                    dcm.Tag = 0x00280010
	tagColumns                 dcm.Tag = 0x00280011
	tagBitsAllocated           dcm.Tag = 0x00280100
	tagNumberOfFrames          dcm.Tag = 0x00280008
	tagPPSStartDate            dcm.Tag = 0x00400244
	tagPPSStartTime            dcm.Tag = 0x00400245
	tagRequestAttributesSeq    dcm.Tag = 0x00400275
)

// studyLevel reports whether t belongs to the patient or study level: the Patient and
// Patient Study modules, the General Study module, and the character set they are written in.
func studyLevel(t dcm.Tag) bool {
	switch {
	case t>>16 == 0x0010: // Patient, Patient Study (0010,xxxx)
		return true
	case t == tagSpecificCharacterSet, t == tagStudyDate, t == tagStudyTime, t == tagAccessionNumber,
		t == tagReferringPhysicianName, t == tagStudyDescription, t == tagTimezoneOffsetFromUTC,
		t == 0x00080051, // IssuerOfAccessionNumberSequence
		t == 0x00081032, // ProcedureCodeSequence
		t == 0x00081060, // NameOfPhysiciansReadingStudy
		t == 0x00081080, // AdmittingDiagnosesDescription
		t == 0x00200010, // StudyID
		t == 0x0020000D, // StudyInstanceUID
		t == 0x00321032, // RequestingPhysician
		t == 0x00321060, // RequestedProcedureDescription
		t == 0x00380010: // AdmissionID
		return true
	}
	return false
}

// seriesLevel reports whether t belongs to the series level (General Series module).
func seriesLevel(t dcm.Tag) bool {
	switch t {
	case tagModality, tagSeriesDate, tagSeriesTime, tagSeriesDescription, tagSeriesNumber, tagBodyPartExamined,
		tagLaterality, tagPPSStartDate, tagPPSStartTime, tagRequestAttributesSeq,
		0x0020000E, // SeriesInstanceUID
		0x00080070, // Manufacturer
		0x00081090, // ManufacturerModelName
		0x00181030, // ProtocolName
		0x00185100, // PatientPosition
		0x00400253, // PerformedProcedureStepID
		0x00400254, // PerformedProcedureStepDescription
		0x00200052: // FrameOfReferenceUID
		return true
	}
	return false
}

// Object is a DICOM JSON object: attributes keyed by their 8-hex tag.
type Object map[string]json.RawMessage

func parseObject(b []byte) (Object, error) {
	o := Object{}
	if len(b) == 0 {
		return o, nil
	}
	if err := splitObject(b, func(k string, v []byte) { o[k] = v }); err != nil {
		// not the compact JSON the store writes: decode it the slow way
		o = Object{}
		err = json.Unmarshal(b, &o)
		return o, err
	}
	return o, nil
}

// splitObject calls fn with each member of a JSON object, its value as a slice of b (not
// copied). It reads the compact JSON the store itself writes (keys without escapes) without
// decoding the values, and reports anything else as an error.
func splitObject(b []byte, fn func(k string, v []byte)) error {
	bad := errors.New("dicomweb: not a compact JSON object")
	i := 0
	if len(b) < 2 || b[0] != '{' {
		return bad
	}
	i = 1
	if b[i] == '}' {
		return nil
	}
	for {
		if i >= len(b) || b[i] != '"' {
			return bad
		}
		end := bytes.IndexByte(b[i+1:], '"')
		if end < 0 {
			return bad
		}
		key := b[i+1 : i+1+end]
		for _, c := range key {
			if c < 0x20 || c > 0x7e || c == '\\' {
				return bad // not one of the store's own keys: leave it to encoding/json
			}
		}
		i += end + 2
		if i >= len(b) || b[i] != ':' {
			return bad
		}
		i++
		start, depth, inStr := i, 0, false
		for ; i < len(b); i++ {
			c := b[i]
			if inStr {
				switch c {
				case '\\':
					i++
				case '"':
					inStr = false
				}
				continue
			}
			switch c {
			case '"':
				inStr = true
			case '{', '[':
				depth++
			case '}', ']':
				if depth == 0 {
					if c != '}' {
						return bad
					}
					fn(string(key), b[start:i])
					if i != len(b)-1 {
						return bad
					}
					return nil
				}
				depth--
			case ',':
				if depth == 0 {
					goto next
				}
			}
			continue
		next:
			break
		}
		if i >= len(b) {
			return bad
		}
		fn(string(key), b[start:i])
		i++ // the comma
	}
}

func tagOfKey(k string) (dcm.Tag, bool) {
	v, err := strconv.ParseUint(k, 16, 32)
	return dcm.Tag(v), err == nil && len(k) == 8
}

// splitLevels reads an instance's metadata once and picks out its study-level and series-level
// attributes and its summary: the default attributes of an instance search (no bulk data).
func splitLevels(metadata []byte) (study, series, summary []byte, err error) {
	o, err := parseObject(metadata)
	if err != nil {
		return nil, nil, nil, err
	}
	st, se, sum := Object{}, Object{}, Object{}
	for k, v := range o {
		t, ok := tagOfKey(k)
		if !ok {
			continue
		}
		switch {
		case studyLevel(t):
			st[k] = v
		case seriesLevel(t):
			se[k] = v
		}
		if !isBulk(v) && slices.Contains(defaultInstanceTags, t) {
			sum[k] = v
		}
	}
	if v, ok := o[tagSpecificCharacterSet.Hex()]; ok {
		se[tagSpecificCharacterSet.Hex()] = v
	}
	out := make([][]byte, 3)
	for i, obj := range []Object{st, se, sum} {
		if out[i], err = json.Marshal(obj); err != nil {
			return nil, nil, nil, err
		}
	}
	return out[0], out[1], out[2], nil
}

// Default return attributes of QIDO answers (PS3.18 Tables 10.6.3-3 to -5).
var (
	defaultStudyTags = []dcm.Tag{tagSpecificCharacterSet, tagStudyDate, tagStudyTime, tagAccessionNumber,
		tagInstanceAvailability, tagModalitiesInStudy, tagReferringPhysicianName, tagTimezoneOffsetFromUTC,
		tagRetrieveURL, tagPatientName, tagPatientID, tagPatientBirthDate, tagPatientSex, 0x0020000D, tagStudyID,
		tagNumberOfStudySeries, tagNumberOfStudyInstances}
	defaultSeriesTags = []dcm.Tag{tagSpecificCharacterSet, tagModality, tagTimezoneOffsetFromUTC, tagSeriesDescription,
		tagRetrieveURL, 0x0020000E, tagSeriesNumber, tagNumberOfSeriesInstances, tagPPSStartDate, tagPPSStartTime,
		tagRequestAttributesSeq, 0x0020000D}
	defaultInstanceTags = []dcm.Tag{tagSpecificCharacterSet, 0x00080016, 0x00080018, tagInstanceAvailability,
		tagTimezoneOffsetFromUTC, tagRetrieveURL, tagInstanceNumber, tagRows, tagColumns, tagBitsAllocated,
		tagNumberOfFrames, 0x0020000D, 0x0020000E}
)

// Fields says which attributes a QIDO answer holds beyond the defaults.
type Fields struct {
	All  bool
	Tags []dcm.Tag
}

func (f Fields) wants(t dcm.Tag, defaults []dcm.Tag) bool {
	return f.All || slices.Contains(defaults, t) || slices.Contains(f.Tags, t)
}

func strValue(vr string, vals ...string) json.RawMessage {
	b := make([]byte, 0, 32+16*len(vals))
	b = append(b, `{"vr":"`...)
	b = append(b, vr...)
	b = append(b, `","Value":[`...)
	for i, v := range vals {
		if i > 0 {
			b = append(b, ',')
		}
		q, _ := json.Marshal(v) // a string always marshals
		b = append(b, q...)
	}
	return append(b, ']', '}')
}

func numValue(vr string, n int) json.RawMessage {
	return fmt.Appendf(nil, `{"vr":"%s","Value":[%d]}`, vr, n)
}

// pick copies the wanted attributes of src into dst (without overwriting).
func pick(dst, src Object, f Fields, defaults []dcm.Tag) {
	for k, v := range src {
		t, ok := tagOfKey(k)
		if !ok {
			continue
		}
		if _, has := dst[k]; !has && f.wants(t, defaults) {
			dst[k] = v
		}
	}
}

// StudyJSON is the QIDO answer for one study; base is the scope's DICOMweb URL.
func StudyJSON(h StudyHit, f Fields, base string) (Object, error) {
	o := Object{}
	st, err := parseObject(h.Study.JSON)
	if err != nil {
		return nil, err
	}
	pick(o, st, f, defaultStudyTags)
	o[dcm.Tag(0x0020000D).Hex()] = strValue("UI", h.StudyUID)
	if len(h.Modalities) > 0 {
		o[tagModalitiesInStudy.Hex()] = strValue("CS", h.Modalities...)
	}
	if f.wants(tagSOPClassesInStudy, nil) && len(h.SOPClasses) > 0 {
		o[tagSOPClassesInStudy.Hex()] = strValue("UI", h.SOPClasses...)
	}
	o[tagNumberOfStudySeries.Hex()] = numValue("IS", h.NumSeries)
	o[tagNumberOfStudyInstances.Hex()] = numValue("IS", h.NumInstances)
	o[tagInstanceAvailability.Hex()] = strValue("CS", "ONLINE")
	o[tagRetrieveURL.Hex()] = strValue("UR", base+"/studies/"+h.StudyUID)
	return o, nil
}

// SeriesJSON is the QIDO answer for one series.
func SeriesJSON(h SeriesHit, f Fields, base string) (Object, error) {
	o := Object{}
	se, err := parseObject(h.Series.JSON)
	if err != nil {
		return nil, err
	}
	pick(o, se, f, defaultSeriesTags)
	if f.All || len(f.Tags) > 0 {
		st, err := parseObject(h.Study.JSON)
		if err != nil {
			return nil, err
		}
		pick(o, st, Fields{Tags: f.Tags}, nil)
		if f.All {
			pick(o, st, Fields{All: true}, nil)
		}
	}
	o[dcm.Tag(0x0020000D).Hex()] = strValue("UI", h.StudyUID)
	o[dcm.Tag(0x0020000E).Hex()] = strValue("UI", h.SeriesUID)
	o[tagNumberOfSeriesInstances.Hex()] = numValue("IS", h.NumInstances)
	o[tagRetrieveURL.Hex()] = strValue("UR", base+"/studies/"+h.StudyUID+"/series/"+h.SeriesUID)
	return o, nil
}

// InstanceJSON is the QIDO answer for one instance: from its precomputed summary when only the
// default attributes are asked for, else from its whole metadata.
func InstanceJSON(r InstanceRecord, f Fields, base string) (Object, error) {
	o := Object{}
	src := r.Metadata
	if !f.All && len(f.Tags) == 0 && r.Summary != nil {
		src = r.Summary
	}
	md, err := parseObject(src)
	if err != nil {
		return nil, err
	}
	for k, v := range md {
		t, ok := tagOfKey(k)
		if !ok || isBulk(v) {
			continue
		}
		if f.wants(t, defaultInstanceTags) {
			o[k] = v
		}
	}
	o[dcm.Tag(0x0020000D).Hex()] = strValue("UI", r.StudyUID)
	o[dcm.Tag(0x0020000E).Hex()] = strValue("UI", r.SeriesUID)
	o[dcm.Tag(0x00080018).Hex()] = strValue("UI", r.SOPUID)
	o[tagInstanceAvailability.Hex()] = strValue("CS", "ONLINE")
	o[tagRetrieveURL.Hex()] = strValue("UR", base+"/studies/"+r.StudyUID+"/series/"+r.SeriesUID+"/instances/"+r.SOPUID)
	return o, nil
}

// isBulk reports whether an attribute's JSON holds a bulk data reference (never in QIDO).
func isBulk(v json.RawMessage) bool { return strings.Contains(string(v), `"BulkDataURI"`) }

// bulkTemplate is the placeholder the codec leaves in BulkDataURIs.
const bulkTemplate = "{bulk}"

// Metadata is an instance's metadata with its bulk data URIs made absolute: instanceURL is
// the instance's WADO-RS URL.
func Metadata(r InstanceRecord, instanceURL string) []byte {
	return []byte(strings.ReplaceAll(string(r.Metadata), `"BulkDataURI":"`+bulkTemplate, `"BulkDataURI":"`+instanceURL+"/bulkdata"))
}

// AppendJSON appends objects as a DICOM JSON array. The values are the store's own compact JSON,
// copied as they are (encoding/json would re-validate every one); keys are sorted.
func AppendJSON(b []byte, objects []Object) []byte {
	b = append(b, '[')
	keys := make([]string, 0, 32)
	for i, o := range objects {
		if i > 0 {
			b = append(b, ',')
		}
		keys = keys[:0]
		for k := range o {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		b = append(b, '{')
		for j, k := range keys {
			if j > 0 {
				b = append(b, ',')
			}
			b = append(b, '"')
			b = append(b, k...)
			b = append(b, '"', ':')
			b = append(b, o[k]...)
		}
		b = append(b, '}')
	}
	return append(b, ']')
}
