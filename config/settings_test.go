package config_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/crews/hearth/config"
	"github.com/crews/hearth/internal/hearthtest"
	"github.com/pocketbase/pocketbase/core"
)

func env(m map[string]string) func(string) string {
	return func(name string) string { return m[name] }
}

// applyEnv declares vars as the environment, applies the settings they set
// to app, and returns the settings as stored, not the in-memory copy.
func applyEnv(t *testing.T, app core.App, vars map[string]string) *core.Settings {
	t.Helper()
	cfg, err := config.FromEnv(env(vars))
	if err != nil {
		t.Fatal(err)
	}
	if err := config.ApplySettings(app, cfg.Settings); err != nil {
		t.Fatal(err)
	}
	if err := app.ReloadSettings(); err != nil {
		t.Fatal(err)
	}
	return app.Settings()
}

const secret = "s3cr3t-value-never-logged"

var fullEnv = map[string]string{
	"HEARTH_APP_NAME":                      "Crews",
	"HEARTH_APP_URL":                       "https://api.crews.test",
	"HEARTH_SENDER_NAME":                   "Crews team",
	"HEARTH_SENDER_ADDRESS":                "hello@crews.test",
	"HEARTH_SMTP_HOST":                     "smtp.crews.test",
	"HEARTH_SMTP_PORT":                     "2525",
	"HEARTH_SMTP_USERNAME":                 "mailer",
	"HEARTH_SMTP_PASSWORD":                 secret,
	"HEARTH_SMTP_TLS":                      "true",
	"HEARTH_SMTP_AUTH_METHOD":              "LOGIN",
	"HEARTH_S3_BUCKET":                     "files",
	"HEARTH_S3_ENDPOINT":                   "http://127.0.0.1:9000",
	"HEARTH_S3_REGION":                     "us-east-1",
	"HEARTH_S3_ACCESS_KEY":                 "hearth",
	"HEARTH_S3_SECRET":                     secret,
	"HEARTH_S3_FORCE_PATH_STYLE":           "true",
	"HEARTH_BACKUPS_CRON":                  "0 3 * * *",
	"HEARTH_BACKUPS_KEEP":                  "7",
	"HEARTH_BACKUPS_S3_BUCKET":             "backups",
	"HEARTH_TRUSTED_PROXY_HEADERS":         "X-Forwarded-For, X-Real-IP",
	"HEARTH_TRUSTED_PROXY_USE_LEFTMOST_IP": "true",
}

func TestSettingsFromEnvAppliedAndStored(t *testing.T) {
	app := hearthtest.NewApp(t)
	s := applyEnv(t, app, fullEnv)
	cfg, err := config.FromEnv(env(fullEnv))
	if err != nil {
		t.Fatal(err)
	}

	checks := []struct {
		name      string
		got, want any
	}{
		{"app name", s.Meta.AppName, "Crews"},
		{"app url", s.Meta.AppURL, "https://api.crews.test"},
		{"sender name", s.Meta.SenderName, "Crews team"},
		{"sender address", s.Meta.SenderAddress, "hello@crews.test"},
		{"smtp enabled", s.SMTP.Enabled, true},
		{"smtp host", s.SMTP.Host, "smtp.crews.test"},
		{"smtp port", s.SMTP.Port, 2525},
		{"smtp user", s.SMTP.Username, "mailer"},
		{"smtp password", s.SMTP.Password, secret},
		{"smtp tls", s.SMTP.TLS, true},
		{"smtp auth", s.SMTP.AuthMethod, "LOGIN"},
		{"s3", s.S3, core.S3Config{Enabled: true, Bucket: "files", Endpoint: "http://127.0.0.1:9000", Region: "us-east-1", AccessKey: "hearth", Secret: secret, ForcePathStyle: true}},
		{"backups cron", s.Backups.Cron, "0 3 * * *"},
		{"backups keep", s.Backups.CronMaxKeep, 7},
		// Unset HEARTH_BACKUPS_S3_* fall back to their HEARTH_S3_* twins.
		{"backups s3", s.Backups.S3, core.S3Config{Enabled: true, Bucket: "backups", Endpoint: "http://127.0.0.1:9000", Region: "us-east-1", AccessKey: "hearth", Secret: secret, ForcePathStyle: true}},
		{"proxy headers", strings.Join(s.TrustedProxy.Headers, "|"), "X-Forwarded-For|X-Real-IP"},
		{"proxy leftmost", s.TrustedProxy.UseLeftmostIP, true},
		{"rate limits on outside dev", s.RateLimits.Enabled, true},
		{"rate limit rules", len(s.RateLimits.Rules), len(config.DefaultRateLimitRules())},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %v, want %v", c.name, c.got, c.want)
		}
	}

	for _, v := range cfg.Settings.Vars() {
		if strings.Contains(v, secret) {
			t.Errorf("Vars() leaks a secret: %q", v)
		}
	}
	if !slices.Contains(cfg.Settings.Vars(), "HEARTH_SMTP_PASSWORD") {
		t.Errorf("Vars() = %v, misses HEARTH_SMTP_PASSWORD", cfg.Settings.Vars())
	}
}

