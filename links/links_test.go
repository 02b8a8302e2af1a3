package links_test

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/crews/hearth/collections"
	"github.com/crews/hearth/crews"
	"github.com/crews/hearth/internal/hearthtest"
	"github.com/crews/hearth/links"
	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tests"
)

const fingerprint = "14:6D:E9:83:C5:73:06:50:D8:EE:B9:95:2F:34:FC:64:16:A0:83:42:E6:1D:BE:A8:8A:04:96:B2:3F:CF:44:E5"

// serve runs the test world's app with cfg as its link settings.
func serve(t *testing.T, cfg links.Config) (*hearthtest.Server, *tests.TestApp) {
	t.Helper()
	app := hearthtest.NewAppWith(t, func(app core.App, c crews.Config) {
		c.Links = cfg
		crews.Register(app, c)
	})
	return &hearthtest.Server{App: app, URL: hearthtest.Serve(t, app).URL}, app
}

// get answers GET path as it comes (hearthtest's Send decodes JSON
// objects, and assetlinks.json is an array).
func get(t *testing.T, s *hearthtest.Server, path string) hearthtest.Response {
	t.Helper()
	res, err := http.Get(s.URL + path)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return hearthtest.Response{Status: res.StatusCode, Header: res.Header, Raw: string(raw)}
}

func TestWellKnownFilesAre404WithoutSettings(t *testing.T) {
	t.Parallel()
	s, _ := serve(t, links.Config{AndroidPackage: "com.example.crews"}) // a package without certificates is not enough
	for _, path := range []string{links.AppleAssociationPath, links.AssetLinksPath} {
		if r := get(t, s, path); r.Status != http.StatusNotFound {
			t.Errorf("GET %s = %d, want 404", path, r.Status)
		}
	}
}

func TestWellKnownFilesFromSettings(t *testing.T) {
	t.Parallel()
	s, _ := serve(t, links.Config{IOSAppID: "ABCDE12345.com.example.crews", AndroidPackage: "com.example.crews", AndroidCertSHA256: []string{fingerprint}})

	r := get(t, s, links.AppleAssociationPath)
	if r.Status != http.StatusOK || r.Header.Get("Content-Type") != "application/json" {
		t.Fatalf("apple-app-site-association: %d %s", r.Status, r.Header.Get("Content-Type"))
	}
	var apple struct {
		Applinks struct {
			Details []struct {
				AppIDs     []string            `json:"appIDs"`
				Components []map[string]string `json:"components"`
			} `json:"details"`
		} `json:"applinks"`
	}
	if err := json.Unmarshal([]byte(r.Raw), &apple); err != nil {
		t.Fatal(err)
	}
	d := apple.Applinks.Details
	if len(d) != 1 || strings.Join(d[0].AppIDs, ",") != "ABCDE12345.com.example.crews" || len(d[0].Components) != 1 || d[0].Components[0]["/"] != "/join/*" {
		t.Errorf("apple-app-site-association = %s", r.Raw)
	}

	r = get(t, s, links.AssetLinksPath)
	if r.Status != http.StatusOK || r.Header.Get("Content-Type") != "application/json" {
		t.Fatalf("assetlinks.json: %d %s", r.Status, r.Header.Get("Content-Type"))
	}
	want := `[{"relation":["delegate_permission/common.handle_all_urls"],"target":{"namespace":"android_app","package_name":"com.example.crews","sha256_cert_fingerprints":["` + fingerprint + `"]}}]`
	if r.Raw != want {
		t.Errorf("assetlinks.json = %s\nwant %s", r.Raw, want)
	}
}

// inviteCode returns the server-made code of the invite id.
func inviteCode(t *testing.T, app core.App, id string) string {
	t.Helper()
	return hearthtest.Record(t, app, collections.Invites, id).GetString("code")
}

func TestJoinPageNamesTheCrewOfAUsableCodeOnly(t *testing.T) {
	t.Parallel()
	s, app := serve(t, links.Config{Scheme: "crews-test"})
	now := time.Now()
	hearthtest.SetNow(t, app, func() time.Time { return now })
	hearthtest.Save(t, app, collections.Invites, "expiredinvite01", map[string]any{"group": hearthtest.Climbers, "created_by": hearthtest.Alice, "expires": now.Add(-time.Hour)})
	hearthtest.Save(t, app, collections.Invites, "usedupinvite001", map[string]any{"group": hearthtest.Climbers, "created_by": hearthtest.Alice, "max_uses": 1})
	if _, err := app.DB().NewQuery("UPDATE invites SET uses = 1 WHERE id = 'usedupinvite001'").Execute(); err != nil {
		t.Fatal(err)
	}
	code := inviteCode(t, app, hearthtest.ClimbInvite)
	crew := hearthtest.Record(t, app, collections.Groups, hearthtest.Climbers).GetString("name")

	for _, typed := range []string{code, strings.ToLower(code)} {
		r := get(t, s, "/join/"+typed)
		if r.Status != http.StatusOK || !strings.HasPrefix(r.Header.Get("Content-Type"), "text/html") {
			t.Fatalf("GET /join/%s: %d %s", typed, r.Status, r.Header.Get("Content-Type"))
		}
		if !strings.Contains(r.Raw, "Join "+crew+" on Crews") || !strings.Contains(r.Raw, `href="crews-test://join/`+code+`"`) {
			t.Errorf("GET /join/%s does not name the crew or open the app:\n%s", typed, r.Raw)
		}
		if r.Header.Get("Cache-Control") != "private, no-store" {
			t.Errorf("Cache-Control = %q", r.Header.Get("Cache-Control"))
		}
	}

	// Unknown, expired, used up and malformed codes: one answer, which
	// names no crew.
	refused := []string{"NOSUCHCODE12", inviteCode(t, app, "expiredinvite01"), inviteCode(t, app, "usedupinvite001"), "%3Cscript%3E", strings.Repeat("A", 300)}
	first := get(t, s, "/join/"+refused[0])
	if first.Status != http.StatusOK || strings.Contains(first.Raw, crew) || strings.Contains(first.Raw, "crews-test://") {
		t.Fatalf("an unknown code: %d\n%s", first.Status, first.Raw)
	}
	for _, c := range refused[1:] {
		r := get(t, s, "/join/"+c)
		if r.Status != first.Status || r.Raw != first.Raw || r.Header.Get("Content-Type") != first.Header.Get("Content-Type") {
			t.Errorf("GET /join/%s answers %d differently from an unknown code:\n%s", c, r.Status, r.Raw)
		}
	}
}

func TestJoinPageIsRateLimitedPerAddress(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	now := time.Now()
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	s, app := serve(t, links.Config{PerMinute: 3})
	hearthtest.SetNow(t, app, clock)
	for i := 1; i <= 3; i++ {
		if r := get(t, s, "/join/NOSUCHCODE12"); r.Status != http.StatusOK {
			t.Fatalf("request %d: %d", i, r.Status)
		}
	}
	r := get(t, s, "/join/NOSUCHCODE12")
	if r.Status != http.StatusTooManyRequests {
		t.Fatalf("request 4 in a minute: %d, want 429", r.Status)
	}
	mu.Lock()
	now = now.Add(time.Minute)
	mu.Unlock()
	if r := get(t, s, "/join/NOSUCHCODE12"); r.Status != http.StatusOK {
		t.Errorf("a minute later: %d, want 200", r.Status)
	}
}
