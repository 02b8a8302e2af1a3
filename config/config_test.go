package config_test

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/crews/hearth/config"
)

// envCase is one row of TestFromEnv: an environment, and either the change
// it makes to the defaults or the variables its error must name. A new
// HEARTH_* setting adds rows here; rows compare only the fields they change,
// so existing rows keep passing when Config grows.
type envCase struct {
	name string
	env  map[string]string
	// want edits the default Config into the expected one (nil: defaults).
	want func(*config.Config)
	// errs, when set, are the variable names the error must mention.
	errs []string
}

var envCases = []envCase{
	{name: "empty environment gives the defaults", env: map[string]string{}},

	{name: "HEARTH_DATA_DIR", env: map[string]string{"HEARTH_DATA_DIR": "/srv/hearth/data"},
		want: func(c *config.Config) { c.DataDir = "/srv/hearth/data" }},
	{name: "HEARTH_DATA_DIR is trimmed", env: map[string]string{"HEARTH_DATA_DIR": "  data \n"},
		want: func(c *config.Config) { c.DataDir = "data" }},
	{name: "blank HEARTH_DATA_DIR is unset", env: map[string]string{"HEARTH_DATA_DIR": "   "}},

	{name: "HEARTH_HTTP", env: map[string]string{"HEARTH_HTTP": "0.0.0.0:8080"},
		want: func(c *config.Config) { c.HTTPAddr = "0.0.0.0:8080" }},
	{name: "HEARTH_HTTP without host", env: map[string]string{"HEARTH_HTTP": ":80"},
		want: func(c *config.Config) { c.HTTPAddr = ":80" }},
	{name: "HEARTH_HTTP IPv6", env: map[string]string{"HEARTH_HTTP": "[::1]:9000"},
		want: func(c *config.Config) { c.HTTPAddr = "[::1]:9000" }},
	{name: "HEARTH_HTTP not an address", env: map[string]string{"HEARTH_HTTP": "nope"}, errs: []string{"HEARTH_HTTP"}},
	{name: "HEARTH_HTTP without port", env: map[string]string{"HEARTH_HTTP": "127.0.0.1"}, errs: []string{"HEARTH_HTTP"}},
	{name: "HEARTH_HTTP port too large", env: map[string]string{"HEARTH_HTTP": "127.0.0.1:65536"}, errs: []string{"HEARTH_HTTP"}},
	{name: "HEARTH_HTTP port not a number", env: map[string]string{"HEARTH_HTTP": "127.0.0.1:http"}, errs: []string{"HEARTH_HTTP"}},

	// Dev mode also logs pushes instead of sending them, unless a push URL is set.
	{name: "HEARTH_DEV true", env: map[string]string{"HEARTH_DEV": "true"},
		want: func(c *config.Config) { c.Dev, c.PushURL = true, "" }},
	{name: "HEARTH_DEV 1", env: map[string]string{"HEARTH_DEV": "1"},
		want: func(c *config.Config) { c.Dev, c.PushURL = true, "" }},
	{name: "HEARTH_DEV false", env: map[string]string{"HEARTH_DEV": "false"}},
	{name: "HEARTH_DEV maybe", env: map[string]string{"HEARTH_DEV": "maybe"}, errs: []string{"HEARTH_DEV"}},
	{name: "HEARTH_DEV yes", env: map[string]string{"HEARTH_DEV": "yes"}, errs: []string{"HEARTH_DEV"}},

	{name: "HEARTH_HOOKS_DIR", env: map[string]string{"HEARTH_HOOKS_DIR": "/srv/hearth/hooks"},
		want: func(c *config.Config) { c.HooksDir = "/srv/hearth/hooks" }},

	{name: "superuser email and password",
		env: map[string]string{"HEARTH_SUPERUSER_EMAIL": " root@example.com ", "HEARTH_SUPERUSER_PASSWORD": "0123456789"},
		want: func(c *config.Config) {
			c.SuperuserEmail, c.SuperuserPassword = "root@example.com", "0123456789"
		}},
	{name: "password is not trimmed: spaces are characters",
		env: map[string]string{"HEARTH_SUPERUSER_EMAIL": "root@example.com", "HEARTH_SUPERUSER_PASSWORD": " 123456789 "},
		want: func(c *config.Config) {
			c.SuperuserEmail, c.SuperuserPassword = "root@example.com", " 123456789 "
		}},
	{name: "superuser email without password", env: map[string]string{"HEARTH_SUPERUSER_EMAIL": "root@example.com"},
		errs: []string{"HEARTH_SUPERUSER_PASSWORD"}},
	{name: "superuser password without email", env: map[string]string{"HEARTH_SUPERUSER_PASSWORD": "0123456789"},
		errs: []string{"HEARTH_SUPERUSER_EMAIL"}},
	{name: "superuser password too short",
		env:  map[string]string{"HEARTH_SUPERUSER_EMAIL": "root@example.com", "HEARTH_SUPERUSER_PASSWORD": "012345678"},
		errs: []string{"HEARTH_SUPERUSER_PASSWORD"}},
	{name: "superuser email not an email",
		env:  map[string]string{"HEARTH_SUPERUSER_EMAIL": "root", "HEARTH_SUPERUSER_PASSWORD": "0123456789"},
		errs: []string{"HEARTH_SUPERUSER_EMAIL"}},

	{name: "HEARTH_PUSH_URL", env: map[string]string{"HEARTH_PUSH_URL": " http://127.0.0.1:9999/expo "},
		want: func(c *config.Config) { c.PushURL = "http://127.0.0.1:9999/expo" }},
	{name: "HEARTH_PUSH_URL in dev mode is sent to", env: map[string]string{"HEARTH_DEV": "true", "HEARTH_PUSH_URL": "https://exp.host"},
		want: func(c *config.Config) { c.Dev, c.PushURL = true, "https://exp.host" }},
	{name: "HEARTH_PUSH_URL not http", env: map[string]string{"HEARTH_PUSH_URL": "ftp://exp.host"}, errs: []string{"HEARTH_PUSH_URL"}},
	{name: "HEARTH_PUSH_URL without host", env: map[string]string{"HEARTH_PUSH_URL": "https://"}, errs: []string{"HEARTH_PUSH_URL"}},
	{name: "HEARTH_PUSH_URL not a URL", env: map[string]string{"HEARTH_PUSH_URL": "exp.host"}, errs: []string{"HEARTH_PUSH_URL"}},
	{name: "HEARTH_PUSH_URL with a query", env: map[string]string{"HEARTH_PUSH_URL": "https://exp.host/?x=1"}, errs: []string{"HEARTH_PUSH_URL"}},
	{name: "HEARTH_PUSH_ACCESS_TOKEN", env: map[string]string{"HEARTH_PUSH_ACCESS_TOKEN": " expo-token "},
		want: func(c *config.Config) { c.PushAccessToken = "expo-token" }},
	{name: "HEARTH_PUSH_WINDOW", env: map[string]string{"HEARTH_PUSH_WINDOW": "2m"},
		want: func(c *config.Config) { c.PushWindow = 2 * time.Minute }},
	{name: "HEARTH_PUSH_WINDOW zero", env: map[string]string{"HEARTH_PUSH_WINDOW": "0s"}, errs: []string{"HEARTH_PUSH_WINDOW"}},
	{name: "HEARTH_PUSH_WINDOW negative", env: map[string]string{"HEARTH_PUSH_WINDOW": "-1m"}, errs: []string{"HEARTH_PUSH_WINDOW"}},
	{name: "HEARTH_PUSH_WINDOW without unit", env: map[string]string{"HEARTH_PUSH_WINDOW": "60"}, errs: []string{"HEARTH_PUSH_WINDOW"}},
	{name: "HEARTH_PUSH_RETENTION days", env: map[string]string{"HEARTH_PUSH_RETENTION": "3d"},
		want: func(c *config.Config) { c.PushRetention = 3 * 24 * time.Hour }},
	{name: "HEARTH_PUSH_RETENTION duration", env: map[string]string{"HEARTH_PUSH_RETENTION": "2h"},
		want: func(c *config.Config) { c.PushRetention = 2 * time.Hour }},
	{name: "HEARTH_PUSH_RETENTION below two hours", env: map[string]string{"HEARTH_PUSH_RETENTION": "90m"}, errs: []string{"HEARTH_PUSH_RETENTION"}},
	{name: "HEARTH_PUSH_RETENTION not a duration", env: map[string]string{"HEARTH_PUSH_RETENTION": "week"}, errs: []string{"HEARTH_PUSH_RETENTION"}},

	{name: "every bad value is reported at once",
		env:  map[string]string{"HEARTH_DEV": "maybe", "HEARTH_HTTP": "nope", "HEARTH_SUPERUSER_EMAIL": "root@example.com"},
		errs: []string{"HEARTH_DEV", "HEARTH_HTTP", "HEARTH_SUPERUSER_PASSWORD"}},
}

