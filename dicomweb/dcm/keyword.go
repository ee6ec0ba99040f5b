package dcm

import (
	"strconv"
	"strings"

	"github.com/suyashkumar/dicom/pkg/tag"
)

// TagByKeyword resolves an attribute named as in DICOMweb query parameters: a PS3.6 keyword
// ("PatientName") or eight hex digits ("00100010").
func TagByKeyword(s string) (Tag, bool) {
	s = strings.TrimSpace(s)
	if len(s) == 8 {
		if v, err := strconv.ParseUint(s, 16, 32); err == nil {
			return Tag(v), true
		}
	}
	info, err := tag.FindByKeyword(s)
	if err != nil {
		return 0, false
	}
	return Tag(uint32(info.Tag.Group)<<16 | uint32(info.Tag.Element)), true
}

// KeywordOf is the PS3.6 keyword of t ("" when the dictionary does not know it).
func KeywordOf(t Tag) string {
	info, err := tag.Find(tag.Tag{Group: uint16(t >> 16), Element: uint16(t)})
	if err != nil {
		return ""
	}
	return info.Keyword
}
