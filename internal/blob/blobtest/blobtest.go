// Package blobtest is the contract test that every blob.Store implementation passes, with the
// deterministic content generator the tests and benchmarks share.
package blobtest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/ern-cpms/cpms/internal/blob"
)

// Content returns n pseudo-random bytes determined by seed, generated as they are read.
func Content(seed uint64, n int64) io.Reader {
	var s [32]byte
	binary.LittleEndian.PutUint64(s[:], seed)
	return io.LimitReader(rand.NewChaCha8(s), n)
}

// Bytes returns Content(seed, n) in memory.
func Bytes(seed uint64, n int64) []byte {
	b, err := io.ReadAll(Content(seed, n))
	if err != nil {
		panic(err)
	}
	return b
}

// Digest is the lowercase hex SHA-256 of data.
func Digest(data []byte) string {
	s := sha256.Sum256(data)
	return hex.EncodeToString(s[:])
}

// Run runs the contract against the stores open returns. Each subtest calls open once and
// expects an empty store of its own.
func Run(t *testing.T, open func(t *testing.T) blob.Store) {
	tests := []struct {
		name string
		fn   func(*testing.T, blob.Store)
	}{
		{"PutGetStat", testPutGetStat},
		{"Overwrite", testOverwrite},
		{"Range", testRange},
		{"ExpectedSHA256", testExpectedSHA256},
		{"FailedPutKeepsOld", testFailedPutKeepsOld},
		{"InvalidKeys", testInvalidKeys},
		{"InvalidOptions", testInvalidOptions},
		{"ValidKeys", testValidKeys},
		{"KeysAndFolders", testKeysAndFolders},
		{"ListStops", testListStops},
		{"Delete", testDelete},
		{"NotFound", testNotFound},
		{"CanceledContext", testCanceledContext},
		{"Large", testLarge},
		{"ConcurrentPuts", testConcurrentPuts},
		{"Ping", testPing},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { tt.fn(t, open(t)) })
	}
}

var ignoreModified = cmpopts.IgnoreFields(blob.Info{}, "Modified")

func put(t *testing.T, s blob.Store, key string, data []byte, opts blob.PutOptions) blob.Info {
	t.Helper()
	info, err := s.Put(t.Context(), key, bytes.NewReader(data), opts)
	if err != nil {
		t.Fatalf("Put(%q): %v", key, err)
	}
	return info
}

func get(t *testing.T, s blob.Store, key string) ([]byte, blob.Info) {
	t.Helper()
	rc, info, err := s.Get(t.Context(), key)
	if err != nil {
		t.Fatalf("Get(%q): %v", key, err)
	}
	defer rc.Close()
	data, err := io.ReadAll(rc)
	if err != nil {
		t.Fatalf("Get(%q): reading: %v", key, err)
	}
	return data, info
}

func stat(t *testing.T, s blob.Store, key string) blob.Info {
	t.Helper()
	info, err := s.Stat(t.Context(), key)
	if err != nil {
		t.Fatalf("Stat(%q): %v", key, err)
	}
	return info
}

func list(t *testing.T, s blob.Store, prefix string) []blob.Info {
	t.Helper()
	var out []blob.Info
	if err := s.List(t.Context(), prefix, func(i blob.Info) error { out = append(out, i); return nil }); err != nil {
		t.Fatalf("List(%q): %v", prefix, err)
	}
	return out
}

func keys(infos []blob.Info) []string {
	out := []string{}
	for _, i := range infos {
		out = append(out, i.Key)
	}
	return out
}

// wantGone checks that key does not exist.
func wantGone(t *testing.T, s blob.Store, key string) {
	t.Helper()
	if _, err := s.Stat(t.Context(), key); !errors.Is(err, blob.ErrNotFound) {
		t.Errorf("Stat(%q) = %v, want ErrNotFound", key, err)
	}
}

