package blob

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/iotest"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestValidKey(t *testing.T) {
	tests := []struct {
		key  string
		want bool
	}{
		{"a", true},
		{"dicom/1.2.840.10008/1.2.3/4.5.6", true},
		{"A-Z_a.z-0.9", true},
		{"..a", true},
		{"...", true},
		{"a..b/c", true},
		{strings.Repeat("s", MaxSegmentLen), true},
		{strings.Repeat(strings.Repeat("k", 99)+"/", 9) + strings.Repeat("k", MaxKeyLen-900), true},
		{"", false},
		{"/a", false},
		{"a/", false},
		{"a//b", false},
		{".", false},
		{"..", false},
		{"a/./b", false},
		{"a/../b", false},
		{"a!", false},
		{"a@b", false},
		{"a b", false},
		{"é", false},
		{strings.Repeat("s", MaxSegmentLen+1), false},
		{strings.Repeat(strings.Repeat("k", 99)+"/", 9) + strings.Repeat("k", MaxKeyLen-900+1), false},
	}
	for _, tt := range tests {
		if got := ValidKey(tt.key); got != tt.want {
			t.Errorf("ValidKey(%.30q) = %t, want %t", tt.key, got, tt.want)
		}
	}
}

func TestValidPrefix(t *testing.T) {
	tests := []struct {
		prefix string
		want   bool
	}{
		{"", true},
		{"a", true},
		{"a/", true},
		{"a/b", true},
		{"a/.", true},
		{"a/..", true}, // begins "a/..x"
		{"/", false},
		{"/a", false},
		{"a//", false},
		{"../", false},
		{"a/../", false},
		{"a!", false},
		{strings.Repeat("s", MaxSegmentLen+1), false},
	}
	for _, tt := range tests {
		if got := validPrefix(tt.prefix); got != tt.want {
			t.Errorf("validPrefix(%.30q) = %t, want %t", tt.prefix, got, tt.want)
		}
	}
}

// FuzzKeys checks the properties the backends rely on: a valid key maps to a file inside the
// objects folder and back; every beginning of a valid key is a valid list prefix; and adding
// the name suffix keeps keys in order.
func FuzzKeys(f *testing.F) {
	for _, seed := range [][2]string{{"a", "a/b"}, {"a-", "a/b"}, {"a.b", "a/b"}, {"..", "x"}, {"a/b", "a0"}} {
		f.Add(seed[0], seed[1])
	}
	root := f.TempDir()
	files := &Files{objects: filepath.Join(root, "objects")}
	f.Fuzz(func(t *testing.T, a, b string) {
		if !ValidKey(a) {
			return
		}
		p := files.objectPath(a)
		rel, err := filepath.Rel(files.objects, p)
		if err != nil || filepath.ToSlash(rel) != a+nameSuffix {
			t.Errorf("objectPath(%q) = %q, outside the folder or not the key", a, p)
		}
		for i := range len(a) + 1 {
			if !validPrefix(a[:i]) {
				t.Errorf("validPrefix(%q) = false for a beginning of key %q", a[:i], a)
			}
		}
		if ValidKey(b) && (a < b) != (a+nameSuffix < b+nameSuffix) {
			t.Errorf("suffix changes the order of %q and %q", a, b)
		}
	})
}

func digestOf(b []byte) []byte {
	s := sha256.Sum256(b)
	return s[:]
}

