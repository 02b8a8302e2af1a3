package config

import (
	"fmt"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/crews/hearth/logs"
	"github.com/crews/hearth/metrics"
	"github.com/crews/hearth/replica"
)

// Defaults of the operations settings.
const (
	// DefaultLogSlowRequest: a request this slow is always kept in the log.
	DefaultLogSlowRequest = 500 * time.Millisecond
	// DefaultLogRequestSample: 1 in 100 fast successful requests is kept;
	// at 1,000 requests/s that is about 10 log rows a second
	// (docs/operations.md has the measured growth).
	DefaultLogRequestSample = 0.01
)

// operations reads the settings of replication, metrics and logs into cfg.
func (cfg *Config) operations(getenv func(string) string) []error {
	var errs []error
	errs = append(errs, cfg.replicaFromEnv(getenv)...)
	errs = append(errs, cfg.metricsFromEnv(getenv)...)
	errs = append(errs, cfg.logFromEnv(getenv)...)
	return errs
}

// replicaFromEnv: HEARTH_REPLICA_URL turns replication on; its S3
// connection is the HEARTH_S3_* one (without HEARTH_S3_BUCKET, which is for
// uploads).
func (cfg *Config) replicaFromEnv(getenv func(string) string) []error {
	v := func(name string) string { return strings.TrimSpace(getenv(name)) }
	r := &cfg.Replica
	r.URL = v("HEARTH_REPLICA_URL")
	if r.URL == "" {
		var errs []error
		for _, name := range []string{"HEARTH_REPLICA_SYNC_INTERVAL", "HEARTH_RESTORE_ON_START", "HEARTH_REPLICA_LOCAL_MAX", "HEARTH_REPLICA_WAL_MAX", "HEARTH_REPLICA_TIMEOUT"} {
			if v(name) != "" {
				errs = append(errs, fmt.Errorf("%s: set, but HEARTH_REPLICA_URL is not (it turns replication on)", name))
			}
		}
		return errs
	}

	var errs []error
	u, err := replica.ParseURL(r.URL)
	if err != nil {
		errs = append(errs, fmt.Errorf("HEARTH_REPLICA_URL: %w", err))
	}
	r.SyncInterval = replica.DefaultSyncInterval
	if s := v("HEARTH_REPLICA_SYNC_INTERVAL"); s != "" {
		d, err := time.ParseDuration(s)
		if err != nil || d <= 0 || d > time.Hour {
			errs = append(errs, fmt.Errorf("HEARTH_REPLICA_SYNC_INTERVAL: %q is not a duration from 1ms to 1h (e.g. 1s)", s))
		}
		r.SyncInterval = d
	}
	r.RestoreOnStart = true
	if s := v("HEARTH_RESTORE_ON_START"); s != "" {
		b, err := strconv.ParseBool(s)
		if err != nil {
			errs = append(errs, fmt.Errorf("HEARTH_RESTORE_ON_START: %q is not a boolean (use true or false)", s))
		}
		r.RestoreOnStart = b
	}
	// Unset, these stay zero: replica.Register applies its defaults.
	for name, dst := range map[string]*int64{"HEARTH_REPLICA_LOCAL_MAX": &r.LocalMax, "HEARTH_REPLICA_WAL_MAX": &r.WALMax} {
		if s := v(name); s != "" {
			n, err := parseBytes(s)
			if err != nil {
				errs = append(errs, fmt.Errorf("%s: %w", name, err))
			}
			*dst = n
		}
	}
	if s := v("HEARTH_REPLICA_TIMEOUT"); s != "" {
		d, err := time.ParseDuration(s)
		if err != nil || d < 100*time.Millisecond || d > time.Hour {
			errs = append(errs, fmt.Errorf("HEARTH_REPLICA_TIMEOUT: %q is not a duration from 100ms to 1h (e.g. 30s)", s))
		}
		r.Timeout = d
	}
	if u == nil || u.Scheme != "s3" {
		return errs
	}

	r.S3 = replica.S3{
		Endpoint:  v("HEARTH_S3_ENDPOINT"),
		Region:    v("HEARTH_S3_REGION"),
		AccessKey: v("HEARTH_S3_ACCESS_KEY"),
		Secret:    v("HEARTH_S3_SECRET"),
	}
	// With HEARTH_S3_BUCKET set, the declared settings check these values
	// already (settings.go); each error is reported once.
	checked := v("HEARTH_S3_BUCKET") != ""
	if s := v("HEARTH_S3_FORCE_PATH_STYLE"); s != "" {
		b, err := strconv.ParseBool(s)
		if err != nil && !checked {
			errs = append(errs, fmt.Errorf("HEARTH_S3_FORCE_PATH_STYLE: %q is not a boolean (use true or false)", s))
		}
		r.S3.ForcePathStyle = b
	}
	if checked {
		return errs
	}
	if r.S3.Endpoint != "" && !isHTTPURL(r.S3.Endpoint) {
		errs = append(errs, fmt.Errorf("HEARTH_S3_ENDPOINT: %q is not an http(s) URL", r.S3.Endpoint))
	}
	if (r.S3.AccessKey == "") != (r.S3.Secret == "") {
		errs = append(errs, fmt.Errorf("HEARTH_S3_ACCESS_KEY, HEARTH_S3_SECRET: set both or neither (neither: the AWS default credentials)"))
	}
	return errs
}

