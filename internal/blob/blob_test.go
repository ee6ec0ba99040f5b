package blob_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"fmt"
	"io"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/ern-cpms/cpms/internal/blob"
	"github.com/ern-cpms/cpms/internal/blob/blobtest"
)

func openFiles(t testing.TB) *blob.Files {
	t.Helper()
	f, err := blob.NewFiles(blob.FilesConfig{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func TestFiles(t *testing.T) {
	blobtest.Run(t, func(t *testing.T) blob.Store { return openFiles(t) })
}

// s3URL returns the S3 store URL the tests use, or skips (fails in CI) when there is none.
func s3URL(t testing.TB) string {
	t.Helper()
	raw := os.Getenv("CPMS_TEST_S3_URL")
	if raw == "" {
		if os.Getenv("CI") == "true" {
			t.Fatal("CI requires CPMS_TEST_S3_URL")
		}
		t.Skip("CPMS_TEST_S3_URL is not set; skipping the S3 tests")
	}
	return raw
}

// openS3 opens the S3 store at raw under a fresh random key prefix, and empties that prefix
// when the test ends.
func openS3(t testing.TB, raw string) blob.Store {
	t.Helper()
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal("CPMS_TEST_S3_URL does not parse")
	}
	q := u.Query()
	q.Set("prefix", strings.TrimSuffix(q.Get("prefix"), "/")+"/test-"+strings.ToLower(rand.Text())+"/")
	q.Set("prefix", strings.TrimPrefix(q.Get("prefix"), "/"))
	u.RawQuery = q.Encode()
	s, err := blob.Open(context.Background(), blob.Config{URL: u.String()})
	if err != nil {
		t.Fatalf("open S3 store: %v", err)
	}
	t.Cleanup(func() {
		ctx := context.Background()
		var keys []string
		if err := s.List(ctx, "", func(i blob.Info) error { keys = append(keys, i.Key); return nil }); err != nil {
			t.Errorf("cleanup: %v", err)
		}
		for _, k := range keys {
			if err := s.Delete(ctx, k); err != nil {
				t.Errorf("cleanup: %v", err)
			}
		}
	})
	return s
}

func TestS3(t *testing.T) {
	raw := s3URL(t)
	blobtest.Run(t, func(t *testing.T) blob.Store { return openS3(t, raw) })
}

func TestOpenFiles(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name string
		cfg  blob.Config
	}{
		{"default folder", blob.Config{DefaultDir: dir + "/default"}},
		{"plain path", blob.Config{URL: dir + "/plain", DefaultDir: dir + "/unused"}},
		{"file URL", blob.Config{URL: "file://" + dir + "/url"}},
		{"file URL localhost", blob.Config{URL: "file://localhost" + dir + "/local"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := blob.Open(t.Context(), tt.cfg)
			if err != nil {
				t.Fatalf("Open: %v", err)
			}
			if _, ok := s.(*blob.Files); !ok {
				t.Fatalf("Open returned %T, want *blob.Files", s)
			}
			if _, err := s.Put(t.Context(), "k", strings.NewReader("v"), blob.PutOptions{}); err != nil {
				t.Fatal(err)
			}
		})
	}
	for _, name := range []string{"default", "plain", "url", "local"} {
		if _, err := os.Stat(dir + "/" + name + "/objects/k!"); err != nil {
			t.Errorf("object not stored in %s: %v", name, err)
		}
	}
}

func TestOpenErrorsHideSecrets(t *testing.T) {
	const secret = "Sup3rSecretKey"
	tests := []string{
		"s3://ak:" + secret + "@[::1",              // does not parse
		"s3://ak:" + secret + "@host:9000/",        // no bucket
		"s3://ak:" + secret + "@host:9000/b/extra", // extra path
		"s3://ak:" + secret + "@host:9000/B_A_D",   // bad bucket name
		"s3://ak:" + secret + "@host:9000/okay?secure=maybe",
		"s3://ak:" + secret + "@host:9000/okay?unknown=1",
		"s3://ak:" + secret + "@host:9000/okay?prefix=../x",
		"s3://ak:" + secret + "@host:9000/okay?%zz",
		"ftp://ak:" + secret + "@host/x",
		"file://ak:" + secret + "@host/x",
		"file:///x?secret=" + secret,
	}
	for _, raw := range tests {
		_, err := blob.Open(t.Context(), blob.Config{URL: raw})
		if err == nil {
			t.Errorf("Open(%q) succeeded, want an error", raw)
			continue
		}
		if strings.Contains(err.Error(), secret) {
			t.Errorf("Open error %q reveals the secret", err)
		}
	}
	if _, err := blob.Open(t.Context(), blob.Config{}); err == nil {
		t.Error("Open with neither URL nor default folder succeeded")
	}
	cfg := blob.Config{URL: "s3://ak:" + secret + "@host:9000/bucket"}
	s3cfg := blob.S3Config{Endpoint: "host:9000", AccessKey: "ak", SecretKey: secret, Bucket: "b"}
	for _, s := range []string{cfg.String(), fmt.Sprint(cfg), fmt.Sprintf("%+v", cfg), s3cfg.String(), fmt.Sprintf("%+v", s3cfg),
		cfg.LogValue().String(), s3cfg.LogValue().String()} {
		if strings.Contains(s, secret) {
			t.Errorf("configuration shown as %q reveals the secret", s)
		}
	}
}

func TestPutSurvivesConcurrentOpen(t *testing.T) {
	dir := t.TempDir()
	s, err := blob.NewFiles(blob.FilesConfig{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	pr, pw := io.Pipe()
	type result struct {
		info blob.Info
		err  error
	}
	done := make(chan result)
	go func() {
		info, err := s.Put(t.Context(), "slow", pr, blob.PutOptions{Size: -1})
		done <- result{info, err}
	}()
	if _, err := pw.Write([]byte("first half, ")); err != nil {
		t.Fatal(err)
	}
	// Another process opens the folder much later, judging the upload's temporary file stale
	// by age: its lock must keep it.
	later := func() time.Time { return time.Now().Add(time.Hour) }
	if _, err := blob.NewFiles(blob.FilesConfig{Dir: dir, Now: later}); err != nil {
		t.Fatal(err)
	}
	if _, err := pw.Write([]byte("second half")); err != nil {
		t.Fatal(err)
	}
	pw.Close()
	res := <-done
	if res.err != nil {
		t.Fatalf("Put: %v", res.err)
	}
	rc, _, err := s.Get(t.Context(), "slow")
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	got, _ := io.ReadAll(rc)
	if !bytes.Equal(got, []byte("first half, second half")) {
		t.Errorf("stored %q", got)
	}
}

var benchSizes = []struct {
	name string
	size int64
}{
	{"4KiB", 4 << 10},
	{"1MiB", 1 << 20},
	{"64MiB", 64 << 20},
}

// benchPut measures Put with an unknown size; the "+sha" variants pass the expected digest,
// which lets the S3 store stream a large object straight to its key.
func benchPut(b *testing.B, s blob.Store) {
	for _, bs := range benchSizes {
		for _, withSHA := range []bool{false, true} {
			name := bs.name
			if withSHA {
				name += "+sha"
			}
			b.Run(name, func(b *testing.B) {
				data := blobtest.Bytes(1, bs.size)
				opts := blob.PutOptions{Size: -1}
				if withSHA {
					opts.ExpectedSHA256 = blobtest.Digest(data)
				}
				b.SetBytes(bs.size)
				b.ReportAllocs()
				i := 0
				for b.Loop() {
					key := fmt.Sprintf("bench/%d", i%8)
					i++
					if _, err := s.Put(b.Context(), key, bytes.NewReader(data), opts); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

func benchGet(b *testing.B, s blob.Store) {
	for _, bs := range benchSizes {
		b.Run(bs.name, func(b *testing.B) {
			key := "bench/get-" + bs.name
			if _, err := s.Put(b.Context(), key, blobtest.Content(2, bs.size), blob.PutOptions{Size: -1}); err != nil {
				b.Fatal(err)
			}
			sink, err := os.Create(os.DevNull)
			if err != nil {
				b.Fatal(err)
			}
			defer sink.Close()
			b.SetBytes(bs.size)
			b.ReportAllocs()
			for b.Loop() {
				rc, _, err := s.Get(b.Context(), key)
				if err != nil {
					b.Fatal(err)
				}
				// Copying into a buffer-less writer shows what a server pays per byte.
				if _, err := io.Copy(writerOnly{sink}, rc); err != nil {
					b.Fatal(err)
				}
				rc.Close()
			}
		})
	}
}

type writerOnly struct{ io.Writer }

// BenchmarkFilesPut measures durable writes: each Put fsyncs the object and its folder.
func BenchmarkFilesPut(b *testing.B) { benchPut(b, openFiles(b)) }

func BenchmarkFilesGet(b *testing.B) { benchGet(b, openFiles(b)) }

func BenchmarkS3Put(b *testing.B) { benchPut(b, openS3(b, s3URL(b))) }

func BenchmarkS3Get(b *testing.B) { benchGet(b, openS3(b, s3URL(b))) }
