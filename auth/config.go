package auth

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"
)

// The OAuth2 providers Hearth configures, by PocketBase's provider name;
// their settings are HEARTH_OAUTH2_<NAME>_*. Any other of PocketBase's
// providers can still be set up in the dashboard.
const (
	Apple  = "apple"
	Google = "google"
	OIDC   = "oidc"
)

// ProviderNames lists them in the order the app shows their buttons.
var ProviderNames = []string{Apple, Google, OIDC}

// Provider is one OAuth2 provider's settings.
type Provider struct {
	// Name is PocketBase's provider name (ProviderNames).
	Name string
	// ClientID and ClientSecret are the app's credentials at the provider
	// (_CLIENT_ID, _CLIENT_SECRET). Apple's secret is generated from
	// Config.AppleKey instead when that is set.
	ClientID, ClientSecret string
	// Issuer is a generic OpenID Connect provider's issuer URL (_ISSUER):
	// its endpoints are discovered from
	// <issuer>/.well-known/openid-configuration at start, unless all three
	// of AuthURL, TokenURL and UserInfoURL are given (_AUTH_URL,
	// _TOKEN_URL, _USERINFO_URL).
	Issuer                         string
	AuthURL, TokenURL, UserInfoURL string
	// DisplayName is the button's label (_DISPLAY_NAME); PocketBase's
	// default when empty.
	DisplayName string
}

// Config is the sign-in configuration read from the environment.
type Config struct {
	// Providers are the OAuth2 providers with a client id set.
	Providers []Provider
	// AppleKey, when set, signs Apple's client secret (HEARTH_APPLE_*).
	AppleKey *AppleKey
	// Now is the clock of Apple's secret; nil means time.Now.
	Now func() time.Time
}

// Provider returns the provider named name, if configured.
func (c Config) Provider(name string) (Provider, bool) {
	for _, p := range c.Providers {
		if p.Name == name {
			return p, true
		}
	}
	return Provider{}, false
}

// envPrefix is the prefix of a provider's settings.
func envPrefix(name string) string {
	return "HEARTH_OAUTH2_" + strings.ToUpper(name) + "_"
}

// FromEnv reads the sign-in settings; every bad value is reported, each
// naming its variable. Secrets are never part of an error.
func FromEnv(getenv func(string) string) (Config, error) {
	var cfg Config
	var errs []error
	get := func(name string) string { return strings.TrimSpace(getenv(name)) }

	apple, err := appleKeyFromEnv(get)
	errs = append(errs, err)
	cfg.AppleKey = apple

	for _, name := range ProviderNames {
		pre := envPrefix(name)
		p := Provider{
			Name:         name,
			ClientID:     get(pre + "CLIENT_ID"),
			ClientSecret: get(pre + "CLIENT_SECRET"),
			Issuer:       get(pre + "ISSUER"),
			AuthURL:      get(pre + "AUTH_URL"),
			TokenURL:     get(pre + "TOKEN_URL"),
			UserInfoURL:  get(pre + "USERINFO_URL"),
			DisplayName:  get(pre + "DISPLAY_NAME"),
		}
		errs = append(errs, p.check(apple)...)
		if p.ClientID != "" {
			cfg.Providers = append(cfg.Providers, p)
		}
	}
	return cfg, errors.Join(errs...)
}

// check reports what is missing or malformed in p's settings.
func (p Provider) check(apple *AppleKey) []error {
	pre := envPrefix(p.Name)
	urls := map[string]string{"ISSUER": p.Issuer, "AUTH_URL": p.AuthURL, "TOKEN_URL": p.TokenURL, "USERINFO_URL": p.UserInfoURL}
	var errs []error
	for _, suffix := range []string{"ISSUER", "AUTH_URL", "TOKEN_URL", "USERINFO_URL"} {
		v := urls[suffix]
		if v == "" {
			continue
		}
		if p.Name != OIDC {
			errs = append(errs, fmt.Errorf("%s%s: only the generic OpenID Connect provider (HEARTH_OAUTH2_OIDC_*) takes endpoint URLs", pre, suffix))
			continue
		}
		if u, err := url.Parse(v); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			errs = append(errs, fmt.Errorf("%s%s: %q is not an http(s) URL", pre, suffix, v))
		}
	}
	if p.ClientID == "" {
		if p.ClientSecret != "" || p.Issuer != "" || p.AuthURL != "" || p.TokenURL != "" || p.UserInfoURL != "" {
			errs = append(errs, fmt.Errorf("%sCLIENT_ID: must be set when the provider's other settings are", pre))
		}
		return errs
	}
	switch {
	case p.Name == Apple && apple != nil && p.ClientSecret != "":
		errs = append(errs, fmt.Errorf("%sCLIENT_SECRET: not with HEARTH_APPLE_PRIVATE_KEY_FILE, from which Hearth makes Apple's secret", pre))
	case p.Name == Apple && apple == nil && p.ClientSecret == "":
		errs = append(errs, fmt.Errorf("%sCLIENT_SECRET: set HEARTH_APPLE_TEAM_ID, HEARTH_APPLE_KEY_ID and HEARTH_APPLE_PRIVATE_KEY_FILE (Hearth makes and renews the secret), or the secret itself", pre))
	case p.Name != Apple && p.ClientSecret == "":
		errs = append(errs, fmt.Errorf("%sCLIENT_SECRET: must be set with %sCLIENT_ID", pre, pre))
	}
	if p.Name == OIDC && p.Issuer == "" && (p.AuthURL == "" || p.TokenURL == "" || p.UserInfoURL == "") {
		errs = append(errs, fmt.Errorf("%sISSUER: must be set, or all of %sAUTH_URL, %sTOKEN_URL and %sUSERINFO_URL", pre, pre, pre, pre))
	}
	return errs
}

// appleKeyFromEnv reads HEARTH_APPLE_*: all three or none.
func appleKeyFromEnv(get func(string) string) (*AppleKey, error) {
	team, keyID, file := get("HEARTH_APPLE_TEAM_ID"), get("HEARTH_APPLE_KEY_ID"), get("HEARTH_APPLE_PRIVATE_KEY_FILE")
	if team == "" && keyID == "" && file == "" {
		return nil, nil
	}
	var errs []error
	for _, v := range []struct{ name, value string }{
		{"HEARTH_APPLE_TEAM_ID", team}, {"HEARTH_APPLE_KEY_ID", keyID}, {"HEARTH_APPLE_PRIVATE_KEY_FILE", file},
	} {
		if v.value == "" {
			errs = append(errs, fmt.Errorf("%s: must be set with the other HEARTH_APPLE_* settings", v.name))
		}
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	key, err := ReadAppleKey(file)
	if err != nil {
		return nil, fmt.Errorf("HEARTH_APPLE_PRIVATE_KEY_FILE: %s: %w", file, err)
	}
	if get(envPrefix(Apple)+"CLIENT_ID") == "" {
		return nil, fmt.Errorf("%sCLIENT_ID: must be set with HEARTH_APPLE_PRIVATE_KEY_FILE (the app's bundle id, or the Services ID for the web)", envPrefix(Apple))
	}
	return &AppleKey{TeamID: team, KeyID: keyID, Key: key}, nil
}
