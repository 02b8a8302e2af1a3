package collections_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/crews/hearth/collections"
	"github.com/crews/hearth/internal/hearthtest"
	"github.com/crews/hearth/push"
	"github.com/pocketbase/dbx"
	"github.com/pocketbase/pocketbase/core"
)

const devicesURL = "/api/collections/devices/records"

// devicesHolding returns the users of the devices stored with token.
func devicesHolding(t *testing.T, app core.App, token string) []string {
	t.Helper()
	var users []string
	if err := app.DB().Select("user").From(collections.Devices).Where(dbx.HashExp{"token": token}).Column(&users); err != nil {
		t.Fatal(err)
	}
	return users
}

// A phone changes hands: Alice signs in on Carol's phone and registers its
// token. The token is Alice's from then on, Carol's device is gone, and
// the answer looks exactly like a fresh registration's.
func TestDeviceTokenMovesToCaller(t *testing.T) {
	t.Parallel()
	s := hearthtest.NewServer(t)
	alice, carol := hearthtest.Token(t, s.App, hearthtest.Alice), hearthtest.Token(t, s.App, hearthtest.Carol)

	moved := s.Do(t, http.MethodPost, devicesURL, alice, map[string]any{"token": hearthtest.CarolToken, "platform": "android"})
	if moved.Status != http.StatusOK || moved.Str("user") != hearthtest.Alice || moved.Str("token") != hearthtest.CarolToken {
		t.Fatalf("register Carol's token as Alice: %d %s", moved.Status, moved.Raw)
	}
	if got := devicesHolding(t, s.App, hearthtest.CarolToken); len(got) != 1 || got[0] != hearthtest.Alice {
		t.Fatalf("token held by %v, want only Alice", got)
	}
	if list := s.Do(t, http.MethodGet, devicesURL, carol, nil); !strings.Contains(list.Raw, `"totalItems":0`) {
		t.Errorf("Carol still lists a device: %s", list.Raw)
	}
	if res := s.Do(t, http.MethodGet, devicesURL+"/"+hearthtest.CarolDevice, carol, nil); res.Status != http.StatusNotFound {
		t.Errorf("Carol's old device: %d %s", res.Status, res.Raw)
	}

	fresh := s.Do(t, http.MethodPost, devicesURL, alice, map[string]any{"token": "ExponentPushToken[never-seen-before]", "platform": "android"})
	if fresh.Status != http.StatusOK {
		t.Fatalf("fresh registration: %d %s", fresh.Status, fresh.Raw)
	}
	if a, b := shape(moved), shape(fresh); a != b {
		t.Errorf("a moved token answers differently from a fresh one:\n%s\n%s", a, b)
	}

	// Registering again on the same phone replaces the caller's own device.
	again := s.Do(t, http.MethodPost, devicesURL, alice, map[string]any{"token": hearthtest.CarolToken, "platform": "android"})
	if again.Status != http.StatusOK || len(devicesHolding(t, s.App, hearthtest.CarolToken)) != 1 {
		t.Fatalf("register twice: %d %s, holders %v", again.Status, again.Raw, devicesHolding(t, s.App, hearthtest.CarolToken))
	}
}

// shape is an answer's keys with the values that are not per record.
func shape(r hearthtest.Response) string {
	var b strings.Builder
	for _, k := range []string{"collectionName", "user", "token", "platform"} {
		fmt.Fprintf(&b, "%s=%v ", k, r.Body[k] != nil)
	}
	fmt.Fprintf(&b, "keys=%d status=%d", len(r.Body), r.Status)
	return b.String()
}

