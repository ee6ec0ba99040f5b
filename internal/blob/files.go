package blob

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"syscall"
	"time"
)

// The Files layout under its folder DIR:
//
//	DIR/objects/<key>!   one file per object: the content, then a trailer (below)
//	DIR/tmp/put-*        uploads in progress, renamed into objects/ once complete
//
// Each object is a single file, committed by one rename, so a reader that opens it gets the
// content and its recorded size, type and digest from the same version, whatever happens
// concurrently or in a crash. The "!" ending (nameSuffix) keeps an object's file apart from
// the folder of longer keys: "a" and "a/b" can both exist.
//
// The trailer is a JSON record (fileMeta) followed by its length as a big-endian uint32 and
// the 8-byte magic trailerMagic. Strip it with head -c <size> to recover the raw content.

const (
	trailerMagic   = "CPMSBLB1"
	trailerTailLen = 4 + len(trailerMagic)
	maxMetaLen     = 4096
	tempPrefix     = "put-"
	copyBufferSize = 256 << 10
	renameAttempts = 8
)

// DefaultStaleTemp is how old an unused temporary file must be before NewFiles removes it.
const DefaultStaleTemp = time.Minute

type fileMeta struct {
	Version     int    `json:"v"`
	Size        int64  `json:"size"`
	SHA256      string `json:"sha256"`
	ContentType string `json:"type"`
}

// FilesConfig configures a Files store.
type FilesConfig struct {
	// Dir is the store's folder; it is created if missing.
	Dir string
	// StaleTemp is how long a temporary file must have gone unmodified, and unlocked by any
	// process, before NewFiles removes it as the leftover of a crash; zero means
	// DefaultStaleTemp. Other processes may be uploading into the same folder.
	StaleTemp time.Duration
	// Now is the clock used to judge temporary files; nil means time.Now.
	Now func() time.Time
}

// Files is a Store in a local folder. Several processes may share the folder.
type Files struct {
	dir     string
	objects string
	tmp     string
	bufs    sync.Pool
}

var _ Store = (*Files)(nil)

// NewFiles opens (creating if needed) a store in cfg.Dir and removes the stale temporary files
// a crashed process left behind.
func NewFiles(cfg FilesConfig) (*Files, error) {
	if cfg.Dir == "" {
		return nil, errors.New("blob: files store needs a folder")
	}
	dir, err := filepath.Abs(cfg.Dir)
	if err != nil {
		return nil, fmt.Errorf("blob: files store folder: %w", cleanErr(err))
	}
	f := &Files{dir: dir, objects: filepath.Join(dir, "objects"), tmp: filepath.Join(dir, "tmp")}
	f.bufs.New = func() any { b := make([]byte, copyBufferSize); return &b }
	for _, d := range []string{f.objects, f.tmp} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			return nil, fmt.Errorf("blob: create store folder: %w", cleanErr(err))
		}
	}
	stale := cfg.StaleTemp
	if stale <= 0 {
		stale = DefaultStaleTemp
	}
	now := time.Now
	if cfg.Now != nil {
		now = cfg.Now
	}
	if err := f.removeStaleTemp(now().Add(-stale)); err != nil {
		return nil, err
	}
	return f, nil
}

// removeStaleTemp deletes temporary files last modified before cutoff that no live upload holds.
func (f *Files) removeStaleTemp(cutoff time.Time) error {
	entries, err := os.ReadDir(f.tmp)
	if err != nil {
		return fmt.Errorf("blob: read temporary folder: %w", cleanErr(err))
	}
	for _, e := range entries {
		if !e.Type().IsRegular() {
			continue
		}
		fi, err := e.Info()
		if err != nil || !fi.ModTime().Before(cutoff) {
			continue
		}
		if err := removeUnlocked(filepath.Join(f.tmp, e.Name())); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("blob: remove stale temporary file: %w", cleanErr(err))
		}
	}
	return nil
}

// removeUnlocked removes path unless another open file description holds its lock.
func removeUnlocked(path string) error {
	fh, err := os.Open(path)
	if err != nil {
		return err
	}
	defer fh.Close()
	if lockFile(fh) != nil {
		return nil // an upload in progress, possibly in another process
	}
	return os.Remove(path)
}

func (f *Files) objectPath(key string) string {
	return filepath.Join(f.objects, filepath.FromSlash(key)) + nameSuffix
}