// wantContent checks that key holds exactly data, consistently across Get, Stat and List.
func wantContent(t *testing.T, s blob.Store, key string, data []byte, contentType string) {
	t.Helper()
	got, gi := get(t, s, key)
	if !bytes.Equal(got, data) {
		t.Errorf("Get(%q) returned %d bytes (sha256 %s), want %d bytes (sha256 %s)", key, len(got), Digest(got), len(data), Digest(data))
	}
	want := blob.Info{Key: key, Size: int64(len(data)), SHA256: Digest(data), ContentType: contentType}
	if diff := cmp.Diff(want, gi, ignoreModified); diff != "" {
		t.Errorf("Get(%q) info (-want +got):\n%s", key, diff)
	}
	if gi.Modified.IsZero() {
		t.Errorf("Get(%q) info has no modification time", key)
	}
	si := stat(t, s, key)
	if diff := cmp.Diff(gi, si); diff != "" {
		t.Errorf("Stat(%q) differs from Get (-get +stat):\n%s", key, diff)
	}
	var li []blob.Info
	for _, i := range list(t, s, key) {
		if i.Key == key {
			li = append(li, i)
		}
	}
	if diff := cmp.Diff([]blob.Info{si}, li); diff != "" {
		t.Errorf("List(%q) differs from Stat (-stat +list):\n%s", key, diff)
	}
}

func testPutGetStat(t *testing.T, s blob.Store) {
	tests := []struct {
		name, key       string
		data            []byte
		contentType     string
		wantContentType string
	}{
		{"empty", "empty", nil, "text/plain", "text/plain"},
		{"text", "docs/note.txt", []byte("hello, world\n"), "text/plain; charset=utf-8", "text/plain; charset=utf-8"},
		{"binary", "dicom/1.2.3/4.5.6/7.8.9", Bytes(1, 100<<10), "application/dicom", "application/dicom"},
		{"default type", "untyped", []byte{0, 1, 2, 255}, "", blob.DefaultContentType},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			info := put(t, s, tt.key, tt.data, blob.PutOptions{ContentType: tt.contentType, Size: -1})
			want := blob.Info{Key: tt.key, Size: int64(len(tt.data)), SHA256: Digest(tt.data), ContentType: tt.wantContentType}
			if diff := cmp.Diff(want, info, ignoreModified); diff != "" {
				t.Errorf("Put info (-want +got):\n%s", diff)
			}
			if info.Modified.IsZero() {
				t.Error("Put info has no modification time")
			}
			wantContent(t, s, tt.key, tt.data, tt.wantContentType)
		})
	}
	t.Run("declared size", func(t *testing.T) {
		data := []byte("exactly twenty bytes")
		info := put(t, s, "sized", data, blob.PutOptions{Size: int64(len(data))})
		if info.Size != int64(len(data)) {
			t.Errorf("Put size = %d, want %d", info.Size, len(data))
		}
		wantContent(t, s, "sized", data, blob.DefaultContentType)
	})
	t.Run("zero options", func(t *testing.T) {
		data := []byte("the zero PutOptions means unknown size")
		put(t, s, "zero-opts", data, blob.PutOptions{})
		wantContent(t, s, "zero-opts", data, blob.DefaultContentType)
	})
}

func testOverwrite(t *testing.T, s blob.Store) {
	v1, v2 := Bytes(2, 3000), []byte("shorter second version")
	put(t, s, "doc", v1, blob.PutOptions{ContentType: "application/pdf", Size: -1})
	put(t, s, "doc", v2, blob.PutOptions{ContentType: "text/plain", Size: -1})
	wantContent(t, s, "doc", v2, "text/plain")
	if got := keys(list(t, s, "")); !cmp.Equal(got, []string{"doc"}) {
		t.Errorf("List = %q, want one object", got)
	}
}

