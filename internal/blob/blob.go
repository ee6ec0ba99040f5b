// Package blob stores the product's large immutable payloads — documents, DICOM instances,
// rendered reports — as named objects, either in a local folder (the embedded default) or in an
// S3-compatible object store such as MinIO. Both backends offer the same Store contract: a Put
// is atomic (readers see the previous object or the whole new one), its size and SHA-256 are
// computed while streaming, and an optional expected digest is checked before anything becomes
// visible. The package blobtest holds the contract test that both backends pass.
package blob

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"mime"
	"strings"
	"time"
)

// Errors reported by every Store. Returned errors wrap them; test with errors.Is.
var (
	// ErrNotFound reports a key that holds no object.
	ErrNotFound = errors.New("blob: not found")
	// ErrInvalidKey reports a key (or list prefix) that ValidKey rejects.
	ErrInvalidKey = errors.New("blob: invalid key")
	// ErrInvalidRange reports a GetRange offset past the end of the object, or a negative range.
	ErrInvalidRange = errors.New("blob: invalid range")
	// ErrChecksumMismatch reports content whose SHA-256 differs from PutOptions.ExpectedSHA256.
	ErrChecksumMismatch = errors.New("blob: content does not match the expected SHA-256")
	// ErrSizeMismatch reports content whose length differs from PutOptions.Size.
	ErrSizeMismatch = errors.New("blob: content length does not match the declared size")
	// ErrInvalidOptions reports a malformed content type or expected digest.
	ErrInvalidOptions = errors.New("blob: invalid put options")
	// ErrCorrupt reports a stored object whose bookkeeping cannot be read back.
	ErrCorrupt = errors.New("blob: stored object is corrupt")
)

// DefaultContentType is recorded when PutOptions.ContentType is empty.
const DefaultContentType = "application/octet-stream"

// MaxKeyLen is the longest key, in bytes: S3 caps a whole object name at 1024 bytes, which
// must also hold the store's prefix (at most MaxPrefixLen) and the name suffix. MaxSegmentLen
// is the longest slash-separated part of a key: each part becomes a file or folder name in the
// Files backend, and file systems cap names at 255 bytes.
const (
	MaxKeyLen     = 960
	MaxSegmentLen = 200
	MaxPrefixLen  = 1024 - MaxKeyLen - len(nameSuffix)
)

// nameSuffix ends the stored name of every object, in both backends: key K is stored as
// "K!". Without it, object "a" would be the folder of object "a/b" — impossible in a file
// system, and hidden from MinIO's listings. "!" cannot occur in a key, and sorts before every
// byte that can, so stored names list in the same order as their keys.
const nameSuffix = "!"

// maxContentTypeLen bounds the recorded content type.
const maxContentTypeLen = 256

// Info describes a stored object.
type Info struct {
	Key         string
	Size        int64
	SHA256      string // lowercase hex; empty only for S3 objects written by other tools
	ContentType string
	Modified    time.Time // UTC; S3 keeps whole seconds
}

// PutOptions qualify a Put.
type PutOptions struct {
	// ContentType is recorded with the object; empty means DefaultContentType.
	ContentType string
	// ExpectedSHA256, when set (hex, either case), must equal the digest of the content;
	// otherwise Put fails with ErrChecksumMismatch and stores nothing.
	ExpectedSHA256 string
	// Size, when positive, is the exact content length; a different length fails with
	// ErrSizeMismatch and stores nothing. -1 (or 0, so that the zero PutOptions works) means
	// unknown.
	Size int64
}

