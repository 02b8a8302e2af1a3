// Package config reads Hearth's deploy-time settings from HEARTH_* environment
// variables, twelve-factor style. Flags given on the command line win over the
// environment; the environment wins over the built-in defaults.
//
// Usage:
//
//	cfg, err := config.FromEnv(os.Getenv)
//	if err != nil {
//		log.Fatal(err) // names the variable at fault
//	}
//	app := pocketbase.NewWithConfig(cfg.PocketBase())
//	config.Register(app, cfg)
package config

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/crews/hearth/auth"
	"github.com/crews/hearth/links"
	"github.com/crews/hearth/logs"
	"github.com/crews/hearth/metrics"
	"github.com/crews/hearth/replica"
	"github.com/pocketbase/pocketbase"
)

// Config holds the settings a deploy needs before the database is open.
type Config struct {
	// DataDir is where SQLite files and uploads live (HEARTH_DATA_DIR, --dir).
	DataDir string
	// HTTPAddr is the serve command's listen address (HEARTH_HTTP, serve --http).
	HTTPAddr string
	// Dev turns on SQL logging, verbose errors, automigrate and hook reloads (HEARTH_DEV, --dev).
	Dev bool
	// HooksDir holds the JS hooks (HEARTH_HOOKS_DIR; there is no flag).
	HooksDir string
	// SuperuserEmail and SuperuserPassword, when both are set, create or
	// update that superuser at every start, so a fresh deploy needs no browser step.
	SuperuserEmail    string
	SuperuserPassword string
	// SyncRetention is how long /api/sync keeps deletions in its change log
	// (HEARTH_SYNC_RETENTION, a Go duration such as 720h, or days such as
	// 30d); zero means the feed's default of 30 days.
	SyncRetention time.Duration
	// PushURL is the Expo push API to send through (HEARTH_PUSH_URL, an
	// http(s) base URL; default DefaultPushURL, or "" in dev mode, where
	// pushes are logged instead of sent).
	PushURL string
	// PushAccessToken is Expo's access token for enhanced push security
	// (HEARTH_PUSH_ACCESS_TOKEN); never logged.
	PushAccessToken string
	// PushWindow is the coalescing window of message pushes
	// (HEARTH_PUSH_WINDOW, a positive Go duration); zero means push's
	// default of 60 s.
	PushWindow time.Duration
	// PushRetention is how long finished pushes stay in the outbox
	// (HEARTH_PUSH_RETENTION, like HEARTH_SYNC_RETENTION, at least 2h);
	// zero means push's default of 7 days.
	PushRetention time.Duration
	// Replica is the continuous replication of data.db (HEARTH_REPLICA_URL,
	// HEARTH_REPLICA_SYNC_INTERVAL, HEARTH_RESTORE_ON_START, and the
	// HEARTH_S3_* connection for an s3:// URL); operations.go.
	Replica replica.Config
	// Metrics is where the Prometheus metrics are served (HEARTH_METRICS_ADDR).
	Metrics metrics.Config
	// Log is which request log entries are kept and how log lines are
	// written to standard output (HEARTH_LOG_FORMAT,
	// HEARTH_LOG_SLOW_REQUEST, HEARTH_LOG_REQUEST_SAMPLE).
	Log logs.Config
	// Settings are the dashboard settings declared in HEARTH_* variables
	// (settings.go), saved over the stored ones at every start.
	Settings Settings
	// Links are the invite links' settings (HEARTH_IOS_APP_ID,
	// HEARTH_ANDROID_PACKAGE, HEARTH_ANDROID_CERT_SHA256,
	// HEARTH_APP_SCHEME); links.go.
	Links links.Config
	// Auth is how people sign in: OAuth2 providers (HEARTH_OAUTH2_*) and
	// Apple's key (HEARTH_APPLE_*); see package auth.
	Auth auth.Config
}

// Defaults are relative to the working directory, so `hearth serve` run from
// the repository root uses ./pb_data and ./pb_hooks whatever the binary's path.
const (
	DefaultDataDir  = "pb_data"
	DefaultHTTPAddr = "127.0.0.1:8090"
	DefaultHooksDir = "pb_hooks"
)

// DefaultPushURL is Expo's push service.
const DefaultPushURL = "https://exp.host"

// minPushRetention keeps a reminder's outbox row past the hour in which
// the reminder job could schedule it again (push.MinRetention).
const minPushRetention = 2 * time.Hour

// minPasswordLength matches PocketBase's own minimum for superusers.
const minPasswordLength = 10