func testRange(t *testing.T, s blob.Store) {
	data := Bytes(3, 1000)
	put(t, s, "r", data, blob.PutOptions{Size: -1})
	put(t, s, "empty", nil, blob.PutOptions{Size: -1})
	tests := []struct {
		key      string
		off, n   int64
		want     []byte
		wantErr  error
		wantSize int64
	}{
		{"r", 0, -1, data, nil, 1000},
		{"r", 0, 10, data[:10], nil, 1000},
		{"r", 10, -1, data[10:], nil, 1000},
		{"r", 500, 250, data[500:750], nil, 1000},
		{"r", 990, 100, data[990:], nil, 1000},
		{"r", 999, 1, data[999:], nil, 1000},
		{"r", 0, 1000, data, nil, 1000},
		{"r", 1000, -1, nil, nil, 1000},
		{"r", 1000, 5, nil, nil, 1000},
		{"r", 500, 0, nil, nil, 1000},
		{"r", 1001, -1, nil, blob.ErrInvalidRange, 0},
		{"r", 1001, 0, nil, blob.ErrInvalidRange, 0},
		{"r", -1, 5, nil, blob.ErrInvalidRange, 0},
		{"r", 0, -2, nil, blob.ErrInvalidRange, 0},
		{"empty", 0, -1, nil, nil, 0},
		{"empty", 0, 5, nil, nil, 0},
		{"empty", 1, -1, nil, blob.ErrInvalidRange, 0},
		{"missing", 0, 5, nil, blob.ErrNotFound, 0},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%s@%d+%d", tt.key, tt.off, tt.n), func(t *testing.T) {
			rc, info, err := s.GetRange(t.Context(), tt.key, tt.off, tt.n)
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("GetRange = %v, want %v", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("GetRange: %v", err)
			}
			defer rc.Close()
			got, err := io.ReadAll(rc)
			if err != nil {
				t.Fatalf("reading range: %v", err)
			}
			if !bytes.Equal(got, tt.want) {
				t.Errorf("range returned %d bytes, want %d (or different bytes)", len(got), len(tt.want))
			}
			if info.Size != tt.wantSize || info.Key != tt.key {
				t.Errorf("range info = %+v, want the whole object's (size %d)", info, tt.wantSize)
			}
		})
	}
}

// bigSize exceeds the S3 store's default part size, so that S3 streams instead of buffering.
const bigSize = 17 << 20