// byteUnits are the units a size setting may end with (binary multiples).
var byteUnits = []struct {
	suffix string
	n      int64
}{{"GB", 1 << 30}, {"MB", 1 << 20}, {"KB", 1 << 10}, {"B", 1}}

// parseBytes reads a size: a whole number of bytes, or one followed by
// KB, MB or GB (1024-based), e.g. 512MB; at least 64KB.
func parseBytes(s string) (int64, error) {
	num, mult := strings.ToUpper(s), int64(1)
	for _, u := range byteUnits {
		if strings.HasSuffix(num, u.suffix) {
			num, mult = strings.TrimSpace(strings.TrimSuffix(num, u.suffix)), u.n
			break
		}
	}
	n, err := strconv.ParseInt(num, 10, 64)
	if err != nil || n <= 0 || n > (1<<50)/mult || n*mult < 64<<10 {
		return 0, fmt.Errorf("%q is not a size of at least 64KB (bytes, or a number with KB, MB or GB, e.g. 512MB)", s)
	}
	return n * mult, nil
}

// metricsFromEnv: HEARTH_METRICS_ADDR, a host:port other than HEARTH_HTTP's.
func (cfg *Config) metricsFromEnv(getenv func(string) string) []error {
	addr := strings.TrimSpace(getenv("HEARTH_METRICS_ADDR"))
	cfg.Metrics = metrics.Config{Addr: addr}
	if addr == "" {
		return nil
	}
	host, port, err := net.SplitHostPort(addr)
	if n, perr := strconv.Atoi(port); err != nil || perr != nil || n < 1 || n > 65535 {
		return []error{fmt.Errorf("HEARTH_METRICS_ADDR: %q is not a host:port address with a port from 1 to 65535", addr)}
	}
	if httpHost, httpPort, err := net.SplitHostPort(cfg.HTTPAddr); err == nil && httpPort == port &&
		(host == httpHost || isWildcard(host) || isWildcard(httpHost)) {
		return []error{fmt.Errorf("HEARTH_METRICS_ADDR: %q is the public address (HEARTH_HTTP %q); metrics need their own", addr, cfg.HTTPAddr)}
	}
	return nil
}

func isWildcard(host string) bool {
	ip := net.ParseIP(host)
	return host == "" || (ip != nil && ip.IsUnspecified())
}

// logFromEnv: HEARTH_LOG_FORMAT, HEARTH_LOG_SLOW_REQUEST and
// HEARTH_LOG_REQUEST_SAMPLE. (Retention and level are PocketBase settings:
// settings.go.)
func (cfg *Config) logFromEnv(getenv func(string) string) []error {
	var errs []error
	cfg.Log = logs.Config{SlowRequest: DefaultLogSlowRequest, SampleRate: DefaultLogRequestSample}
	switch f := strings.TrimSpace(getenv("HEARTH_LOG_FORMAT")); f {
	case "", logs.FormatJSON, logs.FormatText:
		cfg.Log.Format = f
	default:
		errs = append(errs, fmt.Errorf("HEARTH_LOG_FORMAT: %q is not json or text", f))
	}
	if s := strings.TrimSpace(getenv("HEARTH_LOG_SLOW_REQUEST")); s != "" {
		d, err := time.ParseDuration(s)
		if err != nil || d < 0 {
			errs = append(errs, fmt.Errorf("HEARTH_LOG_SLOW_REQUEST: %q is not a duration (e.g. 500ms; 0 keeps every request)", s))
		}
		cfg.Log.SlowRequest = d
	}
	if s := strings.TrimSpace(getenv("HEARTH_LOG_REQUEST_SAMPLE")); s != "" {
		f, err := strconv.ParseFloat(s, 64)
		if err != nil || f < 0 || f > 1 {
			errs = append(errs, fmt.Errorf("HEARTH_LOG_REQUEST_SAMPLE: %q is not a fraction from 0 to 1 (e.g. 0.01)", s))
		}
		cfg.Log.SampleRate = f
	}
	return errs
}