// Put implements Store.
func (f *Files) Put(ctx context.Context, key string, r io.Reader, opts PutOptions) (Info, error) {
	plan, err := planPut(key, opts)
	if err != nil {
		return Info{}, err
	}
	if err := ctx.Err(); err != nil {
		return Info{}, err
	}
	tmp, err := os.CreateTemp(f.tmp, tempPrefix+"*")
	if err != nil {
		return Info{}, fmt.Errorf("blob: put %s: %w", key, cleanErr(err))
	}
	// The lock tells removeStaleTemp in other processes that this file is in use.
	_ = lockFile(tmp)
	committed := false
	defer func() {
		if !committed {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()

	v := newVerifier(ctx, r, plan)
	bp := f.bufs.Get().(*[]byte)
	_, err = io.CopyBuffer(writerOnly{tmp}, v, *bp)
	f.bufs.Put(bp)
	if err != nil {
		return Info{}, fmt.Errorf("blob: put %s: %w", key, cleanErr(err))
	}
	info := v.info(key, plan.contentType, time.Time{})
	if _, err := tmp.Write(encodeTrailer(info)); err != nil {
		return Info{}, fmt.Errorf("blob: put %s: %w", key, cleanErr(err))
	}
	if err := tmp.Sync(); err != nil {
		return Info{}, fmt.Errorf("blob: put %s: %w", key, cleanErr(err))
	}
	fi, err := tmp.Stat()
	if err != nil {
		return Info{}, fmt.Errorf("blob: put %s: %w", key, cleanErr(err))
	}
	info.Modified = fi.ModTime().UTC()

	final := f.objectPath(key)
	parent := filepath.Dir(final)
	for attempt := 1; ; attempt++ {
		err = os.Rename(tmp.Name(), final)
		if err == nil {
			break
		}
		// The key's folder is missing: never created, or removed by a concurrent Delete
		// pruning empty folders. Create it and retry.
		if !errors.Is(err, fs.ErrNotExist) || attempt == renameAttempts {
			return Info{}, fmt.Errorf("blob: put %s: %w", key, cleanErr(err))
		}
		if err := mkdirAllSync(f.objects, parent); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return Info{}, fmt.Errorf("blob: put %s: %w", key, cleanErr(err))
		}
	}
	committed = true
	tmp.Close()
	if err := syncDir(parent); err != nil {
		return Info{}, fmt.Errorf("blob: put %s: %w", key, cleanErr(err))
	}
	return info, nil
}

// mkdirAllSync creates dir and any missing parents below root, syncing each parent that
// gains an entry so that the new folders survive a crash.
func mkdirAllSync(root, dir string) error {
	rel, err := filepath.Rel(root, dir)
	if err != nil || rel == "." {
		return err
	}
	cur := root
	for seg := range strings.SplitSeq(rel, string(filepath.Separator)) {
		next := filepath.Join(cur, seg)
		switch err := os.Mkdir(next, 0o700); {
		case err == nil:
			if err := syncDir(cur); err != nil {
				return err
			}
		case !errors.Is(err, fs.ErrExist):
			return err
		}
		cur = next
	}
	return nil
}

func encodeTrailer(info Info) []byte {
	meta, err := json.Marshal(fileMeta{Version: 1, Size: info.Size, SHA256: info.SHA256, ContentType: info.ContentType})
	if err != nil {
		panic(err) // a struct of strings and numbers always marshals
	}
	out := make([]byte, 0, len(meta)+trailerTailLen)
	out = append(out, meta...)
	out = binary.BigEndian.AppendUint32(out, uint32(len(meta)))
	return append(out, trailerMagic...)
}

// readTrailer reads the description that ends an object file of the given total size.
func readTrailer(fh io.ReaderAt, fileSize int64) (fileMeta, error) {
	if fileSize < int64(trailerTailLen) {
		return fileMeta{}, ErrCorrupt
	}
	// One read usually covers the whole trailer.
	n := min(fileSize, int64(512))
	buf := make([]byte, n)
	if _, err := fh.ReadAt(buf, fileSize-n); err != nil {
		return fileMeta{}, err
	}
	tail := buf[len(buf)-trailerTailLen:]
	if string(tail[4:]) != trailerMagic {
		return fileMeta{}, ErrCorrupt
	}
	metaLen := int64(binary.BigEndian.Uint32(tail[:4]))
	if metaLen > maxMetaLen || metaLen+int64(trailerTailLen) > fileSize {
		return fileMeta{}, ErrCorrupt
	}
	var raw []byte
	if metaLen+int64(trailerTailLen) <= n {
		raw = buf[n-int64(trailerTailLen)-metaLen : n-int64(trailerTailLen)]
	} else {
		raw = make([]byte, metaLen)
		if _, err := fh.ReadAt(raw, fileSize-int64(trailerTailLen)-metaLen); err != nil {
			return fileMeta{}, err
		}
	}
	var m fileMeta
	if err := json.Unmarshal(raw, &m); err != nil || m.Version != 1 ||
		m.Size != fileSize-int64(trailerTailLen)-metaLen || !validDigest(m.SHA256) {
		return fileMeta{}, ErrCorrupt
	}
	return m, nil
}

// open opens the object file of key and reads its description.
func (f *Files) open(key string) (*os.File, Info, error) {
	fh, err := os.Open(f.objectPath(key))
	if err != nil {
		if isNotFound(err) {
			return nil, Info{}, ErrNotFound
		}
		return nil, Info{}, cleanErr(err)
	}
	info, err := describe(fh, key)
	if err != nil {
		fh.Close()
		return nil, Info{}, err
	}
	return fh, info, nil
}

func describe(fh *os.File, key string) (Info, error) {
	fi, err := fh.Stat()
	if err != nil {
		return Info{}, cleanErr(err)
	}
	if !fi.Mode().IsRegular() {
		return Info{}, ErrCorrupt
	}
	m, err := readTrailer(fh, fi.Size())
	if err != nil {
		return Info{}, cleanErr(err)
	}
	return Info{Key: key, Size: m.Size, SHA256: m.SHA256, ContentType: m.ContentType, Modified: fi.ModTime().UTC()}, nil
}

func isNotFound(err error) bool {
	return errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR)
}