func testExpectedSHA256(t *testing.T, s blob.Store) {
	small := []byte("document body")
	big := Bytes(4, bigSize)
	old := []byte("previous version")
	wrong := Digest([]byte("something else"))
	tests := []struct {
		name     string
		data     []byte
		opts     func(data []byte) blob.PutOptions
		existing bool
		wantErr  error
	}{
		{"match", small, func(d []byte) blob.PutOptions { return blob.PutOptions{ExpectedSHA256: Digest(d), Size: -1} }, false, nil},
		{"match upper case", small, func(d []byte) blob.PutOptions {
			return blob.PutOptions{ExpectedSHA256: strings.ToUpper(Digest(d)), Size: -1}
		}, true, nil},
		{"match sized", small, func(d []byte) blob.PutOptions {
			return blob.PutOptions{ExpectedSHA256: Digest(d), Size: int64(len(d))}
		}, false, nil},
		{"mismatch new", small, func([]byte) blob.PutOptions { return blob.PutOptions{ExpectedSHA256: wrong, Size: -1} }, false, blob.ErrChecksumMismatch},
		{"mismatch existing", small, func([]byte) blob.PutOptions { return blob.PutOptions{ExpectedSHA256: wrong, Size: -1} }, true, blob.ErrChecksumMismatch},
		{"mismatch sized", small, func(d []byte) blob.PutOptions {
			return blob.PutOptions{ExpectedSHA256: wrong, Size: int64(len(d))}
		}, true, blob.ErrChecksumMismatch},
		{"mismatch empty", nil, func([]byte) blob.PutOptions { return blob.PutOptions{ExpectedSHA256: wrong, Size: -1} }, true, blob.ErrChecksumMismatch},
		{"big match", big, func(d []byte) blob.PutOptions { return blob.PutOptions{ExpectedSHA256: Digest(d), Size: -1} }, true, nil},
		{"big mismatch", big, func([]byte) blob.PutOptions { return blob.PutOptions{ExpectedSHA256: wrong, Size: -1} }, true, blob.ErrChecksumMismatch},
		{"big mismatch sized", big, func(d []byte) blob.PutOptions {
			return blob.PutOptions{ExpectedSHA256: wrong, Size: int64(len(d))}
		}, true, blob.ErrChecksumMismatch},
		{"too short", small, func(d []byte) blob.PutOptions { return blob.PutOptions{Size: int64(len(d)) + 1} }, true, blob.ErrSizeMismatch},
		{"too long", small, func(d []byte) blob.PutOptions { return blob.PutOptions{Size: int64(len(d)) - 1} }, true, blob.ErrSizeMismatch},
		{"too long new", small, func(d []byte) blob.PutOptions { return blob.PutOptions{Size: 1} }, false, blob.ErrSizeMismatch},
		{"big too short", big, func(d []byte) blob.PutOptions { return blob.PutOptions{Size: int64(len(d)) + 1} }, true, blob.ErrSizeMismatch},
		{"big too long", big, func(d []byte) blob.PutOptions { return blob.PutOptions{Size: int64(len(d)) - 1} }, true, blob.ErrSizeMismatch},
		{"big declared small", big, func(d []byte) blob.PutOptions { return blob.PutOptions{Size: 1000} }, true, blob.ErrSizeMismatch},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			key := fmt.Sprintf("sha/%d", i)
			if tt.existing {
				put(t, s, key, old, blob.PutOptions{ContentType: "text/old", Size: -1})
			}
			info, err := s.Put(t.Context(), key, bytes.NewReader(tt.data), tt.opts(tt.data))
			if tt.wantErr == nil {
				if err != nil {
					t.Fatalf("Put: %v", err)
				}
				if info.SHA256 != Digest(tt.data) {
					t.Errorf("Put SHA256 = %s, want %s", info.SHA256, Digest(tt.data))
				}
				wantContent(t, s, key, tt.data, blob.DefaultContentType)
				return
			}
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("Put = %v, want %v", err, tt.wantErr)
			}
			if tt.existing {
				wantContent(t, s, key, old, "text/old")
			} else {
				wantGone(t, s, key)
			}
		})
	}
}

// failingReader returns err after n bytes of r.
type failingReader struct {
	r   io.Reader
	n   int64
	err error
}

func (f *failingReader) Read(p []byte) (int, error) {
	if f.n <= 0 {
		return 0, f.err
	}
	if int64(len(p)) > f.n {
		p = p[:f.n]
	}
	k, err := f.r.Read(p)
	f.n -= int64(k)
	return k, err
}

// cancelingReader cancels its context after n bytes.
type cancelingReader struct {
	r      io.Reader
	n      int64
	cancel context.CancelFunc
}

func (c *cancelingReader) Read(p []byte) (int, error) {
	k, err := c.r.Read(p)
	c.n -= int64(k)
	if c.n <= 0 {
		c.cancel()
	}
	return k, err
}