// Store is an object store. Implementations are safe for concurrent use, also by several
// processes sharing the same folder or bucket.
type Store interface {
	// Put streams r to key atomically (readers see the old object or the whole new one, never
	// a partial one), computing size and SHA-256 while streaming. It overwrites.
	Put(ctx context.Context, key string, r io.Reader, opts PutOptions) (Info, error)
	// Get opens the object; the caller closes the reader. Info and content come from the same
	// version even when the key is overwritten meanwhile.
	Get(ctx context.Context, key string) (io.ReadCloser, Info, error)
	// GetRange opens length bytes from off (length -1: to the end). A range running past the
	// end is cut short; off equal to the size yields no bytes; off beyond it is ErrInvalidRange.
	// Info describes the whole object.
	GetRange(ctx context.Context, key string, off, length int64) (io.ReadCloser, Info, error)
	// Stat describes the object.
	Stat(ctx context.Context, key string) (Info, error)
	// Delete removes the object; deleting a missing key is not an error.
	Delete(ctx context.Context, key string) error
	// List calls fn for every object whose key starts with prefix, in byte order of the keys.
	// The prefix obeys the key rules except that its last part may be partial or empty.
	// An error from fn stops the listing and is returned.
	List(ctx context.Context, prefix string, fn func(Info) error) error
	// Ping reports whether the store can serve requests.
	Ping(ctx context.Context) error
}

// ValidKey reports whether key is acceptable: slash-separated parts of [A-Za-z0-9._-], none
// empty, "." or "..", at most MaxSegmentLen bytes each, and at most MaxKeyLen bytes in all (so
// no leading or trailing slash).
func ValidKey(key string) bool {
	if key == "" || len(key) > MaxKeyLen {
		return false
	}
	for seg := range strings.SplitSeq(key, "/") {
		if !validSegment(seg) {
			return false
		}
	}
	return true
}

func validSegment(seg string) bool {
	if seg == "" || seg == "." || seg == ".." || len(seg) > MaxSegmentLen {
		return false
	}
	for i := 0; i < len(seg); i++ {
		if !keyByte(seg[i]) {
			return false
		}
	}
	return true
}

func keyByte(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' ||
		c == '.' || c == '_' || c == '-'
}

// validPrefix reports whether prefix can begin a valid key: "" or complete valid parts followed
// by a partial last part ("a/", "a/b", "a/b.").
func validPrefix(prefix string) bool {
	if prefix == "" {
		return true
	}
	if len(prefix) > MaxKeyLen {
		return false
	}
	dir, last := splitPrefix(prefix)
	if strings.Contains(prefix, "/") && !ValidKey(dir) {
		return false
	}
	if len(last) > MaxSegmentLen {
		return false
	}
	for i := 0; i < len(last); i++ {
		if !keyByte(last[i]) {
			return false
		}
	}
	return true
}

// splitPrefix splits a list prefix into its complete folder part (without the final slash)
// and the partial last part.
func splitPrefix(prefix string) (dir, last string) {
	i := strings.LastIndexByte(prefix, '/')
	if i < 0 {
		return "", prefix
	}
	return prefix[:i], prefix[i+1:]
}

func checkKey(key string) error {
	if !ValidKey(key) {
		return ErrInvalidKey
	}
	return nil
}

// putPlan is a validated PutOptions.
type putPlan struct {
	contentType string
	want        []byte // expected digest, nil when not given
	size        int64  // declared length, -1 when unknown
}

func planPut(key string, opts PutOptions) (putPlan, error) {
	if err := checkKey(key); err != nil {
		return putPlan{}, err
	}
	p := putPlan{contentType: opts.ContentType, size: opts.Size}
	if p.contentType == "" {
		p.contentType = DefaultContentType
	}
	if !validContentType(p.contentType) {
		return putPlan{}, fmt.Errorf("%w: malformed content type", ErrInvalidOptions)
	}
	if p.size <= 0 {
		p.size = -1
	}
	if opts.ExpectedSHA256 != "" {
		want, err := hex.DecodeString(opts.ExpectedSHA256)
		if err != nil || len(want) != sha256.Size {
			return putPlan{}, fmt.Errorf("%w: expected SHA-256 is not 64 hex digits", ErrInvalidOptions)
		}
		p.want = want
	}
	return p, nil
}

