package blob

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
	"github.com/minio/minio-go/v7/pkg/s3utils"
)

const (
	// DefaultPartSize is the S3 multipart part size, and the most an S3 Put buffers in memory
	// before it starts streaming.
	DefaultPartSize = 16 << 20
	minPartSize     = 5 << 20
	// DefaultS3StaleTemp is how old an S3 staging object must be before NewS3 removes it.
	DefaultS3StaleTemp = time.Hour
	// shaMetaKey is the user metadata entry (x-amz-meta-sha256) holding the object's digest.
	shaMetaKey = "Sha256"
	// s3TempDir holds staging objects; "@" keeps it outside the key space.
	s3TempDir = "@tmp/"
)

// S3Config configures an S3 store.
type S3Config struct {
	Endpoint  string // host or host:port
	AccessKey string
	SecretKey string
	Bucket    string // created when missing
	// Prefix, when set, is put before every key inside the bucket, e.g. "cpms/"; at most
	// MaxPrefixLen bytes with its final slash, which is added when missing. Key K is stored
	// as the object PREFIX + K + "!" (see nameSuffix).
	Prefix string
	Secure bool   // HTTPS
	Region string // optional
	// PartSize is the multipart part size (at least 5 MiB); zero means DefaultPartSize.
	// Objects up to this size are buffered and sent in one request; larger ones stream.
	PartSize uint64
	// StaleTemp is how old a staging object left by a failed process must be before NewS3
	// removes it; zero means DefaultS3StaleTemp.
	StaleTemp time.Duration
	// Now is the clock for staging cleanup and the Modified time Put reports; nil means time.Now.
	Now func() time.Time
	// Transport overrides the HTTP transport (custom TLS roots, tracing); nil means default.
	Transport http.RoundTripper
}

// String describes the configuration without the secret key.
func (c S3Config) String() string {
	return fmt.Sprintf("s3 endpoint=%s bucket=%s prefix=%q secure=%t region=%q access_key=%s", c.Endpoint, c.Bucket, c.Prefix, c.Secure, c.Region, c.AccessKey)
}

// LogValue logs the configuration without the secret key.
func (c S3Config) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("endpoint", c.Endpoint), slog.String("bucket", c.Bucket), slog.String("prefix", c.Prefix),
		slog.Bool("secure", c.Secure), slog.String("region", c.Region), slog.String("access_key", c.AccessKey))
}

// S3 is a Store in an S3 bucket (MinIO or any S3-compatible service). The SHA-256 of each
// object is kept in its x-amz-meta-sha256 metadata.
type S3 struct {
	client   *minio.Client
	core     minio.Core
	bucket   string
	prefix   string
	partSize uint64
	now      func() time.Time
	bufs     sync.Pool
}

var _ Store = (*S3)(nil)

