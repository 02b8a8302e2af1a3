package config

import (
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tools/cron"
	"github.com/pocketbase/pocketbase/tools/mailer"
)

// Settings is the declarative part of PocketBase's stored settings (the
// dashboard's Settings pages): what a deploy declares in HEARTH_* variables
// instead of clicking. Each set variable overrides one stored value at every
// start; an unset variable leaves the stored value alone, so dashboard edits
// of undeclared values survive restarts.
//
// The one default is rate limiting: on outside dev mode unless
// HEARTH_RATE_LIMITS=false, because an API on the internet without it is a
// password-guessing target.
type Settings struct {
	changes []change
}

type change struct {
	env   string
	apply func(*core.Settings)
}

// Vars lists the variables that Apply will set, for the start-up log; values
// are never logged, secrets included.
func (s Settings) Vars() []string {
	vars := make([]string, 0, len(s.changes))
	for _, c := range s.changes {
		vars = append(vars, c.env)
	}
	return vars
}

// Apply writes the declared values into settings.
func (s Settings) Apply(settings *core.Settings) {
	for _, c := range s.changes {
		c.apply(settings)
	}
}

// DefaultRateLimitRules are PocketBase's own suggested rules (per client IP),
// installed when rate limiting is turned on and no rule is stored.
func DefaultRateLimitRules() []core.RateLimitRule {
	return []core.RateLimitRule{
		{Label: "*:auth", MaxRequests: 2, Duration: 3},
		{Label: "*:create", MaxRequests: 20, Duration: 5},
		{Label: "/api/batch", MaxRequests: 3, Duration: 1},
		{Label: "/api/", MaxRequests: 300, Duration: 10},
	}
}

// settingsParser collects changes and errors while reading the environment.
type settingsParser struct {
	getenv  func(string) string
	changes []change
	errs    []error
}

// SettingsFromEnv reads the declarative settings. dev is HEARTH_DEV, which
// decides the rate limiting default.
func SettingsFromEnv(getenv func(string) string, dev bool) (Settings, error) {
	p := &settingsParser{getenv: getenv}

	p.text("HEARTH_APP_NAME", func(s *core.Settings, v string) { s.Meta.AppName = v })
	p.url("HEARTH_APP_URL", func(s *core.Settings, v string) { s.Meta.AppURL = v })
	p.text("HEARTH_SENDER_NAME", func(s *core.Settings, v string) { s.Meta.SenderName = v })
	p.email("HEARTH_SENDER_ADDRESS", func(s *core.Settings, v string) { s.Meta.SenderAddress = v })

	p.smtp()
	p.s3()
	p.backups()

	p.list("HEARTH_TRUSTED_PROXY_HEADERS", func(s *core.Settings, v []string) { s.TrustedProxy.Headers = v })
	p.boolean("HEARTH_TRUSTED_PROXY_USE_LEFTMOST_IP", func(s *core.Settings, v bool) { s.TrustedProxy.UseLeftmostIP = v })

	p.rateLimits(dev)
	p.logs()

	return Settings{changes: p.changes}, errors.Join(p.errs...)
}

// smtp: setting HEARTH_SMTP_HOST turns the SMTP mailer on.
func (p *settingsParser) smtp() {
	p.text("HEARTH_SMTP_HOST", func(s *core.Settings, v string) {
		s.SMTP.Enabled = true
		s.SMTP.Host = v
	})
	p.port("HEARTH_SMTP_PORT", func(s *core.Settings, v int) { s.SMTP.Port = v })
	p.text("HEARTH_SMTP_USERNAME", func(s *core.Settings, v string) { s.SMTP.Username = v })
	p.raw("HEARTH_SMTP_PASSWORD", func(s *core.Settings, v string) { s.SMTP.Password = v })
	p.boolean("HEARTH_SMTP_TLS", func(s *core.Settings, v bool) { s.SMTP.TLS = v })
	p.oneOf("HEARTH_SMTP_AUTH_METHOD", []string{mailer.SMTPAuthPlain, mailer.SMTPAuthLogin}, func(s *core.Settings, v string) { s.SMTP.AuthMethod = v })
}

// s3: setting HEARTH_S3_BUCKET moves uploaded files to that bucket, and then
// every connection variable is required. Without it, the connection
// variables may still serve an s3:// HEARTH_REPLICA_URL (operations.go).
func (p *settingsParser) s3() {
	if p.value("HEARTH_S3_BUCKET") == "" {
		if strings.HasPrefix(p.value("HEARTH_REPLICA_URL"), "s3://") {
			return
		}
		p.forbidWithout("HEARTH_S3_BUCKET", "HEARTH_S3_ENDPOINT", "HEARTH_S3_REGION", "HEARTH_S3_ACCESS_KEY", "HEARTH_S3_SECRET", "HEARTH_S3_FORCE_PATH_STYLE")
		return
	}
	conn, ok := p.s3Connection("HEARTH_S3_", nil)
	if ok {
		p.add("HEARTH_S3_BUCKET", func(s *core.Settings) { s.S3 = conn })
	}
}

