package changefeed_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"sort"
	"strings"
	"testing"

	"github.com/crews/hearth/changefeed"
	"github.com/crews/hearth/internal/hearthtest"
	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tests"
)

// serve runs app's real router (with the routes its OnServe hooks add) on
// a loopback test server.
func serve(t testing.TB, app *tests.TestApp) *httptest.Server {
	return hearthtest.Serve(t, app)
}

type page struct {
	Cursor  string `json:"cursor"`
	More    bool   `json:"more"`
	Changes []struct {
		Seq        *int64         `json:"seq"` // must be absent: see seal.go
		Op         string         `json:"op"`
		Collection string         `json:"collection"`
		ID         string         `json:"id"`
		Record     map[string]any `json:"record"`
	} `json:"changes"`
}

// openCursor reads a cursor token app's server issued.
func openCursor(t testing.TB, app core.App, token string) changefeed.Cursor {
	t.Helper()
	c, err := changefeed.OpenCursor(app, token)
	if err != nil {
		t.Fatalf("cursor %s: %v", token, err)
	}
	return c
}

// get performs a GET and decodes a JSON body into out (when not nil).
func get(srv *httptest.Server, token, path string, out any) (int, string, error) {
	req, err := http.NewRequest(http.MethodGet, srv.URL+path, nil)
	if err != nil {
		return 0, "", err
	}
	if token != "" {
		req.Header.Set("Authorization", token)
	}
	res, err := srv.Client().Do(req)
	if err != nil {
		return 0, "", err
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		return 0, "", err
	}
	if res.StatusCode == http.StatusOK && out != nil {
		if err := json.Unmarshal(body, out); err != nil {
			return res.StatusCode, string(body), fmt.Errorf("decode %s: %w", path, err)
		}
	}
	return res.StatusCode, string(body), nil
}

// client is a model of a phone: a cursor and a local store, kept by
// applying pages the way docs/sync.md tells client developers to.
type client struct {
	token  string
	cursor string
	store  map[string]map[string]map[string]any
	seen   []change // every change ever received, for leak checks
}

type change struct{ op, collection, id string }

func newClient(token string) *client {
	return &client{token: token, cursor: "0", store: map[string]map[string]map[string]any{}}
}

// syncOnce fetches and applies one page.
func (c *client) syncOnce(srv *httptest.Server, limit int) (*page, error) {
	p := &page{}
	path := fmt.Sprintf("/api/sync?cursor=%s&limit=%d", url.QueryEscape(c.cursor), limit)
	status, body, err := get(srv, c.token, path, p)
	if err != nil {
		return nil, err
	}
	if status != http.StatusOK {
		return nil, fmt.Errorf("GET %s: %d %s", path, status, body)
	}
	if len(p.Changes) > limit {
		return nil, fmt.Errorf("GET %s: %d changes in a page, more than the limit", path, len(p.Changes))
	}
	inPage := map[change]bool{}
	for _, ch := range p.Changes {
		key := change{"", ch.Collection, ch.ID}
		if inPage[key] {
			return nil, fmt.Errorf("GET %s: %s/%s twice in one page", path, ch.Collection, ch.ID)
		}
		inPage[key] = true
		if ch.Seq != nil {
			return nil, fmt.Errorf("GET %s: %s/%s tells its log position %d", path, ch.Collection, ch.ID, *ch.Seq)
		}
		c.seen = append(c.seen, change{ch.Op, ch.Collection, ch.ID})
		byID := c.store[ch.Collection]
		if byID == nil {
			byID = map[string]map[string]any{}
			c.store[ch.Collection] = byID
		}
		switch ch.Op {
		case changefeed.OpUpsert:
			byID[ch.ID] = ch.Record
		case changefeed.OpDelete, changefeed.OpRevoke:
			delete(byID, ch.ID)
		default:
			return nil, fmt.Errorf("unknown op %q", ch.Op)
		}
	}
	c.cursor = p.Cursor
	return p, nil
}

// held returns the number of records in the client's store.
func (c *client) held() int {
	n := 0
	for _, byID := range c.store {
		n += len(byID)
	}
	return n
}

// syncAll pages until the feed has nothing more.
func (c *client) syncAll(srv *httptest.Server, limit int) (pages int, err error) {
	for {
		p, err := c.syncOnce(srv, limit)
		if err != nil {
			return pages, err
		}
		pages++
		if !p.More {
			return pages, nil
		}
	}
}