// Get implements Store.
func (f *Files) Get(ctx context.Context, key string) (io.ReadCloser, Info, error) {
	return f.GetRange(ctx, key, 0, -1)
}

// GetRange implements Store.
func (f *Files) GetRange(ctx context.Context, key string, off, length int64) (io.ReadCloser, Info, error) {
	if err := checkKey(key); err != nil {
		return nil, Info{}, err
	}
	if err := ctx.Err(); err != nil {
		return nil, Info{}, err
	}
	fh, info, err := f.open(key)
	if err != nil {
		return nil, Info{}, fmt.Errorf("blob: get %s: %w", key, err)
	}
	n, err := checkRange(off, length, info.Size)
	if err == nil && off > 0 {
		_, err = fh.Seek(off, io.SeekStart)
	}
	if err != nil {
		fh.Close()
		return nil, Info{}, fmt.Errorf("blob: get %s: %w", key, cleanErr(err))
	}
	return &fileBody{ctx: ctx, fh: fh, lr: io.LimitedReader{R: fh, N: n}, bufs: &f.bufs}, info, nil
}

// fileBody is an open object's content (or part of it).
type fileBody struct {
	ctx  context.Context
	fh   *os.File
	lr   io.LimitedReader
	bufs *sync.Pool
}

func (b *fileBody) Read(p []byte) (int, error) {
	if err := b.ctx.Err(); err != nil {
		return 0, err
	}
	return b.lr.Read(p)
}

// WriteTo lets io.Copy hand the file itself to writers that can move it without copying
// through user space (a TCP connection's sendfile, a file's copy_file_range).
func (b *fileBody) WriteTo(w io.Writer) (int64, error) {
	if err := b.ctx.Err(); err != nil {
		return 0, err
	}
	if rf, ok := w.(io.ReaderFrom); ok {
		return rf.ReadFrom(&b.lr)
	}
	bp := b.bufs.Get().(*[]byte)
	defer b.bufs.Put(bp)
	return io.CopyBuffer(w, readerOnly{&b.lr}, *bp)
}

func (b *fileBody) Close() error { return b.fh.Close() }

type writerOnly struct{ io.Writer }

type readerOnly struct{ io.Reader }

// Stat implements Store.
func (f *Files) Stat(ctx context.Context, key string) (Info, error) {
	if err := checkKey(key); err != nil {
		return Info{}, err
	}
	if err := ctx.Err(); err != nil {
		return Info{}, err
	}
	fh, info, err := f.open(key)
	if err != nil {
		return Info{}, fmt.Errorf("blob: stat %s: %w", key, err)
	}
	fh.Close()
	return info, nil
}