// backups: HEARTH_BACKUPS_CRON schedules PocketBase backups, keeping
// HEARTH_BACKUPS_KEEP of them; HEARTH_BACKUPS_S3_BUCKET stores them in S3,
// with each other HEARTH_BACKUPS_S3_* falling back to its HEARTH_S3_* twin.
func (p *settingsParser) backups() {
	if v := p.value("HEARTH_BACKUPS_CRON"); v != "" {
		if _, err := cron.NewSchedule(v); err != nil {
			p.errs = append(p.errs, fmt.Errorf("HEARTH_BACKUPS_CRON: %q is not a cron expression: %w", v, err))
		}
	}
	p.text("HEARTH_BACKUPS_CRON", func(s *core.Settings, v string) {
		s.Backups.Cron = v
		if s.Backups.CronMaxKeep < 1 {
			s.Backups.CronMaxKeep = 3
		}
	})
	p.positive("HEARTH_BACKUPS_KEEP", func(s *core.Settings, v int) { s.Backups.CronMaxKeep = v })

	if p.value("HEARTH_BACKUPS_S3_BUCKET") == "" {
		p.forbidWithout("HEARTH_BACKUPS_S3_BUCKET", "HEARTH_BACKUPS_S3_ENDPOINT", "HEARTH_BACKUPS_S3_REGION", "HEARTH_BACKUPS_S3_ACCESS_KEY", "HEARTH_BACKUPS_S3_SECRET", "HEARTH_BACKUPS_S3_FORCE_PATH_STYLE")
		return
	}
	conn, ok := p.s3Connection("HEARTH_BACKUPS_S3_", func(name string) string {
		return p.value(strings.Replace(name, "HEARTH_BACKUPS_S3_", "HEARTH_S3_", 1))
	})
	if ok {
		p.add("HEARTH_BACKUPS_S3_BUCKET", func(s *core.Settings) { s.Backups.S3 = conn })
	}
}

// s3Connection reads prefix+BUCKET, ENDPOINT, REGION, ACCESS_KEY, SECRET and
// FORCE_PATH_STYLE; fallback, when not nil, supplies unset ones.
func (p *settingsParser) s3Connection(prefix string, fallback func(string) string) (core.S3Config, bool) {
	get := func(name string) string {
		if v := p.value(name); v != "" || fallback == nil {
			return v
		}
		return fallback(name)
	}
	conn := core.S3Config{Enabled: true, Bucket: get(prefix + "BUCKET")}
	before := len(p.errs)
	for _, f := range []struct {
		name string
		dst  *string
	}{
		{prefix + "ENDPOINT", &conn.Endpoint},
		{prefix + "REGION", &conn.Region},
		{prefix + "ACCESS_KEY", &conn.AccessKey},
		{prefix + "SECRET", &conn.Secret},
	} {
		*f.dst = get(f.name)
		if *f.dst == "" {
			p.errs = append(p.errs, fmt.Errorf("%s: must be set when %sBUCKET is", f.name, prefix))
		}
	}
	if conn.Endpoint != "" && !isHTTPURL(conn.Endpoint) {
		p.errs = append(p.errs, fmt.Errorf("%sENDPOINT: %q is not an http(s) URL", prefix, conn.Endpoint))
	}
	if v := get(prefix + "FORCE_PATH_STYLE"); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			p.errs = append(p.errs, fmt.Errorf("%sFORCE_PATH_STYLE: %q is not a boolean (use true or false)", prefix, v))
		}
		conn.ForcePathStyle = b
	}
	return conn, len(p.errs) == before
}

// rateLimits: HEARTH_RATE_LIMITS, on by default outside dev mode.
func (p *settingsParser) rateLimits(dev bool) {
	enabled := !dev
	if v := p.value("HEARTH_RATE_LIMITS"); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			p.errs = append(p.errs, fmt.Errorf("HEARTH_RATE_LIMITS: %q is not a boolean (use true or false)", v))
			return
		}
		enabled = b
	} else if dev {
		return // dev mode: whatever the dashboard says
	}
	p.add("HEARTH_RATE_LIMITS", func(s *core.Settings) {
		s.RateLimits.Enabled = enabled
		if enabled && len(s.RateLimits.Rules) == 0 {
			s.RateLimits.Rules = DefaultRateLimitRules()
		}
	})
}

// DefaultLogRetentionDays is how long auxiliary.db keeps log entries when
// HEARTH_LOG_RETENTION is unset (PocketBase's own default is 5 days).
const DefaultLogRetentionDays = 3

// logLevels are the names HEARTH_LOG_LEVEL takes, as PocketBase's levels
// (those of log/slog).
var logLevels = map[string]int{"debug": -4, "info": 0, "warn": 4, "error": 8}

