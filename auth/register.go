package auth

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/pocketbase/pocketbase/core"
)

// Users is the auth collection configured here.
const Users = "users"

// MFAField is the users' bool field that turns MFA on for one account
// (migration 1764115900): its owner sets it; password sign-in then also
// asks for a code sent by email.
const MFAField = "mfa"

// One-time codes: PocketBase's length (8 digits), valid 10 minutes
// (PocketBase's 3 leave little room for a slow mailbox); an MFA session
// (between the password and the code) lasts as long.
const (
	OTPLength   = 8
	OTPDuration = 10 * time.Minute
	MFADuration = 10 * time.Minute
)

// appleRenewSchedule is when the daily check of Apple's secret runs.
const appleRenewSchedule = "17 3 * * *"

// discoveryTimeout bounds the start-up request for an OpenID Connect
// provider's configuration.
const discoveryTimeout = 10 * time.Second

// Register configures the users collection from cfg at every serve start
// (Apply), renews Apple's secret daily, names new OAuth2 accounts whose
// provider gave no name, and serves the pages the emails link to.
func Register(app core.App, cfg Config) {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	registerPages(app)
	registerNewAccountName(app)
	registerMFAPrivacy(app)
	app.OnServe().BindFunc(func(e *core.ServeEvent) error {
		if err := Apply(e.App, cfg); err != nil {
			return err
		}
		return e.Next()
	})
	if cfg.AppleKey != nil {
		app.Cron().MustAdd("hearthAppleSecret", appleRenewSchedule, func() {
			if err := RenewAppleSecret(app, cfg); err != nil {
				app.Logger().Error("apple client secret not renewed", "error", err.Error())
			}
		})
	}
}

// Apply writes the sign-in configuration into the users collection: OTP,
// MFA for the users who turned it on, Crews' templates, and the OAuth2
// providers of cfg (with a fresh Apple secret when cfg has Apple's key).
// Providers cfg does not name stay as the dashboard left them.
func Apply(app core.App, cfg Config) error {
	users, err := app.FindCollectionByNameOrId(Users)
	if err != nil {
		return fmt.Errorf("auth: %w", err)
	}
	users.OTP.Enabled = true
	users.OTP.Length = OTPLength
	users.OTP.Duration = int64(OTPDuration / time.Second)
	users.OTP.EmailTemplate = otpTemplate
	users.MFA.Enabled = true
	users.MFA.Duration = int64(MFADuration / time.Second)
	users.MFA.Rule = MFAField + " = true"
	users.VerificationTemplate = verificationTemplate
	users.ResetPasswordTemplate = resetPasswordTemplate
	users.ConfirmEmailChangeTemplate = emailChangeTemplate
	users.AuthAlert.EmailTemplate = authAlertTemplate
	users.OAuth2.MappedFields.Name = "name"

	for _, p := range cfg.Providers {
		pc, err := providerConfig(p, cfg)
		if err != nil {
			return err
		}
		setProvider(users, pc)
	}
	users.OAuth2.Enabled = len(users.OAuth2.Providers) > 0
	if err := app.Save(users); err != nil {
		return fmt.Errorf("auth: save users' sign-in settings: %w", err)
	}
	return addEmailRateLimits(app)
}

// EmailRateLimitRules bound the requests that send an email to whatever
// address they name: three a minute per client IP and collection, for
// each. PocketBase's own rules only bound them with all of /api/ (300 in
// 10 s). They apply when rate limiting is on (HEARTH_RATE_LIMITS).
func EmailRateLimitRules() []core.RateLimitRule {
	var rules []core.RateLimitRule
	for _, tag := range []string{"requestVerification", "requestPasswordReset", "requestEmailChange", "requestOTP"} {
		rules = append(rules, core.RateLimitRule{Label: "*:" + tag, MaxRequests: 3, Duration: 60})
	}
	return rules
}

// addEmailRateLimits stores each of EmailRateLimitRules whose label has no
// rule yet; a rule the dashboard changed is left as it is.
func addEmailRateLimits(app core.App) error {
	settings, err := app.Settings().Clone()
	if err != nil {
		return fmt.Errorf("auth: email rate limits: %w", err)
	}
	added := false
	for _, rule := range EmailRateLimitRules() {
		if !slices.ContainsFunc(settings.RateLimits.Rules, func(r core.RateLimitRule) bool { return r.Label == rule.Label }) {
			settings.RateLimits.Rules = append(settings.RateLimits.Rules, rule)
			added = true
		}
	}
	if !added {
		return nil
	}
	if err := app.Save(settings); err != nil {
		return fmt.Errorf("auth: save email rate limits: %w", err)
	}
	return nil
}

// RenewAppleSecret replaces Apple's stored secret when it expires within
// AppleRenewBefore (or does not parse).
func RenewAppleSecret(app core.App, cfg Config) error {
	p, ok := cfg.Provider(Apple)
	if !ok || cfg.AppleKey == nil {
		return nil
	}
	users, err := app.FindCollectionByNameOrId(Users)
	if err != nil {
		return fmt.Errorf("auth: %w", err)
	}
	stored, ok := users.OAuth2.GetProviderConfig(Apple)
	if ok && appleSecretExpiry(stored.ClientSecret).After(cfg.Now().Add(AppleRenewBefore)) {
		return nil
	}
	pc, err := providerConfig(p, cfg)
	if err != nil {
		return err
	}
	setProvider(users, pc)
	if err := app.Save(users); err != nil {
		return fmt.Errorf("auth: save renewed apple secret: %w", err)
	}
	app.Logger().Info("apple client secret renewed", "expires", appleSecretExpiry(pc.ClientSecret).UTC().Format(time.RFC3339))
	return nil
}