// validContentType accepts a media type with optional parameters, in printable ASCII.
func validContentType(ct string) bool {
	if len(ct) > maxContentTypeLen || strings.TrimSpace(ct) != ct {
		return false
	}
	for i := 0; i < len(ct); i++ {
		if ct[i] < 0x20 || ct[i] > 0x7e {
			return false
		}
	}
	_, _, err := mime.ParseMediaType(ct)
	return err == nil
}

// validDigest reports whether s is a lowercase hex SHA-256.
func validDigest(s string) bool {
	if len(s) != 2*sha256.Size {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}

// verifier hashes and counts the content of a Put as it is read, and checks the declared size
// and the expected digest before handing over the last bytes: whoever consumes it (a temporary
// file or an S3 upload) never receives a complete body that fails the checks, so the failure
// reaches it as a read error and nothing is committed.
type verifier struct {
	ctx  context.Context
	src  io.Reader
	plan putPlan
	h    hash.Hash
	n    int64
	sum  []byte // set once the content has been read and checked
	err  error  // sticky
}

func newVerifier(ctx context.Context, src io.Reader, plan putPlan) *verifier {
	return &verifier{ctx: ctx, src: src, plan: plan, h: sha256.New()}
}

func (v *verifier) Read(p []byte) (int, error) {
	if v.err != nil {
		return 0, v.err
	}
	if v.sum != nil {
		return 0, io.EOF
	}
	if err := v.ctx.Err(); err != nil {
		v.err = err
		return 0, err
	}
	if len(p) == 0 {
		return 0, nil
	}
	if v.plan.size >= 0 {
		if rem := v.plan.size - v.n; int64(len(p)) > rem {
			p = p[:rem]
		}
	}
	var k int
	var err error
	if len(p) > 0 {
		k, err = v.src.Read(p)
	}
	v.h.Write(p[:k])
	v.n += int64(k)
	switch {
	case v.plan.size >= 0 && v.n == v.plan.size:
		if ferr := v.finish(true); ferr != nil {
			return 0, ferr
		}
		return k, nil
	case err == io.EOF && v.plan.size >= 0:
		v.err = ErrSizeMismatch
		return 0, v.err
	case err == io.EOF:
		if ferr := v.finish(false); ferr != nil {
			return 0, ferr
		}
		return k, io.EOF
	case err != nil:
		v.err = err
		return k, err
	}
	return k, nil
}

// finish checks the complete content; with declared set, it first makes sure the source holds
// nothing beyond the declared size.
func (v *verifier) finish(declared bool) error {
	if declared {
		var one [1]byte
		for tries := 0; ; tries++ {
			k, err := v.src.Read(one[:])
			if k > 0 {
				v.err = ErrSizeMismatch
				return v.err
			}
			if err == io.EOF {
				break
			}
			if err != nil {
				v.err = err
				return err
			}
			if tries > 100 {
				v.err = io.ErrNoProgress
				return v.err
			}
		}
	}
	sum := v.h.Sum(nil)
	if v.plan.want != nil && !bytes.Equal(sum, v.plan.want) {
		v.err = ErrChecksumMismatch
		return v.err
	}
	v.sum = sum
	return nil
}

// info returns the description of the verified content; call it only after a complete read.
func (v *verifier) info(key, contentType string, modified time.Time) Info {
	return Info{Key: key, Size: v.n, SHA256: hex.EncodeToString(v.sum), ContentType: contentType, Modified: modified}
}

// ctxReader stops reading once ctx is done.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}

// checkRange validates a GetRange request against an object of the given size and returns
// the byte count to serve.
func checkRange(off, length, size int64) (int64, error) {
	if off < 0 || length < -1 || off > size {
		return 0, ErrInvalidRange
	}
	n := size - off
	if length >= 0 && length < n {
		n = length
	}
	return n, nil
}

// emptyBody is the reader for a zero-length range.
type emptyBody struct{}

func (emptyBody) Read([]byte) (int, error) { return 0, io.EOF }
func (emptyBody) Close() error             { return nil }
