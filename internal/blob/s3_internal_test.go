package blob

import (
	"context"
	"crypto/rand"
	"errors"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"
)

// testS3Config returns the S3 configuration of CPMS_TEST_S3_URL under a fresh prefix, or
// skips (fails in CI) when the variable is not set.
func testS3Config(t *testing.T) S3Config {
	t.Helper()
	raw := os.Getenv("CPMS_TEST_S3_URL")
	if raw == "" {
		if os.Getenv("CI") == "true" {
			t.Fatal("CI requires CPMS_TEST_S3_URL")
		}
		t.Skip("CPMS_TEST_S3_URL is not set; skipping the S3 tests")
	}
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal("CPMS_TEST_S3_URL does not parse")
	}
	cfg, err := parseS3URL(u)
	if err != nil {
		t.Fatal(err)
	}
	cfg.Prefix = strings.TrimPrefix(strings.TrimSuffix(cfg.Prefix, "/")+"/internal-"+strings.ToLower(rand.Text())+"/", "/")
	return cfg
}

func TestS3StaleStaging(t *testing.T) {
	cfg := testS3Config(t)
	s, err := NewS3(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	staging := s.prefix + s3TempDir + "left-by-a-crash"
	if _, err := s.client.PutObject(t.Context(), s.bucket, staging, strings.NewReader("partial"), 7, minio.PutObjectOptions{}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.client.RemoveObject(context.Background(), s.bucket, staging, minio.RemoveObjectOptions{}) })
	var listed []string
	if err := s.List(t.Context(), "", func(i Info) error { listed = append(listed, i.Key); return nil }); err != nil {
		t.Fatal(err)
	}
	if len(listed) != 0 {
		t.Errorf("List shows %q; staging objects must stay hidden", listed)
	}
	exists := func() bool {
		_, err := s.client.StatObject(t.Context(), s.bucket, staging, minio.StatObjectOptions{})
		if err != nil && s3Code(err) != minio.NoSuchKey {
			t.Fatal(err)
		}
		return err == nil
	}
	if _, err := NewS3(t.Context(), cfg); err != nil {
		t.Fatal(err)
	}
	if !exists() {
		t.Fatal("a recent staging object was removed")
	}
	cfg.Now = func() time.Time { return time.Now().Add(2 * DefaultS3StaleTemp) }
	if _, err := NewS3(t.Context(), cfg); err != nil {
		t.Fatal(err)
	}
	if exists() {
		t.Error("a stale staging object survived reopening")
	}
}

func TestS3ForeignObjects(t *testing.T) {
	cfg := testS3Config(t)
	s, err := NewS3(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	// An object another tool stored under the key's own name, without the suffix or digest.
	foreign := s.prefix + "k"
	if _, err := s.client.PutObject(t.Context(), s.bucket, foreign, strings.NewReader("x"), 1, minio.PutObjectOptions{}); err != nil {
		t.Fatal(err)
	}
	// An object stored under the encoded name but without the digest metadata.
	bare := s.name("bare")
	if _, err := s.client.PutObject(t.Context(), s.bucket, bare, strings.NewReader("y"), 1, minio.PutObjectOptions{}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		for _, n := range []string{foreign, bare} {
			s.client.RemoveObject(context.Background(), s.bucket, n, minio.RemoveObjectOptions{})
		}
	})
	if _, err := s.Stat(t.Context(), "k"); !errors.Is(err, ErrNotFound) {
		t.Errorf("Stat(k) = %v, want ErrNotFound", err)
	}
	var listed []Info
	if err := s.List(t.Context(), "", func(i Info) error { listed = append(listed, i); return nil }); err != nil {
		t.Fatal(err)
	}
	if len(listed) != 1 || listed[0].Key != "bare" || listed[0].SHA256 != "" || listed[0].Size != 1 {
		t.Errorf("List = %+v, want only bare, without a digest", listed)
	}
}