// Everyone registers the same token at once: every request succeeds and
// exactly one device holds it afterwards, whoever came last.
func TestDeviceConcurrentRegistration(t *testing.T) {
	t.Parallel()
	s := hearthtest.NewServer(t)
	users := []string{hearthtest.Alice, hearthtest.Bob, hearthtest.Carol, hearthtest.Dave, hearthtest.Erin}
	for round := range 5 {
		tok := fmt.Sprintf("ExponentPushToken[shared-%d]", round)
		var wg sync.WaitGroup
		for _, u := range users {
			wg.Add(1)
			go func() {
				defer wg.Done()
				res := s.Do(t, http.MethodPost, devicesURL, hearthtest.Token(t, s.App, u), map[string]any{"token": tok, "platform": "ios"})
				if res.Status != http.StatusOK {
					t.Errorf("%s: %d %s", u, res.Status, res.Raw)
				}
			}()
		}
		wg.Wait()
		if holders := devicesHolding(t, s.App, tok); len(holders) != 1 {
			t.Fatalf("round %d: %d devices hold the token: %v", round, len(holders), holders)
		}
	}
}

func TestDeviceBadInput(t *testing.T) {
	t.Parallel()
	s := hearthtest.NewServer(t)
	alice := hearthtest.Token(t, s.App, hearthtest.Alice)
	for _, c := range []struct {
		name, body, field, code string
	}{
		{"no token", `{"platform":"ios"}`, "token", "validation_required"},
		{"empty token", `{"token":"","platform":"ios"}`, "token", "validation_required"},
		{"not an Expo token", `{"token":"fcm:abc123","platform":"ios"}`, "token", "validation_invalid_format"},
		{"unclosed bracket", `{"token":"ExponentPushToken[abc","platform":"ios"}`, "token", "validation_invalid_format"},
		{"empty brackets", `{"token":"ExponentPushToken[]","platform":"ios"}`, "token", "validation_invalid_format"},
		{"space inside", `{"token":"ExponentPushToken[a b]","platform":"ios"}`, "token", "validation_invalid_format"},
		{"other prefix", `{"token":"ExpoToken[abc]","platform":"ios"}`, "token", "validation_invalid_format"},
		{"token too long", `{"token":"ExponentPushToken[` + strings.Repeat("a", 201) + `]","platform":"ios"}`, "token", "validation_invalid_format"},
		{"token of the wrong type", `{"token":123,"platform":"ios"}`, "token", "validation_invalid_text"},
		{"no platform", `{"token":"ExponentPushToken[abc]"}`, "platform", "validation_required"},
		{"unknown platform", `{"token":"ExponentPushToken[abc]","platform":"windows"}`, "platform", "validation_invalid_value"},
		{"last_seen is the server's", `{"token":"ExponentPushToken[abc]","platform":"ios","last_seen":"2030-01-01 00:00:00.000Z"}`, "last_seen", "validation_server_managed"},
		{"another user's device", `{"user":"` + hearthtest.Bob + `","token":"ExponentPushToken[abc]","platform":"ios"}`, "user", "validation_not_allowed"},
	} {
		t.Run(c.name, func(t *testing.T) {
			before := hearthtest.Fingerprint(t, s.App)
			res := s.Do(t, http.MethodPost, devicesURL, alice, c.body)
			if res.Status != http.StatusBadRequest || res.FieldCode(c.field) != c.code {
				t.Fatalf("want 400 naming %s with %s, got %d %s", c.field, c.code, res.Status, res.Raw)
			}
			if after := hearthtest.Fingerprint(t, s.App); after != before {
				t.Errorf("a refused registration changed the database")
			}
		})
	}
	// Nobody signed in: the rule refuses, naming the owner field.
	if res := s.Do(t, http.MethodPost, devicesURL, "", `{"token":"ExponentPushToken[abc]","platform":"ios"}`); res.Status != http.StatusBadRequest || res.FieldCode("user") != "validation_not_allowed" {
		t.Errorf("anonymous registration: %d %s", res.Status, res.Raw)
	}
	// Both prefixes Expo issues are accepted.
	for _, tok := range []string{"ExponentPushToken[xxxxxxxxxxxxxxxxxxxxxx]", "ExpoPushToken[A-b_9]"} {
		if res := s.Do(t, http.MethodPost, devicesURL, alice, map[string]any{"token": tok, "platform": "ios"}); res.Status != http.StatusOK {
			t.Errorf("%s: %d %s", tok, res.Status, res.Raw)
		}
	}
}

