package viewer

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"path"
	"regexp"
	"slices"
	"strings"
)

// asset is one static file, held in memory as it is served.
type asset struct {
	name        string // path below static/, e.g. "js/api.js"
	body        []byte // served bytes: for scripts, with versioned imports
	gzipped     []byte // gzip of body, or nil when it does not pay
	contentType string
	hash        string   // hex prefix of the SHA-256 of body
	imports     []string // names of the modules body imports, for preloading
}

// url is the versioned address that templates and imports use.
func (a *asset) url() string { return "/static/" + a.name + "?v=" + a.hash }

// assetSet is every static file, addressed by content: a script's hash
// covers the hashes of the modules it imports, because its imports are
// rewritten to their versioned URLs before it is hashed.
type assetSet struct {
	files map[string]*asset
}

// contentTypes lists the file types the shell ships. Unknown extensions
// are refused at start-up so that nothing is ever served with a guessed
// type.
func contentTypes() map[string]string {
	return map[string]string{
		".css":   "text/css; charset=utf-8",
		".js":    "text/javascript; charset=utf-8",
		".mjs":   "text/javascript; charset=utf-8",
		".json":  "application/json",
		".map":   "application/json",
		".svg":   "image/svg+xml",
		".png":   "image/png",
		".ico":   "image/x-icon",
		".woff2": "font/woff2",
		".txt":   "text/plain; charset=utf-8",
		".wasm":  "application/wasm",
	}
}

// loadAssets reads every file below dir in fsys, rewrites module imports
// to versioned URLs and hashes the results.
func loadAssets(fsys fs.FS, dir string) (*assetSet, error) {
	types := contentTypes()
	// importSpecifier finds the module specifiers of ES module source:
	// `from "./x.js"`, `import "./x.js"` and `import("./x.js")`. Only
	// relative specifiers are matched; bare ones do not resolve in a
	// browser without an import map anyway.
	importSpecifier := regexp.MustCompile(`(\bfrom\s*|\bimport\s*\(?\s*)(["'])(\.{1,2}/[^"'?#\s]+)(["'])`)
	raw := map[string][]byte{}
	err := fs.WalkDir(fsys, dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			return nil
		}
		name := strings.TrimPrefix(p, dir+"/")
		if _, ok := types[path.Ext(name)]; !ok {
			return fmt.Errorf("viewer: static file %s has no known content type", name)
		}
		b, err := fs.ReadFile(fsys, p)
		if err != nil {
			return err
		}
		raw[name] = b
		return nil
	})
	if err != nil {
		return nil, err
	}
	set := &assetSet{files: make(map[string]*asset, len(raw))}
	visiting := map[string]bool{}
	var build func(name string, chain []string) (*asset, error)
	build = func(name string, chain []string) (*asset, error) {
		if a, ok := set.files[name]; ok {
			return a, nil
		}
		if visiting[name] {
			return nil, fmt.Errorf("viewer: import cycle %s -> %s", strings.Join(chain, " -> "), name)
		}
		b, ok := raw[name]
		if !ok {
			return nil, fmt.Errorf("viewer: %s imports %s, which does not exist", chain[len(chain)-1], name)
		}
		visiting[name] = true
		defer delete(visiting, name)
		a := &asset{name: name, contentType: types[path.Ext(name)]}
		if isModule(name) {
			var rerr error
			b = importSpecifier.ReplaceAllFunc(b, func(m []byte) []byte {
				if rerr != nil {
					return m
				}
				parts := importSpecifier.FindSubmatch(m)
				if !bytes.Equal(parts[2], parts[4]) {
					return m
				}
				spec := string(parts[3])
				dep, err := build(path.Join(path.Dir(name), spec), slices.Concat(chain, []string{name}))
				if err != nil {
					rerr = err
					return m
				}
				if !slices.Contains(a.imports, dep.name) {
					a.imports = append(a.imports, dep.name)
				}
				return fmt.Appendf(nil, "%s%s%s?v=%s%s", parts[1], parts[2], spec, dep.hash, parts[4])
			})
			if rerr != nil {
				return nil, rerr
			}
		}
		sum := sha256.Sum256(b)
		a.hash = hex.EncodeToString(sum[:8])
		a.body = b
		gz, err := gzipIfSmaller(b)
		if err != nil {
			return nil, err
		}
		a.gzipped = gz
		set.files[name] = a
		return a, nil
	}
	names := make([]string, 0, len(raw))
	for name := range raw {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		if _, err := build(name, []string{"static"}); err != nil {
			return nil, err
		}
	}
	return set, nil
}

func isModule(name string) bool {
	return strings.HasSuffix(name, ".js") || strings.HasSuffix(name, ".mjs")
}

// gzipIfSmaller compresses text-like bodies once, at start-up, and keeps
// the result only when it saves a meaningful number of bytes.
func gzipIfSmaller(b []byte) ([]byte, error) {
	if len(b) < 512 {
		return nil, nil
	}
	var buf bytes.Buffer
	zw, err := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	if err != nil {
		return nil, err
	}
	if _, err := zw.Write(b); err != nil {
		return nil, err
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	if buf.Len() > len(b)*9/10 {
		return nil, nil
	}
	return buf.Bytes(), nil
}

// url returns the versioned URL of a static file, for templates.
func (s *assetSet) url(name string) (string, error) {
	a, ok := s.files[name]
	if !ok {
		return "", fmt.Errorf("viewer: no static file %q", name)
	}
	return a.url(), nil
}

// preloads returns the versioned URLs of every module that the module
// name imports, directly or not, so that a page can ask for them all at
// once instead of discovering them one level at a time.
func (s *assetSet) preloads(name string) ([]string, error) {
	if _, ok := s.files[name]; !ok {
		return nil, fmt.Errorf("viewer: no static file %q", name)
	}
	var urls []string
	seen := map[string]bool{name: true}
	queue := []string{name}
	for len(queue) > 0 {
		a := s.files[queue[0]]
		queue = queue[1:]
		for _, dep := range a.imports {
			if seen[dep] {
				continue
			}
			seen[dep] = true
			urls = append(urls, s.files[dep].url())
			queue = append(queue, dep)
		}
	}
	return urls, nil
}