// setProvider stores pc in place of the provider of the same name.
func setProvider(users *core.Collection, pc core.OAuth2ProviderConfig) {
	for i, existing := range users.OAuth2.Providers {
		if existing.Name == pc.Name {
			users.OAuth2.Providers[i] = pc
			return
		}
	}
	users.OAuth2.Providers = append(users.OAuth2.Providers, pc)
}

// providerConfig is PocketBase's configuration of p: Apple's secret
// signed now, a generic provider's endpoints discovered.
func providerConfig(p Provider, cfg Config) (core.OAuth2ProviderConfig, error) {
	pc := core.OAuth2ProviderConfig{
		Name:         p.Name,
		ClientId:     p.ClientID,
		ClientSecret: p.ClientSecret,
		AuthURL:      p.AuthURL,
		TokenURL:     p.TokenURL,
		UserInfoURL:  p.UserInfoURL,
		DisplayName:  p.DisplayName,
	}
	if p.Name == Apple && cfg.AppleKey != nil {
		secret, _, err := cfg.AppleKey.Secret(p.ClientID, cfg.Now())
		if err != nil {
			return pc, err
		}
		pc.ClientSecret = secret
	}
	if p.Name == OIDC && (pc.AuthURL == "" || pc.TokenURL == "" || pc.UserInfoURL == "") {
		d, err := discover(p.Issuer)
		if err != nil {
			return pc, fmt.Errorf("%sISSUER: %w", envPrefix(OIDC), err)
		}
		pc.AuthURL, pc.TokenURL, pc.UserInfoURL = d.AuthURL, d.TokenURL, d.UserInfoURL
		pc.Extra = map[string]any{"jwksURL": d.JWKSURL, "issuers": []string{d.Issuer}}
	}
	return pc, nil
}

// discovery is the part of an OpenID Connect provider's configuration
// PocketBase needs.
type discovery struct {
	Issuer      string `json:"issuer"`
	AuthURL     string `json:"authorization_endpoint"`
	TokenURL    string `json:"token_endpoint"`
	UserInfoURL string `json:"userinfo_endpoint"`
	JWKSURL     string `json:"jwks_uri"`
}

// discover reads issuer's /.well-known/openid-configuration (OpenID Connect
// Discovery 1.0), which must name issuer itself.
func discover(issuer string) (discovery, error) {
	ctx, cancel := context.WithTimeout(context.Background(), discoveryTimeout)
	defer cancel()
	u := strings.TrimSuffix(issuer, "/") + "/.well-known/openid-configuration"
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return discovery{}, err
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return discovery{}, fmt.Errorf("discovery: %w", err)
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return discovery{}, fmt.Errorf("discovery: %s answered %s", u, res.Status)
	}
	var d discovery
	if err := json.NewDecoder(io.LimitReader(res.Body, 1<<20)).Decode(&d); err != nil {
		return discovery{}, fmt.Errorf("discovery: %s: %w", u, err)
	}
	if strings.TrimSuffix(d.Issuer, "/") != strings.TrimSuffix(issuer, "/") {
		return discovery{}, fmt.Errorf("discovery: %s names issuer %q, not %q", u, d.Issuer, issuer)
	}
	if d.AuthURL == "" || d.TokenURL == "" || d.UserInfoURL == "" {
		return discovery{}, fmt.Errorf("discovery: %s lacks an authorization, token or userinfo endpoint", u)
	}
	return d, nil
}

// registerNewAccountName names an account made by a first OAuth2 sign-in
// whose provider sent no name (Apple sends it only to the app, on the
// first sign-in; an OpenID provider without the profile scope never): the
// users' name is required. The app's createData name wins, then the
// provider's, then the provider's username, then the email's local part.
func registerNewAccountName(app core.App) {
	app.OnRecordAuthWithOAuth2Request(Users).BindFunc(func(e *core.RecordAuthWithOAuth2RequestEvent) error {
		if !e.IsNewRecord || e.OAuth2User == nil || strings.TrimSpace(e.OAuth2User.Name) != "" {
			return e.Next()
		}
		if name, _ := e.CreateData["name"].(string); strings.TrimSpace(name) != "" {
			return e.Next()
		}
		name := e.OAuth2User.Username
		if name == "" {
			name, _, _ = strings.Cut(e.OAuth2User.Email, "@")
		}
		if name == "" {
			name = "Crews member"
		}
		e.OAuth2User.Name = name
		return e.Next()
	})
}

// registerMFAPrivacy shows a user's MFA switch to them alone (and
// superusers): whether an account asks for a second factor is nobody
// else's business.
func registerMFAPrivacy(app core.App) {
	app.OnRecordEnrich(Users).BindFunc(func(e *core.RecordEnrichEvent) error {
		if e.RequestInfo == nil || !e.RequestInfo.HasSuperuserAuth() &&
			(e.RequestInfo.Auth == nil || e.RequestInfo.Auth.Id != e.Record.Id) {
			e.Record.Hide(MFAField)
		} else {
			e.Record.Unhide(MFAField) // enriched anonymously before (collections/users.go)
		}
		return e.Next()
	})
}