func testFailedPutKeepsOld(t *testing.T, s blob.Store) {
	errBroken := errors.New("source broke")
	old := []byte("previous version")
	tests := []struct {
		name    string
		size    int64 // declared
		r       func(cancel context.CancelFunc) io.Reader
		cancel  bool // cancel the context before the Put
		wantErr error
	}{
		{"reader fails early", -1, func(context.CancelFunc) io.Reader {
			return &failingReader{Content(5, 1<<20), 100, errBroken}
		}, false, errBroken},
		{"reader fails late", -1, func(context.CancelFunc) io.Reader {
			return &failingReader{Content(5, bigSize), bigSize - 10, errBroken}
		}, false, errBroken},
		{"reader fails late sized", bigSize, func(context.CancelFunc) io.Reader {
			return &failingReader{Content(5, bigSize), bigSize - 10, errBroken}
		}, false, errBroken},
		{"canceled before", -1, func(context.CancelFunc) io.Reader { return Content(5, 1000) }, true, context.Canceled},
		{"canceled midway", -1, func(cancel context.CancelFunc) io.Reader {
			return &cancelingReader{Content(5, bigSize), 1 << 20, cancel}
		}, false, context.Canceled},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			key := fmt.Sprintf("fail/%d", i)
			fresh := key + "-new"
			put(t, s, key, old, blob.PutOptions{Size: -1})
			for _, k := range []string{key, fresh} {
				ctx, cancel := context.WithCancel(t.Context())
				if tt.cancel {
					cancel()
				}
				_, err := s.Put(ctx, k, tt.r(cancel), blob.PutOptions{Size: tt.size})
				cancel()
				if !errors.Is(err, tt.wantErr) {
					t.Errorf("Put(%q) = %v, want %v", k, err, tt.wantErr)
				}
			}
			wantContent(t, s, key, old, blob.DefaultContentType)
			wantGone(t, s, fresh)
		})
	}
}

// InvalidKeys lists keys every store must refuse.
var InvalidKeys = []string{
	"", "/", "/a", "a/", "a//b", ".", "..", "a/./b", "a/../b", "../a", "a/..", "a b", "a\tb",
	"a\\b", "a:b", "a@b", "a*", "ä", "a\x00b", "a%2Fb",
	strings.Repeat("a", blob.MaxSegmentLen+1),
	strings.Repeat(strings.Repeat("k", 99)+"/", 9) + strings.Repeat("k", blob.MaxKeyLen-900+1), // MaxKeyLen+1 bytes
	"a!", "a/b!",
}

func testInvalidKeys(t *testing.T, s blob.Store) {
	ctx := t.Context()
	for _, key := range InvalidKeys {
		t.Run(fmt.Sprintf("%.20q", key), func(t *testing.T) {
			_, err := s.Put(ctx, key, strings.NewReader("x"), blob.PutOptions{Size: -1})
			check := func(method string, err error) {
				t.Helper()
				if !errors.Is(err, blob.ErrInvalidKey) {
					t.Errorf("%s = %v, want ErrInvalidKey", method, err)
				}
			}
			check("Put", err)
			_, _, err = s.Get(ctx, key)
			check("Get", err)
			_, _, err = s.GetRange(ctx, key, 0, 1)
			check("GetRange", err)
			_, err = s.Stat(ctx, key)
			check("Stat", err)
			check("Delete", s.Delete(ctx, key))
		})
	}
	for _, prefix := range []string{"/", "/a", "a//", "../", "a/../", "./", "a b", "a\\", strings.Repeat("p", blob.MaxKeyLen+1)} {
		err := s.List(ctx, prefix, func(blob.Info) error { return nil })
		if !errors.Is(err, blob.ErrInvalidKey) {
			t.Errorf("List(%.20q) = %v, want ErrInvalidKey", prefix, err)
		}
	}
	if got := keys(list(t, s, "")); len(got) != 0 {
		t.Errorf("store holds %q after refusing every key", got)
	}
}

func testInvalidOptions(t *testing.T, s blob.Store) {
	tests := []blob.PutOptions{
		{ContentType: "text/plain\r\nX-Injected: 1", Size: -1},
		{ContentType: "no slash", Size: -1},
		{ContentType: " text/plain", Size: -1},
		{ContentType: "text/" + strings.Repeat("x", 300), Size: -1},
		{ExpectedSHA256: "abc", Size: -1},
		{ExpectedSHA256: strings.Repeat("g", 64), Size: -1},
		{ExpectedSHA256: Digest(nil) + "00", Size: -1},
	}
	for i, opts := range tests {
		_, err := s.Put(t.Context(), "opts", strings.NewReader("x"), opts)
		if !errors.Is(err, blob.ErrInvalidOptions) {
			t.Errorf("%d: Put(%+v) = %v, want ErrInvalidOptions", i, opts, err)
		}
	}
	wantGone(t, s, "opts")
}

