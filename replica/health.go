package replica

import (
	"bytes"
	"encoding/json"
	"maps"
	"net/http"

	"github.com/pocketbase/pocketbase/core"
)

// health adds the replica's Status to the answer of GET /api/health for a
// superuser, as data.replica, beside PocketBase's own fields. Others get
// PocketBase's answer unchanged.
func (s *stream) health(e *core.RequestEvent) error {
	if e.Request.Method != http.MethodGet || e.Request.URL.Path != "/api/health" || !e.HasSuperuserAuth() {
		return e.Next()
	}
	st, ok := s.status()
	if !ok {
		return e.Next()
	}
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
	data["replica"] = st
	return e.JSON(http.StatusOK, body)
}

// recorder holds PocketBase's health answer so that health can add to it.
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
