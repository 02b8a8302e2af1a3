package auth_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"strings"
	"testing"

	"github.com/crews/hearth/auth"
)

func TestFromEnv(t *testing.T) {
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	file := p8(t, key)
	for _, c := range []struct {
		name      string
		env       map[string]string
		providers []string
		errs      []string // variables named in the error
	}{
		{name: "nothing", env: map[string]string{}},
		{name: "google", env: map[string]string{"HEARTH_OAUTH2_GOOGLE_CLIENT_ID": "g", "HEARTH_OAUTH2_GOOGLE_CLIENT_SECRET": "s"}, providers: []string{"google"}},
		{name: "google without secret", env: map[string]string{"HEARTH_OAUTH2_GOOGLE_CLIENT_ID": "g"}, errs: []string{"HEARTH_OAUTH2_GOOGLE_CLIENT_SECRET"}},
		{name: "secret without id", env: map[string]string{"HEARTH_OAUTH2_GOOGLE_CLIENT_SECRET": "s"}, errs: []string{"HEARTH_OAUTH2_GOOGLE_CLIENT_ID"}},
		{name: "oidc by issuer", env: map[string]string{"HEARTH_OAUTH2_OIDC_CLIENT_ID": "o", "HEARTH_OAUTH2_OIDC_CLIENT_SECRET": "s", "HEARTH_OAUTH2_OIDC_ISSUER": "https://id.example.com"}, providers: []string{"oidc"}},
		{name: "oidc by urls", env: map[string]string{"HEARTH_OAUTH2_OIDC_CLIENT_ID": "o", "HEARTH_OAUTH2_OIDC_CLIENT_SECRET": "s",
			"HEARTH_OAUTH2_OIDC_AUTH_URL": "https://id.example.com/a", "HEARTH_OAUTH2_OIDC_TOKEN_URL": "https://id.example.com/t", "HEARTH_OAUTH2_OIDC_USERINFO_URL": "https://id.example.com/u"}, providers: []string{"oidc"}},
		{name: "oidc without issuer", env: map[string]string{"HEARTH_OAUTH2_OIDC_CLIENT_ID": "o", "HEARTH_OAUTH2_OIDC_CLIENT_SECRET": "s", "HEARTH_OAUTH2_OIDC_AUTH_URL": "https://id.example.com/a"}, errs: []string{"HEARTH_OAUTH2_OIDC_ISSUER"}},
		{name: "oidc bad issuer", env: map[string]string{"HEARTH_OAUTH2_OIDC_CLIENT_ID": "o", "HEARTH_OAUTH2_OIDC_CLIENT_SECRET": "s", "HEARTH_OAUTH2_OIDC_ISSUER": "id.example.com"}, errs: []string{"HEARTH_OAUTH2_OIDC_ISSUER"}},
		{name: "issuer on google", env: map[string]string{"HEARTH_OAUTH2_GOOGLE_CLIENT_ID": "g", "HEARTH_OAUTH2_GOOGLE_CLIENT_SECRET": "s", "HEARTH_OAUTH2_GOOGLE_ISSUER": "https://accounts.google.com"}, errs: []string{"HEARTH_OAUTH2_GOOGLE_ISSUER"}},
		{name: "apple with key", env: appleEnv(file), providers: []string{"apple"}},
		{name: "apple with pasted secret", env: map[string]string{"HEARTH_OAUTH2_APPLE_CLIENT_ID": "a", "HEARTH_OAUTH2_APPLE_CLIENT_SECRET": "jwt"}, providers: []string{"apple"}},
		{name: "apple with neither", env: map[string]string{"HEARTH_OAUTH2_APPLE_CLIENT_ID": "a"}, errs: []string{"HEARTH_OAUTH2_APPLE_CLIENT_SECRET"}},
		{name: "apple with both", env: func() map[string]string {
			e := appleEnv(file)
			e["HEARTH_OAUTH2_APPLE_CLIENT_SECRET"] = "jwt"
			return e
		}(), errs: []string{"HEARTH_OAUTH2_APPLE_CLIENT_SECRET"}},
		{name: "apple key half set", env: map[string]string{"HEARTH_OAUTH2_APPLE_CLIENT_ID": "a", "HEARTH_APPLE_TEAM_ID": "T"}, errs: []string{"HEARTH_APPLE_KEY_ID", "HEARTH_APPLE_PRIVATE_KEY_FILE"}},
		{name: "apple key without client", env: map[string]string{"HEARTH_APPLE_TEAM_ID": "T", "HEARTH_APPLE_KEY_ID": "K", "HEARTH_APPLE_PRIVATE_KEY_FILE": file}, errs: []string{"HEARTH_OAUTH2_APPLE_CLIENT_ID"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			cfg, err := auth.FromEnv(getenv(c.env))
			if len(c.errs) == 0 && err != nil {
				t.Fatalf("unexpected error: %v", err)
			}
			for _, v := range c.errs {
				if err == nil || !strings.Contains(err.Error(), v+":") {
					t.Errorf("error %v does not name %s", err, v)
				}
			}
			if err != nil {
				for _, secret := range []string{"jwt", "\"s\""} {
					if strings.Contains(err.Error(), secret) {
						t.Errorf("error shows a secret: %v", err)
					}
				}
				return
			}
			var names []string
			for _, p := range cfg.Providers {
				names = append(names, p.Name)
			}
			if strings.Join(names, ",") != strings.Join(c.providers, ",") {
				t.Fatalf("providers %v, want %v", names, c.providers)
			}
		})
	}
}