func TestVerifier(t *testing.T) {
	content := bytes.Repeat([]byte("0123456789"), 1000)
	other := digestOf([]byte("other"))
	tests := []struct {
		name    string
		size    int64
		want    []byte
		wantErr error
	}{
		{"unknown size", -1, nil, nil},
		{"unknown size, digest", -1, digestOf(content), nil},
		{"unknown size, wrong digest", -1, other, ErrChecksumMismatch},
		{"size", int64(len(content)), nil, nil},
		{"size, digest", int64(len(content)), digestOf(content), nil},
		{"size, wrong digest", int64(len(content)), other, ErrChecksumMismatch},
		{"declared longer", int64(len(content)) + 1, nil, ErrSizeMismatch},
		{"declared shorter", int64(len(content)) - 1, nil, ErrSizeMismatch},
		{"declared one", 1, nil, ErrSizeMismatch},
	}
	wrap := map[string]func(io.Reader) io.Reader{
		"plain":    func(r io.Reader) io.Reader { return r },
		"bytewise": iotest.OneByteReader,
		"halves":   iotest.HalfReader,
		"eof+data": iotest.DataErrReader,
	}
	for _, tt := range tests {
		for wname, w := range wrap {
			t.Run(tt.name+"/"+wname, func(t *testing.T) {
				plan := putPlan{size: tt.size, want: tt.want}
				// A consumer that reads to the end.
				v := newVerifier(t.Context(), w(bytes.NewReader(content)), plan)
				got, err := io.ReadAll(v)
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("ReadAll = %v, want %v", err, tt.wantErr)
				}
				if err == nil {
					if !bytes.Equal(got, content) || v.n != int64(len(content)) || !bytes.Equal(v.sum, digestOf(content)) {
						t.Errorf("verifier passed %d bytes, counted %d, digest %x", len(got), v.n, v.sum)
					}
					info := v.info("k", "t/t", time.Time{})
					if info.SHA256 != hex.EncodeToString(digestOf(content)) || info.Size != int64(len(content)) {
						t.Errorf("info = %+v", info)
					}
				}
				// A consumer that stops after the declared length, like an HTTP body with a
				// Content-Length: it must hear of a mismatch before it has every byte.
				if tt.size > 0 {
					v := newVerifier(t.Context(), w(bytes.NewReader(content)), plan)
					_, err := io.ReadFull(v, make([]byte, tt.size))
					if (tt.wantErr == nil) != (err == nil) {
						t.Errorf("ReadFull of the declared %d bytes = %v, want error %v", tt.size, err, tt.wantErr)
					}
				}
			})
		}
	}
}

func TestVerifierSource(t *testing.T) {
	broken := errors.New("broken")
	v := newVerifier(t.Context(), iotest.ErrReader(broken), putPlan{size: -1})
	if _, err := io.ReadAll(v); !errors.Is(err, broken) {
		t.Errorf("ReadAll = %v, want the source's error", err)
	}
	if _, err := v.Read(make([]byte, 1)); !errors.Is(err, broken) {
		t.Errorf("Read after failure = %v, want the same error again", err)
	}
}

