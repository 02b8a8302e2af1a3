package auth_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/crews/hearth/auth"
	"github.com/crews/hearth/internal/hearthtest"
	"github.com/golang-jwt/jwt/v5"
	"github.com/pocketbase/pocketbase/core"
)

func users(t *testing.T, app core.App) *core.Collection {
	t.Helper()
	c, err := app.FindCollectionByNameOrId(auth.Users)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func appleExpiry(t *testing.T, app core.App) time.Time {
	t.Helper()
	pc, ok := users(t, app).OAuth2.GetProviderConfig(auth.Apple)
	if !ok {
		t.Fatal("no apple provider stored")
	}
	claims := jwt.RegisteredClaims{}
	if _, _, err := jwt.NewParser().ParseUnverified(pc.ClientSecret, &claims); err != nil {
		t.Fatalf("stored apple secret: %v", err)
	}
	return claims.ExpiresAt.Time
}

// Apply turns on OTP and per-user MFA, installs Crews' templates, and
// stores the configured providers beside those set in the dashboard.
func TestApply(t *testing.T) {
	app := hearthtest.NewApp(t)
	col := users(t, app)
	col.OAuth2.Providers = []core.OAuth2ProviderConfig{{Name: "github", ClientId: "gh", ClientSecret: "ghs"}}
	if err := app.Save(col); err != nil {
		t.Fatal(err)
	}
	cfg, err := auth.FromEnv(getenv(map[string]string{"HEARTH_OAUTH2_GOOGLE_CLIENT_ID": "g", "HEARTH_OAUTH2_GOOGLE_CLIENT_SECRET": "gs"}))
	if err != nil {
		t.Fatal(err)
	}
	if err := auth.Apply(app, cfg); err != nil {
		t.Fatal(err)
	}
	col = users(t, app)
	if !col.OTP.Enabled || col.OTP.Length != auth.OTPLength || !col.MFA.Enabled || col.MFA.Rule != "mfa = true" {
		t.Fatalf("otp %+v mfa %+v", col.OTP, col.MFA)
	}
	for name, tpl := range map[string]core.EmailTemplate{
		auth.ActionVerification:  col.VerificationTemplate,
		auth.ActionPasswordReset: col.ResetPasswordTemplate,
		auth.ActionEmailChange:   col.ConfirmEmailChangeTemplate,
	} {
		if !strings.Contains(tpl.Body, "{APP_URL}"+auth.ConfirmPath+name+"#{TOKEN}") {
			t.Errorf("%s template links elsewhere: %s", name, tpl.Body)
		}
	}
	if !strings.Contains(col.OTP.EmailTemplate.Body, "{OTP}") {
		t.Errorf("otp template without the code: %s", col.OTP.EmailTemplate.Body)
	}
	if _, ok := col.OAuth2.GetProviderConfig("github"); !ok {
		t.Error("the dashboard's github provider is gone")
	}
	if g, ok := col.OAuth2.GetProviderConfig(auth.Google); !ok || g.ClientId != "g" || g.ClientSecret != "gs" {
		t.Errorf("google %+v", g)
	}
	if !col.OAuth2.Enabled || col.OAuth2.MappedFields.Name != "name" {
		t.Errorf("oauth2 %+v", col.OAuth2)
	}
}

// Apple's secret is made at start and replaced by the daily check once it
// has less than AppleRenewBefore left, not before.
func TestAppleSecretRenewal(t *testing.T) {
	app := hearthtest.NewApp(t)
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	cfg, err := auth.FromEnv(getenv(appleEnv(p8(t, key))))
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 12, 6, 0, 0, 0, 0, time.UTC)
	cfg.Now = func() time.Time { return now }
	if err := auth.Apply(app, cfg); err != nil {
		t.Fatal(err)
	}
	first := appleExpiry(t, app)
	if !first.Equal(now.Add(auth.AppleSecretLifetime)) {
		t.Fatalf("first secret expires %v", first)
	}

	now = first.Add(-auth.AppleRenewBefore - time.Hour)
	if err := auth.RenewAppleSecret(app, cfg); err != nil {
		t.Fatal(err)
	}
	if got := appleExpiry(t, app); !got.Equal(first) {
		t.Fatalf("renewed with %v left: expires %v", auth.AppleRenewBefore+time.Hour, got)
	}

	now = first.Add(-auth.AppleRenewBefore + time.Hour)
	if err := auth.RenewAppleSecret(app, cfg); err != nil {
		t.Fatal(err)
	}
	if got := appleExpiry(t, app); !got.Equal(now.Truncate(time.Second).Add(auth.AppleSecretLifetime)) {
		t.Fatalf("not renewed with less than %v left: expires %v", auth.AppleRenewBefore, got)
	}
}

// The confirm page is served for the three actions and nothing else; its
// token stays in the fragment, so the page itself is the same for all.
func TestConfirmPage(t *testing.T) {
	s := hearthtest.NewServer(t)
	for _, action := range auth.Actions {
		res, err := http.Get(s.URL + auth.ConfirmPath + action)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != 200 || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/html") || res.Header.Get("Referrer-Policy") != "no-referrer" {
			t.Errorf("%s: %d %v", action, res.StatusCode, res.Header)
		}
	}
	res, err := http.Get(s.URL + auth.ConfirmPath + "delete-account")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 404 {
		t.Errorf("unknown action: %d", res.StatusCode)
	}
}

// A user's mfa switch is shown to them, not to the members who see them.
func TestMFASwitchIsPrivate(t *testing.T) {
	s := hearthtest.NewServer(t)
	hearthtest.Save(t, s.App, auth.Users, hearthtest.Alice, map[string]any{auth.MFAField: true})
	own := s.Do(t, http.MethodGet, "/api/collections/users/records/"+hearthtest.Alice, hearthtest.Token(t, s.App, hearthtest.Alice), nil)
	if own.Body[auth.MFAField] != true {
		t.Fatalf("alice's own view: %s", own.Raw)
	}
	other := s.Do(t, http.MethodGet, "/api/collections/users/records/"+hearthtest.Alice, hearthtest.Token(t, s.App, hearthtest.Bob), nil)
	if other.Status != 200 {
		t.Fatalf("bob views alice: %d %s", other.Status, other.Raw)
	}
	if _, shown := other.Body[auth.MFAField]; shown {
		t.Fatalf("bob sees alice's mfa switch: %s", other.Raw)
	}
}
