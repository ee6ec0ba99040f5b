package blob

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"
)

// Config selects and configures a store by URL.
type Config struct {
	// URL is one of:
	//	""                     the Files store in DefaultDir
	//	/abs/dir, rel/dir      a Files store in that folder
	//	file:///abs/dir        the same, as a URL
	//	s3://ACCESS:SECRET@host:port/bucket?secure=false&region=us-east-1&prefix=p/
	//	                       an S3 store (secure defaults to true; the bucket is created if missing)
	URL string
	// DefaultDir is the Files folder used when URL is empty.
	DefaultDir string
}

// String describes the configuration without secrets.
func (c Config) String() string {
	return "blob url=" + redactURL(c.URL) + " default_dir=" + c.DefaultDir
}

// LogValue logs the configuration without secrets.
func (c Config) LogValue() slog.Value {
	return slog.GroupValue(slog.String("url", redactURL(c.URL)), slog.String("default_dir", c.DefaultDir))
}

func redactURL(raw string) string {
	if !strings.Contains(raw, "://") {
		return raw
	}
	u, err := url.Parse(raw)
	if err != nil {
		return "(unparsable URL)"
	}
	return u.Redacted()
}

// Open returns the store cfg describes.
func Open(ctx context.Context, cfg Config) (Store, error) {
	raw := cfg.URL
	if raw == "" {
		if cfg.DefaultDir == "" {
			return nil, errors.New("blob: no storage URL and no default folder")
		}
		return NewFiles(FilesConfig{Dir: cfg.DefaultDir})
	}
	if !strings.Contains(raw, "://") {
		return NewFiles(FilesConfig{Dir: raw})
	}
	u, err := url.Parse(raw)
	if err != nil {
		// The parser's message quotes the URL, secret included.
		return nil, errors.New("blob: storage URL does not parse")
	}
	switch u.Scheme {
	case "file":
		dir, err := fileURLDir(u)
		if err != nil {
			return nil, err
		}
		return NewFiles(FilesConfig{Dir: dir})
	case "s3":
		s3cfg, err := parseS3URL(u)
		if err != nil {
			return nil, err
		}
		return NewS3(ctx, s3cfg)
	}
	return nil, fmt.Errorf("blob: unsupported storage URL scheme %q", u.Scheme)
}

func fileURLDir(u *url.URL) (string, error) {
	if u.Host != "" && u.Host != "localhost" {
		return "", errors.New("blob: file URL must be file:///absolute/folder")
	}
	if u.RawQuery != "" || u.User != nil || u.Path == "" || !strings.HasPrefix(u.Path, "/") {
		return "", errors.New("blob: file URL must be file:///absolute/folder")
	}
	return filepath.FromSlash(u.Path), nil
}

// parseS3URL reads an s3:// URL into an S3Config. Errors never quote the URL.
func parseS3URL(u *url.URL) (S3Config, error) {
	if u.Scheme != "s3" || u.Host == "" {
		return S3Config{}, errors.New("blob: s3 URL must be s3://ACCESS:SECRET@host:port/bucket")
	}
	bucket := strings.TrimSuffix(strings.TrimPrefix(u.Path, "/"), "/")
	if bucket == "" || strings.Contains(bucket, "/") {
		return S3Config{}, errors.New("blob: s3 URL path must be /bucket (use ?prefix= for a key prefix)")
	}
	cfg := S3Config{Endpoint: u.Host, Bucket: bucket, Secure: true, AccessKey: u.User.Username()}
	cfg.SecretKey, _ = u.User.Password()
	q, err := url.ParseQuery(u.RawQuery)
	if err != nil {
		return S3Config{}, errors.New("blob: s3 URL query does not parse")
	}
	for name, values := range q {
		if len(values) != 1 {
			return S3Config{}, fmt.Errorf("blob: s3 URL parameter %q given more than once", name)
		}
		v := values[0]
		switch name {
		case "secure":
			b, err := strconv.ParseBool(v)
			if err != nil {
				return S3Config{}, errors.New("blob: s3 URL parameter secure must be true or false")
			}
			cfg.Secure = b
		case "region":
			cfg.Region = v
		case "prefix":
			cfg.Prefix = v
		default:
			return S3Config{}, fmt.Errorf("blob: unknown s3 URL parameter %q", name)
		}
	}
	return cfg, nil
}
