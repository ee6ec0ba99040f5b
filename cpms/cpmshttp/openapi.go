package cpmshttp

import (
	_ "embed"
	"net/http"
)

// openAPIDoc describes this API; a test keeps it and the routes in step.
//
//go:embed openapi.json
var openAPIDoc []byte

func (a *API) openAPI(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-cache")
	w.Write(openAPIDoc)
}