func TestUnsetVariablesLeaveStoredSettingsAlone(t *testing.T) {
	app := hearthtest.NewApp(t)
	stored, err := app.Settings().Clone()
	if err != nil {
		t.Fatal(err)
	}
	stored.Meta.AppName = "Set in the dashboard"
	stored.SMTP.Host = "dashboard.smtp.test"
	stored.RateLimits.Rules = []core.RateLimitRule{{Label: "/api/", MaxRequests: 5, Duration: 1}}
	if err := app.Save(stored); err != nil {
		t.Fatal(err)
	}

	s := applyEnv(t, app, map[string]string{"HEARTH_APP_URL": "https://crews.test"})
	if s.Meta.AppURL != "https://crews.test" {
		t.Errorf("app url = %q", s.Meta.AppURL)
	}
	if s.Meta.AppName != "Set in the dashboard" || s.SMTP.Host != "dashboard.smtp.test" || s.S3.Enabled {
		t.Errorf("undeclared settings changed: name %q, smtp %q, s3 %v", s.Meta.AppName, s.SMTP.Host, s.S3.Enabled)
	}
	// Rate limiting is turned on, keeping the stored rules.
	if !s.RateLimits.Enabled || len(s.RateLimits.Rules) != 1 || s.RateLimits.Rules[0].MaxRequests != 5 {
		t.Errorf("rate limits = %+v, want enabled with the stored rule", s.RateLimits)
	}
}

func TestRateLimitsDefault(t *testing.T) {
	cases := []struct {
		name  string
		env   map[string]string
		start bool // stored value before start
		want  bool
	}{
		{"on outside dev mode", map[string]string{}, false, true},
		{"dev mode keeps the stored value (off)", map[string]string{"HEARTH_DEV": "true"}, false, false},
		{"dev mode keeps the stored value (on)", map[string]string{"HEARTH_DEV": "true"}, true, true},
		{"explicitly off", map[string]string{"HEARTH_RATE_LIMITS": "false"}, true, false},
		{"explicitly on in dev", map[string]string{"HEARTH_DEV": "1", "HEARTH_RATE_LIMITS": "true"}, false, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			app := hearthtest.NewApp(t)
			app.Settings().RateLimits.Enabled = c.start
			cfg, err := config.FromEnv(env(c.env))
			if err != nil {
				t.Fatal(err)
			}
			if err := config.ApplySettings(app, cfg.Settings); err != nil {
				t.Fatal(err)
			}
			if got := app.Settings().RateLimits.Enabled; got != c.want {
				t.Errorf("rate limits enabled = %v, want %v", got, c.want)
			}
		})
	}
}

func TestLogSettings(t *testing.T) {
	for _, c := range []struct {
		env      map[string]string
		maxDays  int
		minLevel int
	}{
		{map[string]string{}, 3, 0},
		{map[string]string{"HEARTH_LOG_RETENTION": "7d"}, 7, 0},
		{map[string]string{"HEARTH_LOG_RETENTION": "48h", "HEARTH_LOG_LEVEL": "warn"}, 2, 4},
		{map[string]string{"HEARTH_LOG_LEVEL": "DEBUG"}, 3, -4},
		{map[string]string{"HEARTH_LOG_LEVEL": "error"}, 3, 8},
	} {
		app := hearthtest.NewApp(t)
		s := applyEnv(t, app, c.env)
		if s.Logs.MaxDays != c.maxDays || s.Logs.MinLevel != c.minLevel {
			t.Errorf("%v: logs kept %d days from level %d; want %d days from %d", c.env, s.Logs.MaxDays, s.Logs.MinLevel, c.maxDays, c.minLevel)
		}
	}
}