func countMutes(t *testing.T, app core.App, group, user string) int64 {
	t.Helper()
	n, err := app.CountRecords(collections.Mutes, dbx.HashExp{"group": group, "user": user})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func TestMutes(t *testing.T) {
	t.Parallel()
	s := hearthtest.NewServer(t)
	alice, bob, dave := hearthtest.Token(t, s.App, hearthtest.Alice), hearthtest.Token(t, s.App, hearthtest.Bob), hearthtest.Token(t, s.App, hearthtest.Dave)
	const mutes = "/api/collections/mutes/records"

	for _, c := range []struct {
		name, as, body, field string
	}{
		{"a group the caller is not in", dave, `{"group":"` + hearthtest.Climbers + `"}`, "group"},
		{"a group that does not exist", dave, `{"group":"nogroup00000001"}`, "group"},
		{"no group", alice, `{}`, "group"},
		{"for another user", alice, `{"user":"` + hearthtest.Bob + `","group":"` + hearthtest.Climbers + `"}`, "group"},
	} {
		t.Run(c.name, func(t *testing.T) {
			res := s.Do(t, http.MethodPost, mutes, c.as, c.body)
			if res.Status != http.StatusBadRequest || res.FieldCode(c.field) == "" {
				t.Fatalf("want 400 naming %s, got %d %s", c.field, res.Status, res.Raw)
			}
		})
	}
	// An unknown group and a foreign one answer alike: ids cannot be probed.
	a := s.Do(t, http.MethodPost, mutes, dave, `{"group":"`+hearthtest.Climbers+`"}`)
	b := s.Do(t, http.MethodPost, mutes, dave, `{"group":"nogroup00000001"}`)
	if a.Raw != b.Raw {
		t.Errorf("a foreign and an unknown group answer differently:\n%s\n%s", a.Raw, b.Raw)
	}

	mute := s.Do(t, http.MethodPost, mutes, bob, `{"group":"`+hearthtest.Climbers+`"}`)
	if mute.Status != http.StatusOK || mute.Str("user") != hearthtest.Bob {
		t.Fatalf("Bob mutes Climbers: %d %s", mute.Status, mute.Raw)
	}
	if twice := s.Do(t, http.MethodPost, mutes, bob, `{"group":"`+hearthtest.Climbers+`"}`); twice.Status != http.StatusBadRequest || twice.FieldCode("group") != "validation_not_unique" {
		t.Errorf("muting twice: %d %s", twice.Status, twice.Raw)
	}
	// Nobody else sees or removes Bob's mute, not even the group's owner.
	if res := s.Do(t, http.MethodGet, mutes+"/"+mute.Str("id"), alice, nil); res.Status != http.StatusNotFound {
		t.Errorf("Alice views Bob's mute: %d %s", res.Status, res.Raw)
	}
	if res := s.Do(t, http.MethodDelete, mutes+"/"+mute.Str("id"), alice, nil); res.Status != http.StatusNotFound {
		t.Errorf("Alice deletes Bob's mute: %d %s", res.Status, res.Raw)
	}

	// Leaving the group ends the mute; so does unmuting.
	if res := s.Do(t, http.MethodDelete, "/api/collections/memberships/records/"+hearthtest.MembershipID(t, s.App, hearthtest.Climbers, hearthtest.Bob), bob, nil); res.Status != http.StatusNoContent {
		t.Fatalf("Bob leaves: %d %s", res.Status, res.Raw)
	}
	if muted := countMutes(t, s.App, hearthtest.Climbers, hearthtest.Bob); muted != 0 {
		t.Errorf("Bob's mute outlived his membership")
	}
	carol := hearthtest.Token(t, s.App, hearthtest.Carol)
	if res := s.Do(t, http.MethodDelete, mutes+"/"+hearthtest.CarolMute, carol, nil); res.Status != http.StatusNoContent {
		t.Fatalf("Carol unmutes: %d %s", res.Status, res.Raw)
	}
	if muted := countMutes(t, s.App, hearthtest.Climbers, hearthtest.Carol); muted != 0 {
		t.Errorf("Carol still muted after unmuting")
	}
}

// Nobody learns another user's token or mute, whichever way they ask:
// filters, expands, realtime, sync, batch.
func TestDevicesAndMutesStayPrivate(t *testing.T) {
	t.Parallel()
	s := hearthtest.NewServer(t)
	alice, carol := hearthtest.Token(t, s.App, hearthtest.Alice), hearthtest.Token(t, s.App, hearthtest.Carol)
	secret := strings.TrimSuffix(strings.TrimPrefix(hearthtest.CarolToken, "ExponentPushToken["), "]")

	for _, c := range []struct{ name, url string }{
		{"devices by token", devicesURL + "?filter=" + url.QueryEscape(`token ~ "carol"`)},
		{"mutes by group", "/api/collections/mutes/records?filter=" + url.QueryEscape(`group = "`+hearthtest.Climbers+`"`)},
	} {
		t.Run(c.name, func(t *testing.T) {
			res := s.Do(t, http.MethodGet, c.url, alice, nil)
			if res.Status != http.StatusOK {
				t.Fatalf("%d %s", res.Status, res.Raw)
			}
			if strings.Contains(res.Raw, secret) || strings.Contains(res.Raw, hearthtest.CarolDevice) || strings.Contains(res.Raw, hearthtest.CarolMute) {
				t.Errorf("Carol's device or mute reached Alice: %s", res.Raw)
			}
		})
	}
	// Expands through back-relations are refused (docs/access-rules.md),
	// Carol's of her own user too: she lists her devices and mutes.
	if res := s.Do(t, http.MethodGet, "/api/collections/users/records/"+hearthtest.Carol+"?expand=devices_via_user,mutes_via_user", carol, nil); res.Status != http.StatusBadRequest || res.FieldCode("expand") != "validation_path_not_allowed" {
		t.Errorf("Carol's own expand: want 400 naming expand, got %d %s", res.Status, res.Raw)
	}

	for _, c := range []struct{ name, url, param string }{
		{"users expanded with their devices", "/api/collections/users/records/" + hearthtest.Carol + "?expand=devices_via_user,mutes_via_user", "expand"},
		{"users listed with their devices", "/api/collections/users/records?expand=devices_via_user", "expand"},
		{"memberships expanded to devices", "/api/collections/memberships/records?expand=user.devices_via_user,user.mutes_via_user", "expand"},
		{"a group expanded with its mutes", "/api/collections/groups/records/" + hearthtest.Climbers + "?expand=mutes_via_group", "expand"},
		{"users filtered by a device token", "/api/collections/users/records?filter=" + url.QueryEscape(`devices_via_user.token ~ "carol"`), "filter"},
		{"groups filtered by their mutes", "/api/collections/groups/records?filter=" + url.QueryEscape(`mutes_via_group.user = "`+hearthtest.Carol+`"`), "filter"},
		{"users sorted by a device token", "/api/collections/users/records?sort=devices_via_user.token", "sort"},
	} {
		t.Run(c.name, func(t *testing.T) {
			res := s.Do(t, http.MethodGet, c.url, alice, nil)
			if res.Status != http.StatusBadRequest || res.FieldCode(c.param) != "validation_path_not_allowed" {
				t.Fatalf("want 400 naming %s, got %d %s", c.param, res.Status, res.Raw)
			}
		})
	}

	t.Run("sync", func(t *testing.T) {
		for _, who := range []string{carol, alice} {
			res := s.Do(t, http.MethodGet, "/api/sync?cursor=0", who, nil)
			if res.Status != http.StatusOK || strings.Contains(res.Raw, `"devices"`) || strings.Contains(res.Raw, `"mutes"`) || strings.Contains(res.Raw, secret) {
				t.Errorf("sync carries devices or mutes: %d %s", res.Status, res.Raw)
			}
		}
		if res := s.Do(t, http.MethodGet, "/api/sync?cursor=0&collections=devices", carol, nil); res.Status != http.StatusBadRequest || res.FieldCode("collections") != "validation_unknown_collection" {
			t.Errorf("sync of devices: %d %s", res.Status, res.Raw)
		}
	})

	t.Run("batch", func(t *testing.T) {
		settings := s.App.Settings()
		settings.Batch.Enabled = true
		if err := s.App.Save(settings); err != nil {
			t.Fatal(err)
		}
		before := hearthtest.Fingerprint(t, s.App)
		res := s.Do(t, http.MethodPost, "/api/batch", alice, map[string]any{"requests": []map[string]any{
			{"method": "POST", "url": devicesURL, "body": map[string]any{"token": "ExponentPushToken[batch-own]", "platform": "ios"}},
			{"method": "POST", "url": devicesURL, "body": map[string]any{"user": hearthtest.Carol, "token": "ExponentPushToken[batch-carol]", "platform": "ios"}},
		}})
		if res.Status != http.StatusBadRequest {
			t.Fatalf("a batch registering a device for Carol: %d %s", res.Status, res.Raw)
		}
		if after := hearthtest.Fingerprint(t, s.App); after != before {
			t.Errorf("a refused batch changed the database")
		}
	})

	t.Run("realtime", func(t *testing.T) {
		aliceEvents := subscribe(t, s.URL, alice, "devices/*", "mutes/*", "devices/"+hearthtest.CarolDevice)
		carolEvents := subscribe(t, s.URL, carol, "devices/*", "mutes/*")
		bob := hearthtest.Token(t, s.App, hearthtest.Bob)
		if res := s.Do(t, http.MethodPost, devicesURL, carol, map[string]any{"token": "ExponentPushToken[carol-tablet]", "platform": "android"}); res.Status != http.StatusOK {
			t.Fatalf("Carol registers: %d %s", res.Status, res.Raw)
		}
		if res := s.Do(t, http.MethodDelete, devicesURL+"/"+hearthtest.CarolDevice, carol, nil); res.Status != http.StatusNoContent {
			t.Fatalf("Carol unregisters: %d %s", res.Status, res.Raw)
		}
		if res := s.Do(t, http.MethodPost, "/api/collections/mutes/records", bob, `{"group":"`+hearthtest.Climbers+`"}`); res.Status != http.StatusOK {
			t.Fatalf("Bob mutes: %d %s", res.Status, res.Raw)
		}
		// Carol hears of her two changes; then a change of Alice's own is
		// the marker after which Alice must have heard nothing else.
		for range 2 {
			select {
			case ev := <-carolEvents:
				if !strings.Contains(ev, "carol") {
					t.Errorf("Carol got %s", ev)
				}
			case <-time.After(10 * time.Second):
				t.Fatal("Carol got no realtime event for her own device")
			}
		}
		if res := s.Do(t, http.MethodPost, devicesURL, alice, map[string]any{"token": "ExponentPushToken[alice-marker]", "platform": "ios"}); res.Status != http.StatusOK {
			t.Fatalf("Alice registers: %d %s", res.Status, res.Raw)
		}
		select {
		case ev := <-aliceEvents:
			if !strings.Contains(ev, "alice-marker") {
				t.Errorf("Alice got another user's event before her own: %s", ev)
			}
		case <-time.After(10 * time.Second):
			t.Fatal("Alice got no realtime event for her own device")
		}
	})
}

// subscribe opens a realtime connection as token, subscribes it to topics
// and returns its events' data, one string per event after the connect.
func subscribe(t *testing.T, base, token string, topics ...string) <-chan string {
	t.Helper()
	res, err := http.Get(base + "/api/realtime")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { res.Body.Close() })
	lines := bufio.NewScanner(res.Body)
	var clientID string
	for clientID == "" && lines.Scan() {
		if data, ok := strings.CutPrefix(lines.Text(), "data:"); ok {
			var connect struct {
				ClientID string `json:"clientId"`
			}
			if err := json.Unmarshal([]byte(data), &connect); err != nil {
				t.Fatalf("PB_CONNECT: %q", data)
			}
			clientID = connect.ClientID
		}
	}
	if clientID == "" {
		t.Fatalf("realtime: no PB_CONNECT: %v", lines.Err())
	}
	events := make(chan string, 16)
	go func() {
		for lines.Scan() {
			if data, ok := strings.CutPrefix(lines.Text(), "data:"); ok {
				events <- data
			}
		}
	}()
	body, _ := json.Marshal(map[string]any{"clientId": clientID, "subscriptions": topics})
	req, err := http.NewRequest(http.MethodPost, base+"/api/realtime", strings.NewReader(string(body)))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", token)
	sub, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	sub.Body.Close()
	if sub.StatusCode != http.StatusNoContent {
		t.Fatalf("subscribe: %d", sub.StatusCode)
	}
	return events
}