// Delete implements Store. It also removes the folders the deletion leaves empty.
func (f *Files) Delete(ctx context.Context, key string) error {
	if err := checkKey(key); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	path := f.objectPath(key)
	if err := os.Remove(path); err != nil {
		if isNotFound(err) {
			return nil
		}
		return fmt.Errorf("blob: delete %s: %w", key, cleanErr(err))
	}
	parent := filepath.Dir(path)
	if err := syncDir(parent); err != nil {
		return fmt.Errorf("blob: delete %s: %w", key, cleanErr(err))
	}
	// Prune empty folders; a concurrent Put into one of them recreates it.
	for dir := parent; dir != f.objects && strings.HasPrefix(dir, f.objects); dir = filepath.Dir(dir) {
		if os.Remove(dir) != nil {
			break
		}
	}
	return nil
}

// List implements Store. It walks the folders in key order, reading one folder at a time.
func (f *Files) List(ctx context.Context, prefix string, fn func(Info) error) error {
	if !validPrefix(prefix) {
		return ErrInvalidKey
	}
	dir, last := splitPrefix(prefix)
	return f.walk(ctx, dir, last, fn)
}

type dirEntry struct {
	sortKey string // the key suffix this entry covers: a name, or a folder name and "/"
	name    string
	isDir   bool
}

// walk lists the objects in folder dir (a key prefix without the final slash, or "") whose
// remaining key starts with match.
func (f *Files) walk(ctx context.Context, dir, match string, fn func(Info) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	entries, err := os.ReadDir(filepath.Join(f.objects, filepath.FromSlash(dir)))
	if err != nil {
		if isNotFound(err) {
			return nil
		}
		return fmt.Errorf("blob: list: %w", cleanErr(err))
	}
	list := make([]dirEntry, 0, len(entries))
	for _, e := range entries {
		name := e.Name()
		var de dirEntry
		switch {
		case e.IsDir() && validSegment(name):
			de = dirEntry{sortKey: name + "/", name: name, isDir: true}
		case e.Type().IsRegular() && strings.HasSuffix(name, nameSuffix) && validSegment(strings.TrimSuffix(name, nameSuffix)):
			de = dirEntry{sortKey: strings.TrimSuffix(name, nameSuffix), name: name}
		default:
			continue
		}
		if strings.HasPrefix(de.sortKey, match) {
			list = append(list, de)
		}
	}
	// A folder sorts as its name followed by "/", which places all of its keys correctly
	// among the objects beside it: "a" < "a-b" < "a.b" < "a/…" < "a0".
	sort.Slice(list, func(i, j int) bool { return list[i].sortKey < list[j].sortKey })
	for _, de := range list {
		if err := ctx.Err(); err != nil {
			return err
		}
		var key string
		if dir == "" {
			key = de.sortKey
		} else {
			key = dir + "/" + de.sortKey
		}
		if de.isDir {
			if err := f.walk(ctx, strings.TrimSuffix(key, "/"), "", fn); err != nil {
				return err
			}
			continue
		}
		fh, info, err := f.open(key)
		if errors.Is(err, ErrNotFound) {
			continue // deleted since the folder was read
		}
		if err != nil {
			return fmt.Errorf("blob: list %s: %w", key, err)
		}
		fh.Close()
		if err := fn(info); err != nil {
			return err
		}
	}
	return nil
}

// Ping implements Store: it checks that the folder accepts new files.
func (f *Files) Ping(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	probe, err := os.CreateTemp(f.tmp, "ping-*")
	if err != nil {
		return fmt.Errorf("blob: ping: %w", cleanErr(err))
	}
	name := probe.Name()
	probe.Close()
	if err := os.Remove(name); err != nil {
		return fmt.Errorf("blob: ping: %w", cleanErr(err))
	}
	if _, err := os.Stat(f.objects); err != nil {
		return fmt.Errorf("blob: ping: %w", cleanErr(err))
	}
	return nil
}

// cleanErr drops file paths from operating-system errors: callers see the operation and the
// cause (which errors.Is still finds) but not the layout of the server's disk.
func cleanErr(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return fmt.Errorf("%s: %w", pe.Op, pe.Err)
	}
	var le *os.LinkError
	if errors.As(err, &le) {
		return fmt.Errorf("%s: %w", le.Op, le.Err)
	}
	return err
}