// NewS3 connects to the bucket, creating it if missing, and removes stale staging objects.
func NewS3(ctx context.Context, cfg S3Config) (*S3, error) {
	if cfg.Endpoint == "" {
		return nil, errors.New("blob: s3 store needs an endpoint")
	}
	if err := s3utils.CheckValidBucketNameStrict(cfg.Bucket); err != nil {
		return nil, errors.New("blob: s3 bucket name is not valid")
	}
	prefix := cfg.Prefix
	if prefix != "" && !strings.HasSuffix(prefix, "/") {
		prefix += "/"
	}
	if prefix != "" && !ValidKey(strings.TrimSuffix(prefix, "/")) || len(prefix) > MaxPrefixLen {
		return nil, fmt.Errorf("blob: s3 prefix: %w", ErrInvalidKey)
	}
	partSize := cfg.PartSize
	if partSize == 0 {
		partSize = DefaultPartSize
	}
	if partSize < minPartSize {
		return nil, errors.New("blob: s3 part size must be at least 5 MiB")
	}
	client, err := minio.New(cfg.Endpoint, &minio.Options{
		Creds:     credentials.NewStaticV4(cfg.AccessKey, cfg.SecretKey, ""),
		Secure:    cfg.Secure,
		Region:    cfg.Region,
		Transport: cfg.Transport,
	})
	if err != nil {
		return nil, errors.New("blob: s3 endpoint is not valid")
	}
	s := &S3{client: client, core: minio.Core{Client: client}, bucket: cfg.Bucket, prefix: prefix, partSize: partSize, now: time.Now}
	if cfg.Now != nil {
		s.now = cfg.Now
	}
	s.bufs.New = func() any { b := make([]byte, partSize); return &b }

	exists, err := client.BucketExists(ctx, cfg.Bucket)
	if err != nil {
		return nil, s3Err("open bucket", "", err)
	}
	if !exists {
		err := client.MakeBucket(ctx, cfg.Bucket, minio.MakeBucketOptions{Region: cfg.Region})
		if code := s3Code(err); err != nil && code != "BucketAlreadyOwnedByYou" && code != "BucketAlreadyExists" {
			return nil, s3Err("create bucket", "", err)
		}
	}
	stale := cfg.StaleTemp
	if stale <= 0 {
		stale = DefaultS3StaleTemp
	}
	if err := s.removeStaleTemp(ctx, s.now().Add(-stale)); err != nil {
		return nil, err
	}
	return s, nil
}

func (s *S3) removeStaleTemp(ctx context.Context, cutoff time.Time) error {
	for oi := range s.client.ListObjectsIter(ctx, s.bucket, minio.ListObjectsOptions{Prefix: s.prefix + s3TempDir, Recursive: true}) {
		if oi.Err != nil {
			return s3Err("list staging objects", "", oi.Err)
		}
		if oi.LastModified.Before(cutoff) {
			if err := s.client.RemoveObject(ctx, s.bucket, oi.Key, minio.RemoveObjectOptions{}); err != nil {
				return s3Err("remove staging object", "", err)
			}
		}
	}
	return nil
}

// Put implements Store. Content up to the part size is read and checked in memory, then sent
// in one request. Larger content streams as a multipart upload that the verifier aborts on a
// size or digest mismatch before it completes; when no digest was given it is uploaded to a
// staging object first and copied to the key together with its computed digest.
func (s *S3) Put(ctx context.Context, key string, r io.Reader, opts PutOptions) (Info, error) {
	plan, err := planPut(key, opts)
	if err != nil {
		return Info{}, err
	}
	if err := ctx.Err(); err != nil {
		return Info{}, err
	}
	v := newVerifier(ctx, r, plan)
	bp := s.bufs.Get().(*[]byte)
	defer s.bufs.Put(bp)
	buf := *bp
	n, err := io.ReadFull(v, buf)
	switch {
	case err == io.EOF || err == io.ErrUnexpectedEOF || err == nil && v.sum != nil:
		err = s.putSmall(ctx, key, buf[:n], plan.contentType, hex.EncodeToString(v.sum))
	case err == nil:
		err = s.putStream(ctx, key, io.MultiReader(bytes.NewReader(buf), v), v, plan)
	}
	if err != nil {
		if v.err != nil {
			err = v.err // the verifier's finding, not the upload's report of it
		}
		return Info{}, fmt.Errorf("blob: put %s: %w", key, cleanS3Err(err))
	}
	return v.info(key, plan.contentType, s.now().UTC().Truncate(time.Second)), nil
}

func (s *S3) putSmall(ctx context.Context, key string, data []byte, contentType, sum string) error {
	_, err := s.client.PutObject(ctx, s.bucket, s.name(key), bytes.NewReader(data), int64(len(data)), minio.PutObjectOptions{
		ContentType:  contentType,
		UserMetadata: map[string]string{shaMetaKey: sum},
	})
	return err
}

