package logs_test

import (
	"errors"
	"log/slog"
	"strings"
	"testing"

	"github.com/crews/hearth/logs"
	"github.com/pocketbase/dbx"
	"github.com/pocketbase/pocketbase/core"
)

// An application entry keeps the attributes named safe and numbers; any
// other string or structure is redacted, and the secret shapes are masked
// in what is kept, in the output and in auxiliary.db alike.
func TestApplicationEntriesByAllowList(t *testing.T) {
	out := &lines{}
	app := loggedApp(t, logs.Config{Format: logs.FormatJSON, Output: out})
	const jwt = "eyJhbGciOiJIUzI1NiJ9.eyJpZCI6Im1hcmtlciJ9.c2lnbmF0dXJlbWFya2Vy"
	app.Logger().With("filter", `code = "ABCDEFGHJKMN"`, "collection", "invites").Warn("allow-list probe",
		"email", "erin@example.com",
		"subscriptions", []string{`invites?options={"query":{"filter":"code = 'ABCDEFGHJKMN'"}}`},
		"error", errors.New("HTTP 400: PUSH_TOO_MANY_EXPERIENCE_IDS: ExponentPushToken[markerpush1] and erin@example.com, token "+jwt),
		"url", "s3://user:pass@bucket/data?secret=ABCDEFGHJKMN",
		"pushes", 3,
		slog.Group("push", "to", "ExponentPushToken[markerpush2]", "attempt", 2),
	)
	stored(t, app, "allow-list probe")

	line := find(out.decoded(t), "allow-list probe")
	if line == nil {
		t.Fatal("no line")
	}
	for key, want := range map[string]any{
		"filter":        logs.Redacted,
		"collection":    "invites",
		"email":         logs.Redacted,
		"subscriptions": logs.Redacted,
		"error":         "HTTP 400: PUSH_TOO_MANY_EXPERIENCE_IDS: [redacted] and [redacted], token [redacted]",
		"url":           "s3://bucket/data?secret=[redacted]",
		"pushes":        float64(3),
		"push":          map[string]any{"to": logs.Redacted, "attempt": float64(2)},
	} {
		if got := line[key]; !equal(got, want) {
			t.Errorf("%s = %v, want %v", key, got, want)
		}
	}
	var data string
	if err := app.AuxConcurrentDB().Select("data").From(core.LogsTableName).
		Where(dbx.HashExp{"message": "allow-list probe"}).Row(&data); err != nil {
		t.Fatal(err)
	}
	for _, secret := range []string{"ABCDEFGHJKMN", "erin", "markerpush", jwt, "pass"} {
		if strings.Contains(data, secret) {
			t.Errorf("auxiliary.db holds %q: %s", secret, data)
		}
	}
}

func equal(a, b any) bool {
	am, aok := a.(map[string]any)
	bm, bok := b.(map[string]any)
	if !aok || !bok {
		return a == b
	}
	if len(am) != len(bm) {
		return false
	}
	for k := range am {
		if !equal(am[k], bm[k]) {
			return false
		}
	}
	return true
}