// logs: HEARTH_LOG_RETENTION (whole days, default 3, applied at every start
// like the rate limiting default) and HEARTH_LOG_LEVEL, PocketBase's log
// settings (Settings > Logs).
func (p *settingsParser) logs() {
	days := DefaultLogRetentionDays
	if v := p.value("HEARTH_LOG_RETENTION"); v != "" {
		d, err := parseRetention(v)
		if err != nil || d%(24*time.Hour) != 0 {
			p.errs = append(p.errs, fmt.Errorf("HEARTH_LOG_RETENTION: %q is not a whole number of days (e.g. 3d or 72h)", v))
			return
		}
		days = int(d / (24 * time.Hour))
	}
	p.add("HEARTH_LOG_RETENTION", func(s *core.Settings) { s.Logs.MaxDays = days })

	v := strings.ToLower(p.value("HEARTH_LOG_LEVEL"))
	if v == "" {
		return
	}
	level, ok := logLevels[v]
	if !ok {
		p.errs = append(p.errs, fmt.Errorf("HEARTH_LOG_LEVEL: %q is not one of debug, info, warn, error", v))
		return
	}
	p.add("HEARTH_LOG_LEVEL", func(s *core.Settings) { s.Logs.MinLevel = level })
}

func (p *settingsParser) value(name string) string {
	return strings.TrimSpace(p.getenv(name))
}

func (p *settingsParser) add(name string, apply func(*core.Settings)) {
	p.changes = append(p.changes, change{env: name, apply: apply})
}

func (p *settingsParser) forbidWithout(required string, names ...string) {
	for _, name := range names {
		if p.value(name) != "" {
			p.errs = append(p.errs, fmt.Errorf("%s: set, but %s is not (it turns the S3 settings on)", name, required))
		}
	}
}

func (p *settingsParser) text(name string, set func(*core.Settings, string)) {
	if v := p.value(name); v != "" {
		p.add(name, func(s *core.Settings) { set(s, v) })
	}
}

// raw keeps surrounding spaces: a password may have them.
func (p *settingsParser) raw(name string, set func(*core.Settings, string)) {
	if v := p.getenv(name); v != "" {
		p.add(name, func(s *core.Settings) { set(s, v) })
	}
}

func (p *settingsParser) url(name string, set func(*core.Settings, string)) {
	v := p.value(name)
	if v == "" {
		return
	}
	if !isHTTPURL(v) {
		p.errs = append(p.errs, fmt.Errorf("%s: %q is not an http(s) URL", name, v))
		return
	}
	p.add(name, func(s *core.Settings) { set(s, v) })
}

func (p *settingsParser) email(name string, set func(*core.Settings, string)) {
	v := p.value(name)
	if v == "" {
		return
	}
	if at := strings.LastIndex(v, "@"); at < 1 || at == len(v)-1 {
		p.errs = append(p.errs, fmt.Errorf("%s: %q is not an email address", name, v))
		return
	}
	p.add(name, func(s *core.Settings) { set(s, v) })
}

func (p *settingsParser) oneOf(name string, allowed []string, set func(*core.Settings, string)) {
	v := p.value(name)
	if v == "" {
		return
	}
	for _, a := range allowed {
		if v == a {
			p.add(name, func(s *core.Settings) { set(s, v) })
			return
		}
	}
	p.errs = append(p.errs, fmt.Errorf("%s: %q is not one of %s", name, v, strings.Join(allowed, ", ")))
}

func (p *settingsParser) list(name string, set func(*core.Settings, []string)) {
	v := p.value(name)
	if v == "" {
		return
	}
	var items []string
	for _, item := range strings.Split(v, ",") {
		if item = strings.TrimSpace(item); item != "" {
			items = append(items, item)
		}
	}
	p.add(name, func(s *core.Settings) { set(s, items) })
}

func (p *settingsParser) boolean(name string, set func(*core.Settings, bool)) {
	v := p.value(name)
	if v == "" {
		return
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		p.errs = append(p.errs, fmt.Errorf("%s: %q is not a boolean (use true or false)", name, v))
		return
	}
	p.add(name, func(s *core.Settings) { set(s, b) })
}

func (p *settingsParser) port(name string, set func(*core.Settings, int)) {
	p.integer(name, 1, 65535, set)
}

func (p *settingsParser) positive(name string, set func(*core.Settings, int)) {
	p.integer(name, 1, 1<<31-1, set)
}

func (p *settingsParser) integer(name string, min, max int, set func(*core.Settings, int)) {
	v := p.value(name)
	if v == "" {
		return
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < min || n > max {
		p.errs = append(p.errs, fmt.Errorf("%s: %q is not a whole number from %d to %d", name, v, min, max))
		return
	}
	p.add(name, func(s *core.Settings) { set(s, n) })
}

func isHTTPURL(v string) bool {
	u, err := url.Parse(v)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != ""
}

// ApplySettings saves the declared settings over the stored ones. A value
// PocketBase rejects (say an SMTP host that is not a host name) stops the
// start with PocketBase's validation error.
func ApplySettings(app core.App, declared Settings) error {
	if len(declared.changes) == 0 {
		return nil
	}
	settings, err := app.Settings().Clone()
	if err != nil {
		return fmt.Errorf("settings from environment: %w", err)
	}
	declared.Apply(settings)
	if err := app.Save(settings); err != nil {
		return fmt.Errorf("settings from environment (%s): %w", strings.Join(declared.Vars(), ", "), err)
	}
	app.Logger().Info("settings applied from environment", "vars", declared.Vars())
	return nil
}
