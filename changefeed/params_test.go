package changefeed_test

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/crews/hearth/changefeed"
	"github.com/crews/hearth/collections"
	"github.com/crews/hearth/internal/hearthtest"
)

// TestEveryParameterAnswer asks /api/sync every question docs/sync.md
// answers ("Parameters, exactly"), and checks each answer: status, the
// parameters a 400 names and their codes, and for a 200 what the page
// holds.
func TestEveryParameterAnswer(t *testing.T) {
	t.Parallel()
	app := hearthtest.NewApp(t)
	srv := serve(t, app)
	token := hearthtest.Token(t, app, hearthtest.Carol)
	h := head(t, app)
	token64 := func(raw string) string { return base64.RawURLEncoding.EncodeToString([]byte(raw)) }
	atHead := changefeed.SealCursor(app, changefeed.Cursor{Seq: h})
	edited := func(token string) string {
		raw, _ := base64.RawURLEncoding.DecodeString(token)
		raw[len(raw)/2] ^= 1
		return base64.RawURLEncoding.EncodeToString(raw)
	}

	type answer struct {
		status int
		codes  map[string]string // parameter -> code, for errors
		only   []string          // for 200: the collections the page may hold
	}
	bad := func(codes ...string) answer {
		a := answer{status: http.StatusBadRequest, codes: map[string]string{}}
		for i := 0; i < len(codes); i += 2 {
			a.codes[codes[i]] = codes[i+1]
		}
		return a
	}
	gone := answer{status: http.StatusGone, codes: map[string]string{"cursor": "sync_cursor_gone"}}
	ok := func(only ...string) answer { return answer{status: http.StatusOK, only: only} }

	for _, tc := range []struct {
		query string
		want  answer
	}{
		// cursor
		{"", bad("cursor", "validation_required")},
		{"cursor=", bad("cursor", "validation_required")},
		{"cursor=-1", bad("cursor", "validation_invalid_cursor")},
		{"cursor=1.5", bad("cursor", "validation_invalid_cursor")},
		{"cursor=abc", bad("cursor", "validation_invalid_cursor")},
		{"cursor=" + token64("1;5;nope"), bad("cursor", "validation_invalid_cursor")},
		{"cursor=" + token64("1;5;events,events"), bad("cursor", "validation_invalid_cursor")},
		{"cursor=" + token64("2;5;*"), gone},
		{"cursor=" + token64("1;05;*"), bad("cursor", "validation_invalid_cursor")},
		{"cursor=" + token64("1;99999999999999999999;*"), bad("cursor", "validation_invalid_cursor")},
		{"cursor=" + token64("1;5;*;messages;"), bad("cursor", "validation_invalid_cursor")},
		// a well-formed unsealed token, as servers before the seal issued
		{"cursor=" + token64("1;5;*"), gone},
		// sealed tokens: edited, or too short to be one
		{"cursor=" + edited(atHead), gone},
		{"cursor=" + token64("\x02short"), bad("cursor", "validation_invalid_cursor")},
		{"cursor=0", ok()},
		{"cursor=000", ok()},
		{"cursor=" + atHead, ok()},
		{"cursor=5", gone},
		{"cursor=99999999999999999999999", gone},
		{"cursor=" + changefeed.SealCursor(app, changefeed.Cursor{Seq: h + 1}), gone},
		{"cursor=0&cursor=abc", ok()},
		{"cursor=0&unknown=1", ok()},
		// collections
		{"cursor=0&collections=", bad("collections", "validation_unknown_collection")},
		{"cursor=0&collections=%20", bad("collections", "validation_unknown_collection")},
		{"cursor=0&collections=invites", bad("collections", "validation_unknown_collection")},
		{"cursor=0&collections=_superusers", bad("collections", "validation_unknown_collection")},
		{"cursor=0&collections=Events", bad("collections", "validation_unknown_collection")},
		{"cursor=0&collections=events,,messages", bad("collections", "validation_unknown_collection")},
		{"cursor=0&collections=events,", bad("collections", "validation_unknown_collection")},
		{"cursor=0&collections=events,events", ok(collections.Events)},
		{"cursor=0&collections=%20messages%20,events", ok(collections.Events, collections.Messages)},
		{"cursor=" + atHead + "&collections=" + strings.Join(changefeed.Synced, ","), ok()},
		{"cursor=" + atHead + "&collections=events", bad("collections", "sync_cursor_collections")},
		// limit
		{"cursor=0&limit=", bad("limit", "validation_invalid_limit")},
		{"cursor=0&limit=0", bad("limit", "validation_invalid_limit")},
		{"cursor=0&limit=-1", bad("limit", "validation_invalid_limit")},
		{"cursor=0&limit=1001", bad("limit", "validation_invalid_limit")},
		{"cursor=0&limit=1.5", bad("limit", "validation_invalid_limit")},
		{"cursor=0&limit=1e3", bad("limit", "validation_invalid_limit")},
		{"cursor=0&limit=ten", bad("limit", "validation_invalid_limit")},
		{"cursor=0&limit=99999999999999999999", bad("limit", "validation_invalid_limit")},
		{"cursor=0&limit=1", ok()},
		{"cursor=0&limit=1000", ok()},
		// every fault at once
		{"cursor=abc&collections=nope&limit=0", bad("cursor", "validation_invalid_cursor", "collections", "validation_unknown_collection", "limit", "validation_invalid_limit")},
		// a bare number is answered before the other parameters are read
		{"cursor=5&limit=0", gone},
	} {
		req, _ := http.NewRequest(http.MethodGet, srv.URL+"/api/sync?"+tc.query, nil)
		req.Header.Set("Authorization", token)
		res, err := srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var body struct {
			Message string                       `json:"message"`
			Data    map[string]map[string]string `json:"data"`
			Cursor  string                       `json:"cursor"`
			Changes []struct {
				Collection string `json:"collection"`
			} `json:"changes"`
		}
		err = json.NewDecoder(res.Body).Decode(&body)
		res.Body.Close()
		if err != nil {
			t.Fatalf("?%s: %v", tc.query, err)
		}
		if res.StatusCode != tc.want.status {
			t.Errorf("?%s: %d %+v, want %d", tc.query, res.StatusCode, body, tc.want.status)
			continue
		}
		if tc.want.status != http.StatusOK {
			got := map[string]string{}
			for param, e := range body.Data {
				got[param] = e["code"]
				if e["message"] == "" {
					t.Errorf("?%s: %s without a message", tc.query, param)
				}
			}
			if !mapsEqual(got, tc.want.codes) || body.Message == "" {
				t.Errorf("?%s: %q %v, want %v", tc.query, body.Message, got, tc.want.codes)
			}
			continue
		}
		if _, err := changefeed.OpenCursor(app, body.Cursor); err != nil {
			t.Errorf("?%s: cursor %q: %v", tc.query, body.Cursor, err)
		}
		for _, c := range body.Changes {
			if len(tc.want.only) > 0 && !slices.Contains(tc.want.only, c.Collection) {
				t.Errorf("?%s: a change of %s", tc.query, c.Collection)
			}
		}
	}
}