func (s *S3) putStream(ctx context.Context, key string, body io.Reader, v *verifier, plan putPlan) error {
	opts := minio.PutObjectOptions{ContentType: plan.contentType, PartSize: s.partSize}
	if plan.want != nil {
		// The digest is known in advance and checked before the upload completes.
		opts.UserMetadata = map[string]string{shaMetaKey: hex.EncodeToString(plan.want)}
		_, err := s.client.PutObject(ctx, s.bucket, s.name(key), body, plan.size, opts)
		if err == nil && v.sum == nil {
			err = errors.New("blob: upload finished before the content was checked")
		}
		return err
	}
	staging := s.prefix + s3TempDir + rand.Text()
	defer func() {
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
		defer cancel()
		_ = s.client.RemoveObject(cctx, s.bucket, staging, minio.RemoveObjectOptions{})
	}()
	_, err := s.client.PutObject(ctx, s.bucket, staging, body, plan.size, opts)
	if err == nil && v.sum == nil {
		err = errors.New("blob: upload finished before the content was checked")
	}
	if err != nil {
		return err
	}
	sum := hex.EncodeToString(v.sum)
	_, err = s.client.ComposeObject(ctx, minio.CopyDestOptions{
		Bucket:          s.bucket,
		Object:          s.name(key),
		ReplaceMetadata: true,
		UserMetadata:    map[string]string{shaMetaKey: sum, "Content-Type": plan.contentType},
		ContentType:     plan.contentType,
	}, minio.CopySrcOptions{Bucket: s.bucket, Object: staging})
	return err
}

// name is the object name of key in the bucket.
func (s *S3) name(key string) string { return s.prefix + key + nameSuffix }

// Get implements Store.
func (s *S3) Get(ctx context.Context, key string) (io.ReadCloser, Info, error) {
	return s.GetRange(ctx, key, 0, -1)
}

// GetRange implements Store.
func (s *S3) GetRange(ctx context.Context, key string, off, length int64) (io.ReadCloser, Info, error) {
	if err := checkKey(key); err != nil {
		return nil, Info{}, err
	}
	if off < 0 || length < -1 {
		return nil, Info{}, ErrInvalidRange
	}
	if length == 0 {
		info, err := s.Stat(ctx, key)
		if err != nil {
			return nil, Info{}, err
		}
		if _, err := checkRange(off, length, info.Size); err != nil {
			return nil, Info{}, fmt.Errorf("blob: get %s: %w", key, err)
		}
		return emptyBody{}, info, nil
	}
	var opts minio.GetObjectOptions
	switch {
	case off == 0 && length < 0:
	case length < 0:
		_ = opts.SetRange(off, 0)
	default:
		_ = opts.SetRange(off, off+length-1)
	}
	body, oi, hdr, err := s.core.GetObject(ctx, s.bucket, s.name(key), opts)
	if err != nil {
		if s3Code(err) == minio.InvalidRange {
			// S3 refuses a range starting at the end; the contract serves it empty.
			info, serr := s.Stat(ctx, key)
			if serr != nil {
				return nil, Info{}, serr
			}
			if off == info.Size {
				return emptyBody{}, info, nil
			}
		}
		return nil, Info{}, s3Err("get", key, err)
	}
	info := s.toInfo(key, oi)
	if cr := hdr.Get("Content-Range"); cr != "" {
		// bytes FIRST-LAST/TOTAL: the object's size is TOTAL.
		total, perr := strconv.ParseInt(cr[strings.LastIndexByte(cr, '/')+1:], 10, 64)
		if perr != nil {
			body.Close()
			return nil, Info{}, fmt.Errorf("blob: get %s: unexpected Content-Range", key)
		}
		info.Size = total
	}
	return body, info, nil
}

// Stat implements Store.
func (s *S3) Stat(ctx context.Context, key string) (Info, error) {
	if err := checkKey(key); err != nil {
		return Info{}, err
	}
	oi, err := s.client.StatObject(ctx, s.bucket, s.name(key), minio.StatObjectOptions{})
	if err != nil {
		return Info{}, s3Err("stat", key, err)
	}
	return s.toInfo(key, oi), nil
}