// FromEnv builds a Config from getenv (os.Getenv in production, a map in
// tests). Every bad value is reported, each naming its variable.
func FromEnv(getenv func(string) string) (Config, error) {
	cfg := Config{
		DataDir:           envOr(getenv, "HEARTH_DATA_DIR", DefaultDataDir),
		HTTPAddr:          envOr(getenv, "HEARTH_HTTP", DefaultHTTPAddr),
		HooksDir:          envOr(getenv, "HEARTH_HOOKS_DIR", DefaultHooksDir),
		SuperuserEmail:    strings.TrimSpace(getenv("HEARTH_SUPERUSER_EMAIL")),
		SuperuserPassword: getenv("HEARTH_SUPERUSER_PASSWORD"),
	}

	var errs []error
	if v := strings.TrimSpace(getenv("HEARTH_DEV")); v != "" {
		dev, err := strconv.ParseBool(v)
		if err != nil {
			errs = append(errs, fmt.Errorf("HEARTH_DEV: %q is not a boolean (use true or false)", v))
		}
		cfg.Dev = dev
	}
	if v := strings.TrimSpace(getenv("HEARTH_SYNC_RETENTION")); v != "" {
		d, err := parseRetention(v)
		if err != nil {
			errs = append(errs, fmt.Errorf("HEARTH_SYNC_RETENTION: %w", err))
		}
		cfg.SyncRetention = d
	}
	errs = append(errs, cfg.readPush(getenv)...)
	errs = append(errs, cfg.readLinks(getenv)...)
	settings, err := SettingsFromEnv(getenv, cfg.Dev)
	cfg.Settings = settings
	errs = append(errs, err)
	if _, port, err := net.SplitHostPort(cfg.HTTPAddr); err != nil {
		errs = append(errs, fmt.Errorf("HEARTH_HTTP: %q is not a host:port address: %w", cfg.HTTPAddr, err))
	} else if n, err := strconv.Atoi(port); err != nil || n < 0 || n > 65535 {
		errs = append(errs, fmt.Errorf("HEARTH_HTTP: port %q is not a number from 0 to 65535", port))
	}
	errs = append(errs, cfg.operations(getenv)...)
	authCfg, err := auth.FromEnv(getenv)
	cfg.Auth = authCfg
	errs = append(errs, err)
	switch {
	case cfg.SuperuserEmail == "" && cfg.SuperuserPassword == "":
	case cfg.SuperuserEmail == "":
		errs = append(errs, errors.New("HEARTH_SUPERUSER_EMAIL: must be set when HEARTH_SUPERUSER_PASSWORD is"))
	case cfg.SuperuserPassword == "":
		errs = append(errs, errors.New("HEARTH_SUPERUSER_PASSWORD: must be set when HEARTH_SUPERUSER_EMAIL is"))
	default:
		if !strings.Contains(cfg.SuperuserEmail, "@") {
			errs = append(errs, fmt.Errorf("HEARTH_SUPERUSER_EMAIL: %q is not an email address", cfg.SuperuserEmail))
		}
		if len(cfg.SuperuserPassword) < minPasswordLength {
			errs = append(errs, fmt.Errorf("HEARTH_SUPERUSER_PASSWORD: must be at least %d characters", minPasswordLength))
		}
	}
	return cfg, errors.Join(errs...)
}

// readPush reads the HEARTH_PUSH_* variables; cfg.Dev must be read first.
func (cfg *Config) readPush(getenv func(string) string) []error {
	var errs []error
	cfg.PushURL = strings.TrimSpace(getenv("HEARTH_PUSH_URL"))
	switch {
	case cfg.PushURL == "" && !cfg.Dev:
		cfg.PushURL = DefaultPushURL
	case cfg.PushURL != "":
		u, err := url.Parse(cfg.PushURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
			errs = append(errs, fmt.Errorf("HEARTH_PUSH_URL: %q is not an http(s) base URL such as https://exp.host", cfg.PushURL))
		}
	}
	cfg.PushAccessToken = strings.TrimSpace(getenv("HEARTH_PUSH_ACCESS_TOKEN"))
	if v := strings.TrimSpace(getenv("HEARTH_PUSH_WINDOW")); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 {
			errs = append(errs, fmt.Errorf("HEARTH_PUSH_WINDOW: %q is not a positive duration (e.g. 60s or 2m)", v))
		}
		cfg.PushWindow = d
	}
	if v := strings.TrimSpace(getenv("HEARTH_PUSH_RETENTION")); v != "" {
		d, err := parseRetention(v)
		switch {
		case err != nil:
			errs = append(errs, fmt.Errorf("HEARTH_PUSH_RETENTION: %w", err))
		case d < minPushRetention:
			errs = append(errs, fmt.Errorf("HEARTH_PUSH_RETENTION: %q is shorter than %s, the least that keeps a reminder from being sent twice", v, minPushRetention))
		}
		cfg.PushRetention = d
	}
	return errs
}

// PocketBase returns the PocketBase settings that follow from cfg; its flags
// (--dir, --dev) still override them. Databases open with DBConnect.
func (cfg Config) PocketBase() pocketbase.Config {
	return pocketbase.Config{DefaultDataDir: cfg.DataDir, DefaultDev: cfg.Dev, DBConnect: DBConnect}
}

// parseRetention reads a positive Go duration ("720h") or a whole number
// of days ("30d"), the unit retention windows are usually thought in.
func parseRetention(v string) (time.Duration, error) {
	if days, ok := strings.CutSuffix(v, "d"); ok {
		n, err := strconv.Atoi(days)
		if err != nil || n < 1 {
			return 0, fmt.Errorf("%q is not a positive number of days", v)
		}
		return time.Duration(n) * 24 * time.Hour, nil
	}
	d, err := time.ParseDuration(v)
	if err != nil || d <= 0 {
		return 0, fmt.Errorf("%q is not a positive duration (e.g. 720h or 30d)", v)
	}
	return d, nil
}

func envOr(getenv func(string) string, name, fallback string) string {
	if v := strings.TrimSpace(getenv(name)); v != "" {
		return v
	}
	return fallback
}