func TestFromEnv(t *testing.T) {
	defaults, err := config.FromEnv(func(string) string { return "" })
	if err != nil {
		t.Fatalf("defaults: %v", err)
	}
	for _, tc := range envCases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := config.FromEnv(func(name string) string { return tc.env[name] })
			if len(tc.errs) > 0 {
				if err == nil {
					t.Fatalf("no error for %v", tc.env)
				}
				for _, name := range tc.errs {
					if !strings.Contains(err.Error(), name+":") {
						t.Errorf("error %q does not name %s", err, name)
					}
				}
				for name := range tc.env {
					if strings.HasSuffix(name, "PASSWORD") && tc.env[name] != "" && strings.Contains(err.Error(), tc.env[name]) {
						t.Errorf("error %q repeats the password", err)
					}
				}
				return
			}
			if err != nil {
				t.Fatalf("unexpected error: %v", err)
			}
			want := defaults
			if tc.want != nil {
				tc.want(&want)
			}
			// Declared dashboard settings hold functions, which DeepEqual
			// cannot compare; settings_test.go checks them by their effect.
			got.Settings, want.Settings = config.Settings{}, config.Settings{}
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("got  %+v\nwant %+v", got, want)
			}
		})
	}
}

func TestDefaults(t *testing.T) {
	cfg, err := config.FromEnv(func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	if cfg.DataDir != config.DefaultDataDir || cfg.HTTPAddr != config.DefaultHTTPAddr || cfg.HooksDir != config.DefaultHooksDir || cfg.Dev {
		t.Fatalf("defaults: %+v", cfg)
	}
	if cfg.DataDir != "pb_data" || cfg.HTTPAddr != "127.0.0.1:8090" {
		t.Fatalf("the README promises ./pb_data and 127.0.0.1:8090, got %s and %s", cfg.DataDir, cfg.HTTPAddr)
	}
	if cfg.PushURL != "https://exp.host" {
		t.Fatalf("outside dev mode pushes go to Expo's service, got %q", cfg.PushURL)
	}
}

func TestPocketBaseConfig(t *testing.T) {
	cfg := config.Config{DataDir: "/srv/data", Dev: true}
	pb := cfg.PocketBase()
	if pb.DefaultDataDir != "/srv/data" || !pb.DefaultDev {
		t.Fatalf("PocketBase() = %+v", pb)
	}
}
