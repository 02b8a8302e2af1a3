package push_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/crews/hearth/collections"
	"github.com/crews/hearth/internal/hearthtest"
	"github.com/pocketbase/dbx"
	"github.com/pocketbase/pocketbase/core"
)

// reply is a decoded JSON answer.
type reply struct {
	status int
	body   map[string]any
}

// api sends a JSON request to a served app as user ("" for anonymous) and
// decodes the answer.
func api(t *testing.T, app core.App, base, method, path, user string, body any) reply {
	t.Helper()
	// No body at all for none: GET, HEAD and DELETE take none.
	var sent io.Reader
	if body != nil {
		raw, err := json.Marshal(body)
		if err != nil {
			t.Fatal(err)
		}
		sent = bytes.NewReader(raw)
	}
	req, err := http.NewRequest(method, base+path, sent)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if user != "" {
		req.Header.Set("Authorization", hearthtest.Token(t, app, user))
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	text, _ := io.ReadAll(res.Body)
	var out any
	if len(text) > 0 {
		if err := json.Unmarshal(text, &out); err != nil {
			t.Fatalf("%s %s: %d %s", method, path, res.StatusCode, text)
		}
	}
	object, _ := out.(map[string]any) // a batch answers with an array
	return reply{res.StatusCode, object}
}

// must fails t unless the answer has status want, and returns its body.
func (r reply) must(t *testing.T, want int, what string) map[string]any {
	t.Helper()
	if r.status != want {
		t.Fatalf("%s: %d %v", what, r.status, r.body)
	}
	return r.body
}

// Who receives which push, through the real API: the
// author, a member who muted the group, outsiders, members of other groups
// and a member removed before the message get nothing.
func TestWhoGetsWhat(t *testing.T) {
	t.Parallel()
	fake := newFakeExpo(t)
	app := pushApp(t, fake, nil)
	const (
		alicePhone = "ExponentPushToken[alice-phone]"
		bobPhone   = "ExponentPushToken[bob-phone]"
		bobTablet  = "ExpoPushToken[bob-tablet]"
		davePhone  = "ExponentPushToken[dave-phone]"
		erinPhone  = "ExponentPushToken[erin-phone]"
	)
	for user, tokens := range map[string][]string{
		hearthtest.Alice: {alicePhone}, hearthtest.Bob: {bobPhone, bobTablet}, hearthtest.Dave: {davePhone}, hearthtest.Erin: {erinPhone},
	} {
		for _, tok := range tokens {
			addDevice(t, app, user, tok)
		}
	}
	// Erin was in Climbers and was removed before anything was posted.
	if _, err := collections.AddMember(app, hearthtest.Climbers, hearthtest.Erin, collections.RoleMember); err != nil {
		t.Fatal(err)
	}
	base := hearthtest.Serve(t, app).URL
	api(t, app, base, http.MethodDelete, "/api/collections/memberships/records/"+hearthtest.MembershipID(t, app, hearthtest.Climbers, hearthtest.Erin), hearthtest.Alice, nil).must(t, http.StatusNoContent, "Alice removes Erin")

	text := "Who brings the rope? " + strings.Repeat("I can bring quickdraws and a spare harness. ", 5)
	msg := api(t, app, base, http.MethodPost, "/api/collections/messages/records", hearthtest.Bob, map[string]any{"group": hearthtest.Climbers, "body": text}).must(t, http.StatusOK, "Bob posts")
	event := api(t, app, base, http.MethodPost, "/api/collections/events/records", hearthtest.Alice, map[string]any{"group": hearthtest.Climbers, "title": "Crag day", "starts_at": "2031-05-01 09:00:00.000Z", "capacity": 1}).must(t, http.StatusOK, "Alice adds an event")
	api(t, app, base, http.MethodPost, "/api/collections/messages/records", hearthtest.Dave, map[string]any{"group": hearthtest.Chess, "body": "Clocks?"}).must(t, http.StatusOK, "Dave posts in Chess")

	// A place opens for Alice when Bob, who took it, declines.
	bobRSVP := api(t, app, base, http.MethodPost, "/api/collections/rsvps/records", hearthtest.Bob, map[string]any{"event": event["id"], "status": "going"}).must(t, http.StatusOK, "Bob goes")
	aliceRSVP := api(t, app, base, http.MethodPost, "/api/collections/rsvps/records", hearthtest.Alice, map[string]any{"event": event["id"], "status": "going"}).must(t, http.StatusOK, "Alice asks to go")
	if aliceRSVP["status"] != collections.StatusWaitlisted {
		t.Fatalf("Alice should wait: %v", aliceRSVP)
	}
	api(t, app, base, http.MethodPatch, "/api/collections/rsvps/records/"+bobRSVP["id"].(string), hearthtest.Bob, map[string]any{"status": "declined"}).must(t, http.StatusOK, "Bob declines")

	deliver(t, app)
	got := map[string][]string{}
	for _, tok := range []string{alicePhone, bobPhone, bobTablet, davePhone, erinPhone, hearthtest.CarolToken} {
		for _, m := range fake.acceptedTo(tok) {
			got[tok] = append(got[tok], m.Data["type"].(string)+": "+m.Title+" / "+m.Body)
		}
	}
	// The start of the text: 99 characters on one line and an ellipsis.
	wantBody := "Bob: " + strings.TrimRight(strings.Join(strings.Fields(text), " ")[:99], " ") + "…"
	want := map[string][]string{
		alicePhone: {"message: Climbers / " + wantBody, "promotion: Climbers / A place opened up: you're going to Crag day."},
		bobPhone:   {"event: Climbers / Alice added an event: Crag day"},
		bobTablet:  {"event: Climbers / Alice added an event: Crag day"},
		erinPhone:  {"message: Chess / Dave: Clocks?"},
	}
	for tok := range want {
		slices.Sort(want[tok])
		slices.Sort(got[tok])
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("pushes received:\n%v\nwant:\n%v", got, want)
	}

	// The message push as Expo got it: what the app needs to open it.
	m := fake.acceptedTo(alicePhone)[slices.IndexFunc(fake.acceptedTo(alicePhone), func(m expoMessage) bool { return m.Data["type"] == "message" })]
	if m.Data["group"] != hearthtest.Climbers || m.Data["message"] != msg["id"] || m.Sound != "default" || m.Priority != "high" {
		t.Errorf("message push: %+v", m)
	}
	// Carol muted Climbers: nothing of it was even stored for her.
	if rows := pushRows(t, app, dbx.HashExp{"user": hearthtest.Carol}); len(rows) != 0 {
		t.Errorf("pushes stored for Carol: %+v", rows)
	}
}
