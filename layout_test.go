// Package layout_test keeps the shape of the module: the dependency rule of docs/architecture.md
// and one package doc per package. It runs `go list` on the whole module.
package layout_test

import (
	"encoding/json"
	"go/parser"
	"go/token"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

const module = "github.com/ern-cpms/cpms"

type pkg struct {
	ImportPath string
	Dir        string
	Name       string
	Doc        string
	GoFiles    []string
	Imports    []string
	Deps       []string
}

func listPackages(t *testing.T) []pkg {
	t.Helper()
	out, err := exec.Command("go", "list", "-deps=false", "-json", "./...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	dec := json.NewDecoder(strings.NewReader(string(out)))
	var ps []pkg
	for dec.More() {
		var p pkg
		if err := dec.Decode(&p); err != nil {
			t.Fatal(err)
		}
		if len(p.GoFiles) > 0 {
			ps = append(ps, p)
		}
	}
	if len(ps) < 5 {
		t.Fatalf("go list found only %d packages", len(ps))
	}
	return ps
}

func rel(p pkg) string { return strings.TrimPrefix(strings.TrimPrefix(p.ImportPath, module), "/") }

func under(r, tree string) bool { return r == tree || strings.HasPrefix(r, tree+"/") }

func isEdge(r string) bool {
	base := filepath.Base(r)
	return strings.HasSuffix(base, "http") || r == "media/signal" || under(r, "viewer")
}

func hasDep(deps []string, prefixes ...string) string {
	for _, d := range deps {
		for _, p := range prefixes {
			if d == p || strings.HasPrefix(d, p+"/") {
				return d
			}
		}
	}
	return ""
}

func TestDependencyRule(t *testing.T) {
	drivers := []string{"net/http", "database/sql", "github.com/go-chi/chi", "github.com/jackc/pgx", "github.com/pion",
		"github.com/minio", "github.com/beevik/etree", "github.com/suyashkumar/dicom", "modernc.org/sqlite"}
	codecs := map[string][]string{
		"ihe/soap":      {"github.com/beevik/etree"},
		"dicomweb/deid": {"github.com/suyashkumar/dicom"},
		// The DICOM codec also decodes the character sets of DICOM (ISO 8859, ISO 2022, GB18030…)
		// with the Go project's encoding tables, as suyashkumar/dicom itself does.
		"dicomweb/dcm": {"github.com/suyashkumar/dicom", "golang.org/x/text"},
	}
	trees := []string{"ihe", "dicomweb", "fhir", "media"}
	for _, p := range listPackages(t) {
		r := rel(p)
		if r == "cpms" {
			if d := hasDep(p.Deps, drivers...); d != "" {
				t.Errorf("package cpms depends on %s: the domain core imports no transport or driver", d)
			}
		}
		if allowed, ok := codecs[r]; ok {
			for _, d := range p.Imports {
				if !strings.Contains(strings.Split(d, "/")[0], ".") || slices.ContainsFunc(allowed, func(a string) bool { return strings.HasPrefix(d, a) }) {
					continue
				}
				t.Errorf("codec %s imports %s: codecs use only the standard library and their codec dependency", r, d)
			}
		}
		for _, tree := range trees {
			if !under(r, tree) {
				continue
			}
			for _, other := range trees {
				if other == tree {
					continue
				}
				if d := hasDep(p.Deps, module+"/"+other); d != "" {
					t.Errorf("%s depends on %s: the %s and %s trees meet only through cpms ports", r, d, tree, other)
				}
			}
		}
		if d := hasDep(p.Imports, "github.com/pion"); d != "" && !under(r, "media") {
			t.Errorf("%s imports %s: pion only under media/", r, d)
		}
		if d := hasDep(p.Imports, "github.com/minio"); d != "" && !under(r, "internal/blob") {
			t.Errorf("%s imports %s: minio only in internal/blob", r, d)
		}
		if d := hasDep(p.Imports, "github.com/go-chi/chi"); d != "" && !isEdge(r) {
			t.Errorf("%s imports %s: chi only in the HTTP edges", r, d)
		}
		if slices.Contains(p.Imports, "net/http") {
			allowed := isEdge(r) || under(r, "cmd") || under(r, "conformance") || under(r, "bench") ||
				under(r, "internal/auth/oidc") || under(r, "internal/blob") || r == "ihe/xca"
			if !allowed {
				t.Errorf("%s imports net/http: HTTP servers live only in the edges", r)
			}
		}
		if r == "media" && slices.Contains(p.Imports, "net/http") {
			t.Errorf("package media serves no HTTP")
		}
	}
}

// Every package has exactly one package doc comment.
func TestPackageDocs(t *testing.T) {
	for _, p := range listPackages(t) {
		var withDoc []string
		for _, f := range p.GoFiles {
			af, err := parser.ParseFile(token.NewFileSet(), filepath.Join(p.Dir, f), nil, parser.PackageClauseOnly|parser.ParseComments)
			if err != nil {
				t.Fatal(err)
			}
			if af.Doc != nil && strings.HasPrefix(strings.TrimSpace(af.Doc.Text()), "Package "+p.Name) ||
				af.Doc != nil && p.Name == "main" && strings.HasPrefix(strings.TrimSpace(af.Doc.Text()), "Command ") {
				withDoc = append(withDoc, f)
			}
		}
		switch len(withDoc) {
		case 1:
		case 0:
			t.Errorf("%s has no package doc comment", p.ImportPath)
		default:
			t.Errorf("%s has package doc comments in %d files (%s): keep one", p.ImportPath, len(withDoc), strings.Join(withDoc, ", "))
		}
	}
}
