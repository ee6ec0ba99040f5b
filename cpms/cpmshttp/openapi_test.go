package cpmshttp_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/go-chi/chi/v5"
)

// The OpenAPI document lists exactly the routes the API serves, each with its methods, and is
// well formed enough for clients to use.
func TestOpenAPIMatchesRoutes(t *testing.T) {
	api, _ := newAPI(t)
	var served []string
	err := chi.Walk(api.Router(), func(method, route string, _ http.Handler, _ ...func(http.Handler) http.Handler) error {
		route = strings.TrimSuffix(route, "/")
		served = append(served, strings.ToLower(method)+" "+route)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	rec := httptest.NewRecorder()
	api.ServeHTTP(rec, httptest.NewRequest("GET", "/api/openapi.json", nil))
	if rec.Code != 200 || !strings.HasPrefix(rec.Header().Get("Content-Type"), "application/json") {
		t.Fatalf("GET /api/openapi.json = %d %s", rec.Code, rec.Header().Get("Content-Type"))
	}
	var doc struct {
		OpenAPI    string                                `json:"openapi"`
		Paths      map[string]map[string]json.RawMessage `json:"paths"`
		Components struct {
			Schemas map[string]json.RawMessage `json:"schemas"`
		} `json:"components"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(doc.OpenAPI, "3.") {
		t.Errorf("openapi = %q", doc.OpenAPI)
	}
	var documented []string
	for path, ops := range doc.Paths {
		for method, op := range ops {
			documented = append(documented, method+" "+path)
			// Every $ref points at a schema that exists.
			for _, ref := range refs(string(op)) {
				name := strings.TrimPrefix(ref, "#/components/schemas/")
				if _, ok := doc.Components.Schemas[name]; !ok && strings.HasPrefix(ref, "#/components/schemas/") {
					t.Errorf("%s %s refers to missing schema %s", method, path, name)
				}
			}
		}
	}
	sort.Strings(served)
	sort.Strings(documented)
	for _, s := range served {
		if !slices.Contains(documented, s) {
			t.Errorf("served but not in the OpenAPI document: %s", s)
		}
	}
	for _, d := range documented {
		if !slices.Contains(served, d) {
			t.Errorf("in the OpenAPI document but not served: %s", d)
		}
	}
}

func refs(s string) []string {
	var out []string
	for {
		i := strings.Index(s, `"$ref":"`)
		if i < 0 {
			i = strings.Index(s, `"$ref": "`)
			if i < 0 {
				return out
			}
			s = s[i+len(`"$ref": "`):]
		} else {
			s = s[i+len(`"$ref":"`):]
		}
		j := strings.IndexByte(s, '"')
		out = append(out, s[:j])
		s = s[j:]
	}
}