func TestBadSettingsFailNamingTheVariable(t *testing.T) {
	cases := map[string]map[string]string{
		"HEARTH_SMTP_PORT":                     {"HEARTH_SMTP_PORT": "smtp"},
		"HEARTH_SMTP_TLS":                      {"HEARTH_SMTP_TLS": "yes please"},
		"HEARTH_SMTP_AUTH_METHOD":              {"HEARTH_SMTP_AUTH_METHOD": "CRAM-MD5"},
		"HEARTH_APP_URL":                       {"HEARTH_APP_URL": "crews.test"},
		"HEARTH_SENDER_ADDRESS":                {"HEARTH_SENDER_ADDRESS": "nobody"},
		"HEARTH_BACKUPS_CRON":                  {"HEARTH_BACKUPS_CRON": "every night"},
		"HEARTH_BACKUPS_KEEP":                  {"HEARTH_BACKUPS_KEEP": "0"},
		"HEARTH_RATE_LIMITS":                   {"HEARTH_RATE_LIMITS": "sometimes"},
		"HEARTH_S3_SECRET":                     {"HEARTH_S3_BUCKET": "b", "HEARTH_S3_ENDPOINT": "http://s3.test", "HEARTH_S3_REGION": "r", "HEARTH_S3_ACCESS_KEY": "k"},
		"HEARTH_S3_ENDPOINT":                   {"HEARTH_S3_BUCKET": "b", "HEARTH_S3_ENDPOINT": "s3.test", "HEARTH_S3_REGION": "r", "HEARTH_S3_ACCESS_KEY": "k", "HEARTH_S3_SECRET": "s"},
		"HEARTH_S3_FORCE_PATH_STYLE":           {"HEARTH_S3_BUCKET": "b", "HEARTH_S3_ENDPOINT": "http://s3.test", "HEARTH_S3_REGION": "r", "HEARTH_S3_ACCESS_KEY": "k", "HEARTH_S3_SECRET": "s", "HEARTH_S3_FORCE_PATH_STYLE": "maybe"},
		"HEARTH_S3_REGION":                     {"HEARTH_S3_REGION": "r"},
		"HEARTH_BACKUPS_S3_ACCESS_KEY":         {"HEARTH_BACKUPS_S3_BUCKET": "b", "HEARTH_BACKUPS_S3_ENDPOINT": "http://s3.test", "HEARTH_BACKUPS_S3_REGION": "r", "HEARTH_BACKUPS_S3_SECRET": "s"},
		"HEARTH_BACKUPS_S3_FORCE_PATH_STYLE":   {"HEARTH_BACKUPS_S3_FORCE_PATH_STYLE": "true"},
		"HEARTH_TRUSTED_PROXY_USE_LEFTMOST_IP": {"HEARTH_TRUSTED_PROXY_USE_LEFTMOST_IP": "left"},
		"HEARTH_LOG_RETENTION":                 {"HEARTH_LOG_RETENTION": "36h"},
		"HEARTH_LOG_LEVEL":                     {"HEARTH_LOG_LEVEL": "verbose"},
	}
	for name, vars := range cases {
		_, err := config.FromEnv(env(vars))
		if err == nil || !strings.Contains(err.Error(), name+":") {
			t.Errorf("%v: error %v does not name %s", vars, err, name)
		}
		if err != nil && strings.Contains(err.Error(), `"s"`) {
			t.Errorf("%v: error %v shows a secret", vars, err)
		}
	}
}

// A value only PocketBase's validation catches stops the start, naming the
// declared variables and none of the secrets.
func TestApplySettingsRejectedByPocketBase(t *testing.T) {
	app := hearthtest.NewApp(t)
	cfg, err := config.FromEnv(env(map[string]string{
		"HEARTH_SMTP_HOST":     "not a host name",
		"HEARTH_SMTP_PASSWORD": secret,
	}))
	if err != nil {
		t.Fatal(err)
	}
	err = config.ApplySettings(app, cfg.Settings)
	if err == nil || !strings.Contains(err.Error(), "HEARTH_SMTP_HOST") {
		t.Fatalf("ApplySettings = %v, want an error naming HEARTH_SMTP_HOST", err)
	}
	if strings.Contains(err.Error(), secret) {
		t.Errorf("error shows the SMTP password: %v", err)
	}
	if app.Settings().SMTP.Enabled {
		t.Error("rejected settings were kept in memory")
	}
}