func testValidKeys(t *testing.T, s blob.Store) {
	long := strings.Repeat(strings.Repeat("k", 99)+"/", 9) + strings.Repeat("k", blob.MaxKeyLen-900) // MaxKeyLen bytes
	valid := []string{"a", "A-Z_a.z-0.9", "..a", "...", ".a.", "-", "_", "a/b/c/d/e/f", strings.Repeat("s", blob.MaxSegmentLen), long}
	for i, key := range valid {
		if !blob.ValidKey(key) {
			t.Errorf("ValidKey(%.20q) = false", key)
			continue
		}
		data := []byte(fmt.Sprintf("object %d", i))
		put(t, s, key, data, blob.PutOptions{Size: -1})
		wantContent(t, s, key, data, blob.DefaultContentType)
	}
}

func testKeysAndFolders(t *testing.T, s blob.Store) {
	all := []string{"a", "a-", "a.x", "a/b", "a/b.c", "a/b/c", "a/b/c/d", "a0", "b", "b/a"}
	for _, k := range []string{"b/a", "a0", "a/b/c/d", "a", "a/b.c", "a.x", "a/b/c", "b", "a/b", "a-"} {
		put(t, s, k, []byte("content of "+k), blob.PutOptions{Size: -1})
	}
	tests := []struct {
		prefix string
		want   []string
	}{
		{"", all},
		{"a", []string{"a", "a-", "a.x", "a/b", "a/b.c", "a/b/c", "a/b/c/d", "a0"}},
		{"a/", []string{"a/b", "a/b.c", "a/b/c", "a/b/c/d"}},
		{"a/b", []string{"a/b", "a/b.c", "a/b/c", "a/b/c/d"}},
		{"a/b/", []string{"a/b/c", "a/b/c/d"}},
		{"a/b.", []string{"a/b.c"}},
		{"a.", []string{"a.x"}},
		{"a/b/c/d", []string{"a/b/c/d"}},
		{"b/", []string{"b/a"}},
		{"c", []string{}},
		{"zz/", []string{}},
	}
	for _, tt := range tests {
		got := list(t, s, tt.prefix)
		if diff := cmp.Diff(tt.want, keys(got)); diff != "" {
			t.Errorf("List(%q) keys (-want +got):\n%s", tt.prefix, diff)
		}
		for _, i := range got {
			if diff := cmp.Diff(stat(t, s, i.Key), i); diff != "" {
				t.Errorf("List(%q) entry differs from Stat (-stat +list):\n%s", tt.prefix, diff)
			}
		}
	}
	for _, k := range []string{"a/b/c/d", "a/b/c"} {
		if err := s.Delete(t.Context(), k); err != nil {
			t.Fatalf("Delete(%q): %v", k, err)
		}
	}
	if diff := cmp.Diff([]string{"a/b", "a/b.c"}, keys(list(t, s, "a/"))); diff != "" {
		t.Errorf("List(a/) after deletes (-want +got):\n%s", diff)
	}
	wantContent(t, s, "a/b", []byte("content of a/b"), blob.DefaultContentType)
	wantContent(t, s, "a", []byte("content of a"), blob.DefaultContentType)
	put(t, s, "a/b/c/d", []byte("again"), blob.PutOptions{Size: -1})
	wantContent(t, s, "a/b/c/d", []byte("again"), blob.DefaultContentType)
}