func newTestFiles(t *testing.T) *Files {
	t.Helper()
	f, err := NewFiles(FilesConfig{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func TestCorruptObjects(t *testing.T) {
	good := encodeTrailer(Info{Size: 3, SHA256: hex.EncodeToString(digestOf([]byte("abc"))), ContentType: "text/plain"})
	tail := func(metaLen uint32, magic string) []byte {
		return append([]byte{byte(metaLen >> 24), byte(metaLen >> 16), byte(metaLen >> 8), byte(metaLen)}, magic...)
	}
	tests := map[string][]byte{
		"empty":         nil,
		"short":         []byte("abc"),
		"no trailer":    bytes.Repeat([]byte("x"), 100),
		"bad magic":     append([]byte("abc"), append(bytes.Clone(good[:len(good)-1]), '2')...),
		"content short": append([]byte("ab"), good...),
		"extra byte":    append([]byte("abcd"), good...),
		"huge meta len": append([]byte("abc{}"), tail(1<<30, trailerMagic)...),
		"meta too long": append([]byte("abc{}"), tail(6, trailerMagic)...),
		"bad json":      append([]byte("abc{x"), tail(2, trailerMagic)...),
		"bad digest":    append([]byte("abc"), encodeTrailer(Info{Size: 3, SHA256: "xyz"})...),
	}
	for name, raw := range tests {
		t.Run(name, func(t *testing.T) {
			f := newTestFiles(t)
			if err := os.WriteFile(f.objectPath("k"), raw, 0o600); err != nil {
				t.Fatal(err)
			}
			if _, err := f.Stat(t.Context(), "k"); !errors.Is(err, ErrCorrupt) {
				t.Errorf("Stat = %v, want ErrCorrupt", err)
			}
			if _, _, err := f.Get(t.Context(), "k"); !errors.Is(err, ErrCorrupt) {
				t.Errorf("Get = %v, want ErrCorrupt", err)
			}
			if err := f.List(t.Context(), "", func(Info) error { return nil }); !errors.Is(err, ErrCorrupt) {
				t.Errorf("List = %v, want ErrCorrupt", err)
			}
		})
	}
	t.Run("good", func(t *testing.T) {
		f := newTestFiles(t)
		if err := os.WriteFile(f.objectPath("k"), append([]byte("abc"), good...), 0o600); err != nil {
			t.Fatal(err)
		}
		rc, info, err := f.Get(t.Context(), "k")
		if err != nil {
			t.Fatal(err)
		}
		got, _ := io.ReadAll(rc)
		rc.Close()
		if string(got) != "abc" || info.ContentType != "text/plain" {
			t.Errorf("Get = %q, %+v", got, info)
		}
	})
}

func TestStaleTemp(t *testing.T) {
	f := newTestFiles(t)
	now := time.Now()
	files := map[string]time.Duration{ // name → age
		"put-old":    2 * time.Minute,
		"put-locked": 2 * time.Minute,
		"put-recent": 30 * time.Second,
		"ping-old":   time.Hour,
	}
	for name, age := range files {
		p := filepath.Join(f.tmp, name)
		if err := os.WriteFile(p, []byte("partial"), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Chtimes(p, now.Add(-age), now.Add(-age)); err != nil {
			t.Fatal(err)
		}
	}
	held, err := os.Open(filepath.Join(f.tmp, "put-locked"))
	if err != nil {
		t.Fatal(err)
	}
	defer held.Close()
	if err := lockFile(held); err != nil {
		t.Fatal(err)
	}
	if _, err := NewFiles(FilesConfig{Dir: f.dir, Now: func() time.Time { return now }}); err != nil {
		t.Fatal(err)
	}
	var left []string
	entries, _ := os.ReadDir(f.tmp)
	for _, e := range entries {
		left = append(left, e.Name())
	}
	if diff := cmp.Diff([]string{"put-locked", "put-recent"}, left); diff != "" {
		t.Errorf("temporary files left (-want +got):\n%s", diff)
	}
}

func TestErrorsHidePaths(t *testing.T) {
	f := newTestFiles(t)
	if err := os.RemoveAll(f.tmp); err != nil {
		t.Fatal(err)
	}
	_, err := f.Put(t.Context(), "k", strings.NewReader("x"), PutOptions{})
	if err == nil || strings.Contains(err.Error(), f.dir) {
		t.Errorf("Put = %v, want an error without the folder", err)
	}
	if !errors.Is(err, os.ErrNotExist) {
		t.Errorf("Put = %v, want the cause to stay visible to errors.Is", err)
	}
	if err := f.Ping(t.Context()); err == nil || strings.Contains(err.Error(), f.dir) {
		t.Errorf("Ping = %v, want an error without the folder", err)
	}
}

func TestParseS3URL(t *testing.T) {
	tests := []struct {
		raw     string
		want    S3Config
		wantErr bool
	}{
		{raw: "s3://ak:sk@127.0.0.1:9000/cpms?secure=false&region=eu-west-1&prefix=p/",
			want: S3Config{Endpoint: "127.0.0.1:9000", AccessKey: "ak", SecretKey: "sk", Bucket: "cpms", Prefix: "p/", Region: "eu-west-1"}},
		{raw: "s3://ak:s%2Fk%40@minio.example.org/cpms/",
			want: S3Config{Endpoint: "minio.example.org", AccessKey: "ak", SecretKey: "s/k@", Bucket: "cpms", Secure: true}},
		{raw: "s3://minio:9000/anon", want: S3Config{Endpoint: "minio:9000", Bucket: "anon", Secure: true}},
		{raw: "s3:///bucket", wantErr: true},
		{raw: "s3://h/", wantErr: true},
		{raw: "s3://h/b/c", wantErr: true},
		{raw: "s3://h/b?secure=sometimes", wantErr: true},
		{raw: "s3://h/b?secure=true&secure=false", wantErr: true},
		{raw: "s3://h/b?bucket=x", wantErr: true},
		{raw: "http://h/b", wantErr: true},
	}
	for _, tt := range tests {
		u, err := url.Parse(tt.raw)
		if err != nil {
			t.Fatal(err)
		}
		got, err := parseS3URL(u)
		if (err != nil) != tt.wantErr {
			t.Errorf("parseS3URL(%q) error = %v, want error %t", tt.raw, err, tt.wantErr)
			continue
		}
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("parseS3URL(%q) (-want +got):\n%s", tt.raw, diff)
		}
	}
}
