package dcm

import (
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

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
	if t, ok := keywords.Load(s); ok {
		return t.(Tag), true
	}
	info, err := tag.FindByKeyword(s)
	if err != nil {
		return 0, false
	}
	t := Tag(uint32(info.Tag.Group)<<16 | uint32(info.Tag.Element))
	if keywordCount.Add(1) <= maxKeywords { // bounded: query strings are the client's
		keywords.Store(s, t)
	}
	return t, true
}

// keywords caches the dictionary's answers (its lookup by keyword scans the whole dictionary).
var (
	keywords     sync.Map
	keywordCount atomic.Int64
)

const maxKeywords = 4096