func (s *S3) toInfo(key string, oi minio.ObjectInfo) Info {
	sum := metaValue(oi.UserMetadata, shaMetaKey)
	if !validDigest(sum) {
		sum = ""
	}
	ct := oi.ContentType
	if ct == "" {
		ct = DefaultContentType
	}
	return Info{Key: key, Size: oi.Size, SHA256: sum, ContentType: ct, Modified: oi.LastModified.UTC().Truncate(time.Second)}
}

func metaValue(m map[string]string, name string) string {
	for k, v := range m {
		if strings.EqualFold(k, name) {
			return v
		}
	}
	return ""
}

// Delete implements Store.
func (s *S3) Delete(ctx context.Context, key string) error {
	if err := checkKey(key); err != nil {
		return err
	}
	err := s.client.RemoveObject(ctx, s.bucket, s.name(key), minio.RemoveObjectOptions{})
	if err != nil && s3Code(err) != minio.NoSuchKey {
		return s3Err("delete", key, err)
	}
	return nil
}

// List implements Store. MinIO returns each object's metadata with the listing; other
// services need one Stat per object.
func (s *S3) List(ctx context.Context, prefix string, fn func(Info) error) error {
	if !validPrefix(prefix) {
		return ErrInvalidKey
	}
	lctx, cancel := context.WithCancel(ctx)
	defer cancel()
	for oi := range s.client.ListObjectsIter(lctx, s.bucket, minio.ListObjectsOptions{Prefix: s.prefix + prefix, Recursive: true, WithMetadata: true}) {
		if oi.Err != nil {
			return s3Err("list", "", oi.Err)
		}
		key, ok := strings.CutSuffix(strings.TrimPrefix(oi.Key, s.prefix), nameSuffix)
		if !ok || !ValidKey(key) {
			continue // staging objects and objects other tools put in the bucket
		}
		sum := metaValue(oi.UserMetadataStripped, shaMetaKey)
		ct := metaValue(oi.UserMetadata, "Content-Type")
		var info Info
		if validDigest(sum) && ct != "" {
			info = Info{Key: key, Size: oi.Size, SHA256: sum, ContentType: ct, Modified: oi.LastModified.UTC().Truncate(time.Second)}
		} else {
			var err error
			info, err = s.Stat(ctx, key)
			if errors.Is(err, ErrNotFound) {
				continue
			}
			if err != nil {
				return err
			}
		}
		if err := fn(info); err != nil {
			return err
		}
	}
	return ctx.Err()
}

// Ping implements Store: it checks that the bucket is reachable.
func (s *S3) Ping(ctx context.Context) error {
	ok, err := s.client.BucketExists(ctx, s.bucket)
	if err != nil {
		return s3Err("ping", "", err)
	}
	if !ok {
		return errors.New("blob: ping: bucket is missing")
	}
	return nil
}

func s3Code(err error) string {
	var er minio.ErrorResponse
	if errors.As(err, &er) {
		return er.Code
	}
	return ""
}

// s3Err maps an S3 error to the package's errors, keeping the service's code and message but
// not the request details.
func s3Err(op, key string, err error) error {
	what := "blob: " + op
	if key != "" {
		what += " " + key
	}
	switch s3Code(err) {
	case minio.NoSuchKey:
		return fmt.Errorf("%s: %w", what, ErrNotFound)
	case minio.InvalidRange:
		return fmt.Errorf("%s: %w", what, ErrInvalidRange)
	}
	return fmt.Errorf("%s: %w", what, cleanS3Err(err))
}

func cleanS3Err(err error) error {
	var er minio.ErrorResponse
	if errors.As(err, &er) {
		return fmt.Errorf("s3 %s: %s", er.Code, er.Message)
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		return fmt.Errorf("s3 %s: %w", ue.Op, ue.Err)
	}
	return err
}
