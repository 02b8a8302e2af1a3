// Package healthdata adds a package's own state to PocketBase's answer of
// GET /api/health, beside PocketBase's fields (replica's position, a full
// disk), without replacing PocketBase's handler.
//
// Usage, in a router middleware:
//
//	if healthdata.Is(e) {
//		return healthdata.Add(e, "replica", status)
//	}
//	return e.Next()
package healthdata

import (
	"bytes"
	"encoding/json"
	"maps"
	"net/http"

	"github.com/pocketbase/pocketbase/core"
)

// Path is PocketBase's health route.
const Path = "/api/health"

// Is reports whether e asks for the health answer.
func Is(e *core.RequestEvent) bool {
	return e.Request.Method == http.MethodGet && e.Request.URL.Path == Path
}

// Add runs the rest of the chain (PocketBase's health handler) and adds
// value to its answer as data[key]. An answer that is not a 200 JSON
// object is passed on unchanged.
func Add(e *core.RequestEvent, key string, value any) error {
	rec := &recorder{header: http.Header{}}
	original := e.Response
	e.Response = rec
	err := e.Next()
	e.Response = original
	if err != nil {
		return err
	}
	var body map[string]any
	if rec.status != http.StatusOK || json.Unmarshal(rec.body.Bytes(), &body) != nil {
		return rec.replay(e.Response)
	}
	data, _ := body["data"].(map[string]any)
	if data == nil {
		data = map[string]any{}
		body["data"] = data
	}
	data[key] = value
	return e.JSON(http.StatusOK, body)
}

// recorder holds PocketBase's health answer so that Add can add to it.
type recorder struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (r *recorder) Header() http.Header { return r.header }

func (r *recorder) WriteHeader(status int) {
	if r.status == 0 {
		r.status = status
	}
}

func (r *recorder) Write(p []byte) (int, error) {
	r.WriteHeader(http.StatusOK)
	return r.body.Write(p)
}

// replay writes the recorded answer as it was.
func (r *recorder) replay(w http.ResponseWriter) error {
	maps.Copy(w.Header(), r.header)
	w.WriteHeader(r.status)
	_, err := w.Write(r.body.Bytes())
	return err
}