func testListStops(t *testing.T, s blob.Store) {
	for i := range 5 {
		put(t, s, fmt.Sprintf("l/%d", i), []byte{byte(i)}, blob.PutOptions{Size: -1})
	}
	stop := errors.New("stop")
	var seen []string
	err := s.List(t.Context(), "l/", func(i blob.Info) error {
		seen = append(seen, i.Key)
		if len(seen) == 2 {
			return stop
		}
		return nil
	})
	if !errors.Is(err, stop) {
		t.Errorf("List = %v, want the callback's error", err)
	}
	if diff := cmp.Diff([]string{"l/0", "l/1"}, seen); diff != "" {
		t.Errorf("List visited (-want +got):\n%s", diff)
	}
}

func testDelete(t *testing.T, s blob.Store) {
	put(t, s, "d/x", []byte("x"), blob.PutOptions{Size: -1})
	put(t, s, "d/y", []byte("y"), blob.PutOptions{Size: -1})
	for _, k := range []string{"d/x", "d/x", "never/existed", "d"} {
		if err := s.Delete(t.Context(), k); err != nil {
			t.Errorf("Delete(%q): %v", k, err)
		}
	}
	wantGone(t, s, "d/x")
	if _, _, err := s.Get(t.Context(), "d/x"); !errors.Is(err, blob.ErrNotFound) {
		t.Errorf("Get after Delete = %v, want ErrNotFound", err)
	}
	wantContent(t, s, "d/y", []byte("y"), blob.DefaultContentType)
}

func testNotFound(t *testing.T, s blob.Store) {
	put(t, s, "x/y", []byte("y"), blob.PutOptions{Size: -1})
	ctx := t.Context()
	for _, key := range []string{"missing", "x", "x/y/z", "x/yy"} {
		if _, _, err := s.Get(ctx, key); !errors.Is(err, blob.ErrNotFound) {
			t.Errorf("Get(%q) = %v, want ErrNotFound", key, err)
		}
		if _, _, err := s.GetRange(ctx, key, 1, 2); !errors.Is(err, blob.ErrNotFound) {
			t.Errorf("GetRange(%q) = %v, want ErrNotFound", key, err)
		}
		if _, err := s.Stat(ctx, key); !errors.Is(err, blob.ErrNotFound) {
			t.Errorf("Stat(%q) = %v, want ErrNotFound", key, err)
		}
	}
}

func testCanceledContext(t *testing.T, s blob.Store) {
	put(t, s, "c", []byte("c"), blob.PutOptions{Size: -1})
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	check := func(method string, err error) {
		t.Helper()
		if !errors.Is(err, context.Canceled) {
			t.Errorf("%s with a canceled context = %v, want context.Canceled", method, err)
		}
	}
	_, err := s.Put(ctx, "c", strings.NewReader("new"), blob.PutOptions{Size: -1})
	check("Put", err)
	_, _, err = s.Get(ctx, "c")
	check("Get", err)
	_, err = s.Stat(ctx, "c")
	check("Stat", err)
	check("Delete", s.Delete(ctx, "c"))
	check("List", s.List(ctx, "", func(blob.Info) error { return nil }))
	wantContent(t, s, "c", []byte("c"), blob.DefaultContentType)
}