func mapsEqual(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

// TestRetentionBoundary: after a pruning run, a cursor at the horizon
// (the last pruned entry) is served and one below it is 410; cursor 0
// always is served.
func TestRetentionBoundary(t *testing.T) {
	t.Parallel()
	app := hearthtest.NewApp(t)
	srv := serve(t, app)
	token := hearthtest.Token(t, app, hearthtest.Alice)
	hearthtest.Save(t, app, collections.Messages, hearthtest.ClimbMessage, map[string]any{"body": "old news"})
	if _, err := changefeed.Prune(app, time.Hour, time.Now().Add(2*time.Hour)); err != nil {
		t.Fatal(err)
	}
	var horizon int64
	if err := app.DB().NewQuery("SELECT horizon FROM _hearth_sync").Row(&horizon); err != nil || horizon == 0 {
		t.Fatalf("horizon %d, %v", horizon, err)
	}
	for cursor, want := range map[string]int{
		changefeed.SealCursor(app, changefeed.Cursor{Seq: horizon}):     http.StatusOK,
		changefeed.SealCursor(app, changefeed.Cursor{Seq: horizon - 1}): http.StatusGone,
		changefeed.SealCursor(app, changefeed.Cursor{Seq: 1}):           http.StatusGone,
		"0": http.StatusOK,
	} {
		status, body, _ := get(srv, token, "/api/sync?cursor="+url.QueryEscape(cursor), nil)
		if status != want {
			t.Errorf("cursor %s: %d %s, want %d", cursor, status, body, want)
		}
	}
}