func (c *client) mustSync(t testing.TB, srv *httptest.Server, limit int) {
	t.Helper()
	if _, err := c.syncAll(srv, limit); err != nil {
		t.Fatal(err)
	}
}

// listAll returns every record the list API gives token for collection.
func listAll(srv *httptest.Server, token, collection string) (map[string]map[string]any, error) {
	all := map[string]map[string]any{}
	for n := 1; ; n++ {
		var res struct {
			Items []map[string]any `json:"items"`
		}
		path := fmt.Sprintf("/api/collections/%s/records?perPage=500&page=%d&skipTotal=1", collection, n)
		status, body, err := get(srv, token, path, &res)
		if err != nil {
			return nil, err
		}
		if status != http.StatusOK {
			return nil, fmt.Errorf("GET %s: %d %s", path, status, body)
		}
		for _, it := range res.Items {
			all[it["id"].(string)] = it
		}
		if len(res.Items) < 500 {
			return all, nil
		}
	}
}

// matchesListAPI fails t unless the client's store equals, collection by
// collection and field by field, what the list API returns to it now.
func (c *client) matchesListAPI(t testing.TB, srv *httptest.Server) {
	t.Helper()
	for _, name := range changefeed.Synced {
		want, err := listAll(srv, c.token, name)
		if err != nil {
			t.Fatal(err)
		}
		got := c.store[name]
		if got == nil {
			got = map[string]map[string]any{}
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s: store and list API differ\nonly in store: %v\nonly in list: %v\ndiffering: %v",
				name, missing(got, want), missing(want, got), differing(got, want))
		}
	}
}

func missing(a, b map[string]map[string]any) []string {
	var ids []string
	for id := range a {
		if _, ok := b[id]; !ok {
			ids = append(ids, id)
		}
	}
	sort.Strings(ids)
	return ids
}

func differing(a, b map[string]map[string]any) []string {
	var out []string
	for id, r := range a {
		if other, ok := b[id]; ok && !reflect.DeepEqual(r, other) {
			out = append(out, fmt.Sprintf("%s: %v != %v", id, r, other))
		}
	}
	return out
}

// logRows returns the change log after seq as "op collection/id" strings.
func logRows(t testing.TB, app core.App, after int64) []string {
	t.Helper()
	var rows []struct {
		Op         string `db:"op"`
		Collection string `db:"collection"`
		Record     string `db:"record"`
	}
	err := app.DB().NewQuery("SELECT op, collection, record FROM _hearth_changes WHERE seq > {:s} ORDER BY seq").
		Bind(map[string]any{"s": after}).All(&rows)
	if err != nil {
		t.Fatal(err)
	}
	out := make([]string, len(rows))
	for i, r := range rows {
		out[i] = r.Op + " " + r.Collection + "/" + r.Record
	}
	return out
}

func head(t testing.TB, app core.App) int64 {
	t.Helper()
	var seq int64
	if err := app.DB().NewQuery("SELECT COALESCE(MAX(seq), 0) FROM _hearth_changes").Row(&seq); err != nil {
		t.Fatal(err)
	}
	return seq
}

func remove(t testing.TB, app core.App, collection, id string) {
	t.Helper()
	r, err := app.FindRecordById(collection, id)
	if err != nil {
		t.Fatal(err)
	}
	if err := app.Delete(r); err != nil {
		t.Fatalf("delete %s/%s: %v", collection, id, err)
	}
}

// send sends a JSON request through srv and returns the response body; a
// status other than 2xx is an error.
func send(srv *httptest.Server, token, method, path, body string) ([]byte, error) {
	req, err := http.NewRequest(method, srv.URL+path, strings.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", token)
	res, err := srv.Client().Do(req)
	if err != nil {
		return nil, err
	}
	defer res.Body.Close()
	out, err := io.ReadAll(res.Body)
	if err != nil {
		return nil, err
	}
	if res.StatusCode/100 != 2 {
		return out, fmt.Errorf("%s %s: %d %s", method, path, res.StatusCode, out)
	}
	return out, nil
}

// post creates a record and returns its id.
func post(srv *testServer, token, path, body string) (string, error) {
	out, err := send(srv.Server, token, http.MethodPost, path, body)
	if err != nil {
		return "", err
	}
	var r struct {
		ID string `json:"id"`
	}
	if err := json.Unmarshal(out, &r); err != nil {
		return "", err
	}
	return r.ID, nil
}

func decode(r io.Reader, out any) error { return json.NewDecoder(r).Decode(out) }
