package firebase_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/crews/hearth/firebase"
	"github.com/crews/hearth/internal/hearthtest"
	"github.com/pocketbase/dbx"
	"github.com/pocketbase/pocketbase/core"
)

// The firebase/scrypt README's project and user (its known answer).
var readmeHashConfig = firebase.HashConfig{
	Algorithm: "SCRYPT", SignerKey: "jxspr8Ki0RYycVU8zykbdLGjFQ3McFUH0uiiTvC8pVMXAn210wjLNmdZJzxUECKbm0QsEmYUSDzZvpjeJ9WmXA==",
	SaltSeparator: "Bw==", Rounds: 8, MemCost: 14,
}

const authJSON = `{"users": [
  {"localId": "kYi4EvWQlQTKSfnJ3dRSP6IH3ed2", "email": "User1@Test.com", "emailVerified": true,
   "passwordHash": "lSrfV15cpx95/sZS2W9c9Kp6i/LVgQNDNC/qzrCnh1SAyZvqmZqAjTdn3aoItz+VHjoZilo78198JAdRuid5lQ==",
   "salt": "42xEC+ixf3L2lw==", "displayName": "Test User 1", "createdAt": "1508893925000", "lastSignedInAt": "1508893925000",
   "customAttributes": "{\"admin\":true}"},
  {"localId": "googleUser0000000000000000001", "email": "g@example.com", "emailVerified": true, "displayName": "",
   "createdAt": "1600000000000",
   "providerUserInfo": [{"providerId": "google.com", "rawId": "109876543210", "email": "g@example.com"},
                        {"providerId": "apple.com", "rawId": "001234.abcdef.1234", "email": "g@example.com"},
                        {"providerId": "password", "rawId": "g@example.com"}]},
  {"localId": "disabledUser0000000000000001", "email": "off@example.com",
   "passwordHash": "lSrfV15cpx95_sZS2W9c9Kp6i_LVgQNDNC_qzrCnh1SAyZvqmZqAjTdn3aoItz-VHjoZilo78198JAdRuid5lQ",
   "salt": "42xEC-ixf3L2lw", "displayName": "Off", "disabled": true},
  {"localId": "phoneOnly0000000000000000001", "phoneNumber": "+15555550100"},
  {"localId": "badHash00000000000000000001", "email": "bad@example.com", "passwordHash": "%%%", "salt": "42xEC+ixf3L2lw=="}
]}`