func testLarge(t *testing.T, s blob.Store) {
	const size = 64 << 20
	h := sha256.New()
	if _, err := io.Copy(h, Content(6, size)); err != nil {
		t.Fatal(err)
	}
	want := hex.EncodeToString(h.Sum(nil))

	info, err := s.Put(t.Context(), "large", Content(6, size), blob.PutOptions{ContentType: "video/mp4", Size: -1})
	if err != nil {
		t.Fatalf("Put: %v", err)
	}
	if info.Size != size || info.SHA256 != want {
		t.Errorf("Put info = %+v, want size %d sha256 %s", info, size, want)
	}
	rc, gi, err := s.Get(t.Context(), "large")
	if err != nil {
		t.Fatalf("Get: %v", err)
	}
	h.Reset()
	n, err := io.Copy(h, rc)
	rc.Close()
	if err != nil || n != size || hex.EncodeToString(h.Sum(nil)) != want {
		t.Errorf("Get read %d bytes (err %v), digest %x; want %d bytes, %s", n, err, h.Sum(nil), size, want)
	}
	if diff := cmp.Diff(stat(t, s, "large"), gi); diff != "" {
		t.Errorf("Get info differs from Stat (-stat +get):\n%s", diff)
	}
	if gi.SHA256 != want || gi.Size != size || gi.ContentType != "video/mp4" {
		t.Errorf("Get info = %+v, want size %d, sha256 %s, type video/mp4", gi, size, want)
	}
	const off, length = 16<<20 - 100, 200 // straddles a 16 MiB part boundary
	wantRange := make([]byte, length)
	src := Content(6, size)
	if _, err := io.CopyN(io.Discard, src, off); err != nil {
		t.Fatal(err)
	}
	if _, err := io.ReadFull(src, wantRange); err != nil {
		t.Fatal(err)
	}
	rc, _, err = s.GetRange(t.Context(), "large", off, length)
	if err != nil {
		t.Fatalf("GetRange: %v", err)
	}
	got, err := io.ReadAll(rc)
	rc.Close()
	if err != nil || !bytes.Equal(got, wantRange) {
		t.Errorf("GetRange(%d, %d) returned %d bytes (err %v), not the generated ones", off, length, len(got), err)
	}
}

func testConcurrentPuts(t *testing.T, s blob.Store) {
	const writers, rounds = 6, 3
	sizes := []int64{0, 1, 10 << 10, 200 << 10, 1 << 20, bigSize}
	versions := map[string]int64{} // digest → size
	for w := range writers {
		versions[Digest(Bytes(uint64(100+w), sizes[w]))] = sizes[w]
	}
	put(t, s, "race", Bytes(100, sizes[0]), blob.PutOptions{Size: -1})

	var wg sync.WaitGroup
	errs := make(chan error, writers*rounds+100)
	done := make(chan struct{})
	for w := range writers {
		wg.Go(func() {
			for range rounds {
				if _, err := s.Put(t.Context(), "race", Content(uint64(100+w), sizes[w]), blob.PutOptions{Size: -1}); err != nil {
					errs <- fmt.Errorf("writer %d: %w", w, err)
				}
			}
		})
	}
	var readers sync.WaitGroup
	var reads [2]int
	for r := range reads {
		readers.Go(func() {
			for {
				select {
				case <-done:
					return
				default:
				}
				if err := checkWhole(t.Context(), s, "race", versions); err != nil {
					errs <- fmt.Errorf("reader %d: %w", r, err)
					return
				}
				reads[r]++
			}
		})
	}
	wg.Wait()
	close(done)
	readers.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if err := checkWhole(t.Context(), s, "race", versions); err != nil {
		t.Error(err)
	}
	if got := keys(list(t, s, "")); !cmp.Equal(got, []string{"race"}) {
		t.Errorf("List = %q, want one object", got)
	}
}

// checkWhole reads key and checks that it is one of the versions, whole, and described by
// its own Info.
func checkWhole(ctx context.Context, s blob.Store, key string, versions map[string]int64) error {
	rc, info, err := s.Get(ctx, key)
	if err != nil {
		return err
	}
	defer rc.Close()
	h := sha256.New()
	n, err := io.Copy(h, rc)
	if err != nil {
		return err
	}
	sum := hex.EncodeToString(h.Sum(nil))
	size, ok := versions[sum]
	switch {
	case !ok:
		return fmt.Errorf("read %d bytes matching no written version", n)
	case size != n:
		return fmt.Errorf("read %d bytes, the version has %d", n, size)
	case info.SHA256 != sum || info.Size != n:
		return fmt.Errorf("info %+v does not describe the content read (%d bytes, %s)", info, n, sum)
	}
	return nil
}

func testPing(t *testing.T, s blob.Store) {
	if err := s.Ping(t.Context()); err != nil {
		t.Errorf("Ping: %v", err)
	}
}