// The push views hold tokens and message text: only superusers read them,
// and nobody writes them, superusers included.
func TestPushViewsAreSuperuserOnly(t *testing.T) {
	t.Parallel()
	s := hearthtest.NewServer(t)
	tk := newTokens(t)
	// One push in each view: Carol unmutes Climbers and Bob posts there.
	if err := s.App.Delete(hearthtest.Record(t, s.App, collections.Mutes, hearthtest.CarolMute)); err != nil {
		t.Fatal(err)
	}
	hearthtest.Save(t, s.App, collections.Messages, "bobmessage00001", map[string]any{"group": hearthtest.Climbers, "author": hearthtest.Bob, "body": "Ropes are in the van"})
	if err := push.Flush(context.Background(), s.App); err != nil {
		t.Fatal(err)
	}
	const id = "000000000001"
	contents := func() string {
		var rows []dbx.NullStringMap
		for _, v := range views(t, s.App) {
			var page []dbx.NullStringMap
			if err := s.App.DB().NewQuery("SELECT * FROM {{" + v + "}}").All(&page); err != nil {
				t.Fatal(err)
			}
			rows = append(rows, page...)
		}
		return fmt.Sprint(rows)
	}

	for _, view := range views(t, s.App) {
		base := "/api/collections/" + view + "/records"
		for _, a := range actors {
			header := tk.headers(a)["Authorization"]
			want := http.StatusForbidden
			if a == superuser {
				want = http.StatusOK
			}
			if list := s.Do(t, http.MethodGet, base, header, nil); list.Status != want || (a == superuser) != strings.Contains(list.Raw, `"id":"`+id+`"`) {
				t.Errorf("%s lists %s: %d %s", a, view, list.Status, list.Raw)
			}
			if one := s.Do(t, http.MethodGet, base+"/"+id, header, nil); one.Status != want {
				t.Errorf("%s views %s/%s: %d %s", a, view, id, one.Status, one.Raw)
			}
			before, beforePushes := hearthtest.Fingerprint(t, s.App), contents()
			for _, w := range []struct{ method, url string }{
				{http.MethodPost, base}, {http.MethodPatch, base + "/" + id}, {http.MethodDelete, base + "/" + id},
			} {
				var body any = `{"state":"delivered"}`
				if w.method == http.MethodDelete {
					body = nil // a DELETE takes no body
				}
				if res := s.Do(t, w.method, w.url, header, body); res.Status != http.StatusBadRequest && res.Status != http.StatusForbidden {
					t.Errorf("%s %s %s: %d %s", a, w.method, view, res.Status, res.Raw)
				}
			}
			if hearthtest.Fingerprint(t, s.App) != before || contents() != beforePushes {
				t.Errorf("%s changed the database through %s", a, view)
			}
		}
	}
}

// views are the schema's read-only view collections (the push outbox's),
// for superusers only.
func views(t *testing.T, app core.App) []string {
	var out []string
	for _, c := range hearthtest.Collections(t, app) {
		if c.IsView() {
			out = append(out, c.Name)
		}
	}
	if len(out) == 0 {
		t.Fatal("no view collections in the schema")
	}
	return out
}