func importAuth(t *testing.T, app core.App, export string, opts firebase.AuthOptions) *firebase.Report {
	t.Helper()
	r, err := firebase.NewAuthReader(strings.NewReader(export))
	if err != nil {
		t.Fatal(err)
	}
	rep, err := firebase.ImportAuth(app, r, opts)
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

func userByUID(t *testing.T, app core.App, uid string) *core.Record {
	t.Helper()
	rec, err := app.FindFirstRecordByData("users", "firebase_uid", uid)
	if err != nil {
		t.Fatalf("user %s: %v", uid, err)
	}
	return rec
}

func signIn(t *testing.T, s *hearthtest.Server, email, password string) hearthtest.Response {
	t.Helper()
	return s.Do(t, http.MethodPost, "/api/collections/users/auth-with-password", "", map[string]any{"identity": email, "password": password})
}

func TestImportUsersAndSignInWithTheFirebasePassword(t *testing.T) {
	s := hearthtest.NewServer(t)
	cfg := readmeHashConfig
	rep := importAuth(t, s.App, authJSON, firebase.AuthOptions{Hash: &cfg})
	if c := rep.Counts["users"]; c.Created != 3 || c.Skipped != 2 {
		t.Fatalf("counts = %+v, want 3 created, 2 skipped (phone-only, bad hash); skips %v", c, rep.Skips)
	}

	u1 := userByUID(t, s.App, "kYi4EvWQlQTKSfnJ3dRSP6IH3ed2")
	if u1.Email() != "user1@test.com" || !u1.Verified() || u1.GetString("name") != "Test User 1" ||
		u1.GetDateTime("created").Time().UnixMilli() != 1508893925000 || !strings.Contains(u1.GetString("firebase_claims"), `"admin":true`) {
		t.Fatalf("user 1 imported as %v", u1.FieldsData())
	}
	g := userByUID(t, s.App, "googleUser0000000000000000001")
	if g.GetString("name") != "g" || g.GetString("firebase_hash") != "" {
		t.Fatalf("google user: name %q hash %q", g.GetString("name"), g.GetString("firebase_hash"))
	}
	for provider, rawID := range map[string]string{"google": "109876543210", "apple": "001234.abcdef.1234"} {
		ea, err := s.App.FindFirstExternalAuthByExpr(dbx.HashExp{"provider": provider, "providerId": rawID})
		if err != nil || ea.RecordRef() != g.Id {
			t.Fatalf("%s link: %v, %v", provider, ea, err)
		}
	}

	// Wrong password first: the ordinary 400, and the Firebase hash stays.
	if r := signIn(t, s, "user1@test.com", "user1passworD"); r.Status != http.StatusBadRequest {
		t.Fatalf("wrong password: %d %s", r.Status, r.Raw)
	}
	if userByUID(t, s.App, u1.GetString("firebase_uid")).GetString("firebase_hash") == "" {
		t.Fatal("a wrong password cleared the Firebase hash")
	}
	r := signIn(t, s, "user1@test.com", "user1password")
	if r.Status != http.StatusOK || r.Str("token") == "" {
		t.Fatalf("first sign-in: %d %s", r.Status, r.Raw)
	}
	after := userByUID(t, s.App, u1.GetString("firebase_uid"))
	if after.GetString("firebase_hash") != "" || !after.ValidatePassword("user1password") {
		t.Fatal("after the first sign-in the password is not PocketBase's")
	}
	// The second sign-in is an ordinary one; a wrong password still a 400.
	if r := signIn(t, s, "user1@test.com", "user1password"); r.Status != http.StatusOK {
		t.Fatalf("second sign-in: %d %s", r.Status, r.Raw)
	}
	if r := signIn(t, s, "user1@test.com", "nope-nope"); r.Status != http.StatusBadRequest {
		t.Fatalf("wrong password after migration: %d", r.Status)
	}

	// Nothing of Firebase is readable through the API by the user itself.
	me := s.Do(t, http.MethodGet, "/api/collections/users/records/"+after.Id, r.Str("token"), nil)
	if me.Status != http.StatusOK {
		t.Fatalf("own record: %d", me.Status)
	}
	for _, f := range []string{"firebase_uid", "firebase_hash", "firebase_claims", "disabled"} {
		if _, ok := me.Body[f]; ok {
			t.Errorf("%s readable by its user: %s", f, me.Raw)
		}
	}
	// Nor writable: PocketBase drops hidden fields from a client's body.
	s.Do(t, http.MethodPatch, "/api/collections/users/records/"+after.Id, r.Str("token"), map[string]any{"firebase_uid": "stolen", "disabled": true})
	if got := hearthtest.Record(t, s.App, "users", after.Id); got.GetString("firebase_uid") != "kYi4EvWQlQTKSfnJ3dRSP6IH3ed2" || got.GetBool("disabled") {
		t.Fatal("a client changed its firebase fields")
	}

	// A disabled user: right password, no token.
	if r := signIn(t, s, "off@example.com", "user1password"); r.Status != http.StatusForbidden {
		t.Fatalf("disabled user: %d %s", r.Status, r.Raw)
	}

	// A rerun updates, duplicates nothing, and does not bring back the
	// Firebase hash of the user who has signed in since.
	rep = importAuth(t, s.App, authJSON, firebase.AuthOptions{Hash: &cfg})
	if c := rep.Counts["users"]; c.Created != 0 || c.Updated != 3 {
		t.Fatalf("rerun counts = %+v", c)
	}
	if userByUID(t, s.App, u1.GetString("firebase_uid")).GetString("firebase_hash") != "" {
		t.Fatal("rerun restored a migrated user's Firebase hash")
	}
	if r := signIn(t, s, "user1@test.com", "user1password"); r.Status != http.StatusOK {
		t.Fatalf("sign-in after rerun: %d", r.Status)
	}
}

// Sign-ins of one migrated user at once: each verifies the Firebase
// hash (under the cap), one stores the PocketBase hash, and every one
// gets a token.
func TestConcurrentFirstSignIns(t *testing.T) {
	s := hearthtest.NewServer(t)
	cfg := readmeHashConfig
	importAuth(t, s.App, authJSON, firebase.AuthOptions{Hash: &cfg})
	const n = 6
	statuses := make(chan int, n)
	for range n {
		go func() { statuses <- signIn(t, s, "user1@test.com", "user1password").Status }()
	}
	for range n {
		if status := <-statuses; status != http.StatusOK {
			t.Errorf("a concurrent first sign-in: %d", status)
		}
	}
	u := userByUID(t, s.App, "kYi4EvWQlQTKSfnJ3dRSP6IH3ed2")
	if u.GetString("firebase_hash") != "" || !u.ValidatePassword("user1password") {
		t.Fatal("after concurrent sign-ins the password is not PocketBase's")
	}
}

func TestImportUsersNeedsTheHashConfig(t *testing.T) {
	app := hearthtest.NewApp(t)
	r, _ := firebase.NewAuthReader(strings.NewReader(authJSON))
	_, err := firebase.ImportAuth(app, r, firebase.AuthOptions{})
	if !errors.Is(err, firebase.ErrNoHashConfig) {
		t.Fatalf("err = %v", err)
	}
	if n, _ := app.CountRecords("users", dbx.NewExp("firebase_uid != ''")); n != 0 {
		t.Fatalf("%d users written without a hash config", n)
	}
	r, _ = firebase.NewAuthReader(strings.NewReader(authJSON))
	users, hashes, err := firebase.ScanAuth(r)
	if users != 5 || !hashes || err != nil {
		t.Fatalf("ScanAuth = %d, %v, %v", users, hashes, err)
	}
}

func TestDryRunWritesNothing(t *testing.T) {
	app := hearthtest.NewApp(t)
	before, _ := app.CountRecords("users")
	cfg := readmeHashConfig
	rep := importAuth(t, app, authJSON, firebase.AuthOptions{Hash: &cfg, DryRun: true})
	if rep.Counts["users"].Created != 3 {
		t.Fatalf("dry run counts %+v", rep.Counts["users"])
	}
	if after, _ := app.CountRecords("users"); after != before {
		t.Fatalf("dry run wrote users: %d -> %d", before, after)
	}
}

// The firebase/scrypt README's user in the columns of today's
// firebase-tools (accountExporter's transUserToArray: creation time at
// index 23; the README's 2017 sample line has one empty column more), a
// user with a comma in the name, Google, claims, then two broken lines.
const authCSV = `kYi4EvWQlQTKSfnJ3dRSP6IH3ed2,user1@test.com,false,lSrfV15cpx95/sZS2W9c9Kp6i/LVgQNDNC/qzrCnh1SAyZvqmZqAjTdn3aoItz+VHjoZilo78198JAdRuid5lQ==,42xEC+ixf3L2lw==,Test User 1,,,,,,,,,,,,,,,,,,1508893925000,1508893925000,,
uid2,two@example.com,true,,,"Two, Esq.",,1098765,two@gmail.com,Two,,,,,,,,,,,,,,1600000000000,1600000000001,,false,"{""role"":""admin""}",
uid3,three@example.com,maybe,,,Three,,,,,,,,,,,,,,,,,,,,
short,line
`

func TestCSVExport(t *testing.T) {
	r, err := firebase.NewAuthReader(strings.NewReader(authCSV))
	if err != nil {
		t.Fatal(err)
	}
	var got []*firebase.AuthUser
	var rows []string
	for {
		u, err := r.Next()
		var row *firebase.RowError
		if errors.As(err, &row) {
			rows = append(rows, row.Error())
			continue
		}
		if err != nil {
			break
		}
		got = append(got, u)
	}
	if len(got) != 2 || len(rows) != 2 {
		t.Fatalf("read %d users, %d row errors (%v)", len(got), len(rows), rows)
	}
	if u := got[0]; u.UID != "kYi4EvWQlQTKSfnJ3dRSP6IH3ed2" || u.Salt != "42xEC+ixf3L2lw==" || u.DisplayName != "Test User 1" || u.CreatedAt != 1508893925000 {
		t.Fatalf("README user read as %+v", u)
	}
	u := got[1]
	if u.DisplayName != "Two, Esq." || !u.EmailVerified || len(u.Providers) != 1 || u.Providers[0].ProviderID != "google.com" ||
		u.Providers[0].RawID != "1098765" || u.Claims != `{"role":"admin"}` || u.Disabled {
		t.Fatalf("user two read as %+v", u)
	}
	if !strings.Contains(rows[0], "line 3") || !strings.Contains(rows[0], "emailVerified") || !strings.Contains(rows[1], "line 4") {
		t.Fatalf("row errors %v", rows)
	}
	var claims map[string]any
	if json.Unmarshal([]byte(u.Claims), &claims) != nil {
		t.Fatal("claims not JSON")
	}
}

// TestPasswordResetEndsTheFirebasePassword: a migrated user who resets
// their password before signing in (the reason may be that the old one
// leaked) must not be reachable with the old one. The Firebase hash was
// cleared only by a sign-in with it, so the old password still signed in
// after the reset, and replaced the new one.
func TestPasswordResetEndsTheFirebasePassword(t *testing.T) {
	s := hearthtest.NewServer(t)
	cfg := readmeHashConfig
	importAuth(t, s.App, authJSON, firebase.AuthOptions{Hash: &cfg})
	u1 := userByUID(t, s.App, "kYi4EvWQlQTKSfnJ3dRSP6IH3ed2")
	token, err := u1.NewPasswordResetToken()
	if err != nil {
		t.Fatal(err)
	}
	r := s.Do(t, http.MethodPost, "/api/collections/users/confirm-password-reset", "",
		map[string]any{"token": token, "password": "a-new-password-1", "passwordConfirm": "a-new-password-1"})
	if r.Status != http.StatusNoContent {
		t.Fatalf("reset: %d %s", r.Status, r.Raw)
	}
	if r := signIn(t, s, "user1@test.com", "user1password"); r.Status != http.StatusBadRequest {
		t.Fatalf("the Firebase password after a reset: %d %s", r.Status, r.Raw)
	}
	if r := signIn(t, s, "user1@test.com", "a-new-password-1"); r.Status != http.StatusOK {
		t.Fatalf("the new password: %d %s", r.Status, r.Raw)
	}
	if userByUID(t, s.App, u1.GetString("firebase_uid")).GetString("firebase_hash") != "" {
		t.Fatal("the Firebase hash outlived the reset")
	}
}

// TestDisablingEndsSessions: a user disabled by a rerun of the import (the
// Firebase project disabled them since) or by a superuser in the dashboard
// loses the tokens they hold, not only new sign-ins. Before, a token taken
// before the flag kept reading and writing until it expired.
func TestDisablingEndsSessions(t *testing.T) {
	s := hearthtest.NewServer(t)
	const export = `{"users": [{"localId": "offLater000000000000000000001", "email": "later@example.com", "disabled": %t}]}`
	importAuth(t, s.App, fmt.Sprintf(export, false), firebase.AuthOptions{})
	u := userByUID(t, s.App, "offLater000000000000000000001")
	token := hearthtest.Token(t, s.App, u.Id)
	// A user's own record is what their token shows: an invalid token is
	// a guest's, who sees no user (404).
	self := func(id string) string { return "/api/collections/users/records/" + id }
	if r := s.Do(t, http.MethodGet, self(u.Id), token, nil); r.Status != http.StatusOK {
		t.Fatalf("before: %d %s", r.Status, r.Raw)
	}
	importAuth(t, s.App, fmt.Sprintf(export, true), firebase.AuthOptions{})
	if r := s.Do(t, http.MethodGet, self(u.Id), token, nil); r.Status != http.StatusNotFound {
		t.Fatalf("a token of a user the import disabled: %d %s", r.Status, r.Raw)
	}

	// The dashboard: a superuser sets the flag on a user with a session.
	ids, tokens := hearthtest.NewUsers(t, s.App, "dash", 1)
	if r := s.Do(t, http.MethodGet, self(ids[0]), tokens[0], nil); r.Status != http.StatusOK {
		t.Fatalf("before: %d %s", r.Status, r.Raw)
	}
	root := hearthtest.SuperuserToken(t, s.App)
	if r := s.Do(t, http.MethodPatch, self(ids[0]), root, map[string]any{"disabled": true}); r.Status != http.StatusOK {
		t.Fatalf("disable: %d %s", r.Status, r.Raw)
	}
	if r := s.Do(t, http.MethodGet, self(ids[0]), tokens[0], nil); r.Status != http.StatusNotFound {
		t.Fatalf("a token of a user a superuser disabled: %d %s", r.Status, r.Raw)
	}
}
