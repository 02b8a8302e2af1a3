package config_test

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/crews/hearth/config"
	"github.com/crews/hearth/metrics"
	"github.com/crews/hearth/replica"
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
	{name: "HEARTH_REPLICA_URL s3", env: map[string]string{"HEARTH_REPLICA_URL": "s3://backups/hearth"},
		want: func(c *config.Config) {
			c.Replica = replica.Config{URL: "s3://backups/hearth", SyncInterval: time.Second, RestoreOnStart: true}
		}},
	{name: "HEARTH_REPLICA_URL s3 with the HEARTH_S3_* connection and no upload bucket",
		env: map[string]string{"HEARTH_REPLICA_URL": "s3://backups/hearth", "HEARTH_S3_ENDPOINT": "http://minio:9000",
			"HEARTH_S3_REGION": "eu-west-1", "HEARTH_S3_ACCESS_KEY": "k", "HEARTH_S3_SECRET": "s", "HEARTH_S3_FORCE_PATH_STYLE": "true"},
		want: func(c *config.Config) {
			c.Replica = replica.Config{URL: "s3://backups/hearth", SyncInterval: time.Second, RestoreOnStart: true,
				S3: replica.S3{Endpoint: "http://minio:9000", Region: "eu-west-1", AccessKey: "k", Secret: "s", ForcePathStyle: true}}
		}},
	{name: "HEARTH_REPLICA_URL file", env: map[string]string{"HEARTH_REPLICA_URL": "file:///mnt/replica"},
		want: func(c *config.Config) {
			c.Replica = replica.Config{URL: "file:///mnt/replica", SyncInterval: time.Second, RestoreOnStart: true}
		}},
	{name: "HEARTH_REPLICA_SYNC_INTERVAL and HEARTH_RESTORE_ON_START",
		env: map[string]string{"HEARTH_REPLICA_URL": "file:///r", "HEARTH_REPLICA_SYNC_INTERVAL": "250ms", "HEARTH_RESTORE_ON_START": "false"},
		want: func(c *config.Config) {
			c.Replica = replica.Config{URL: "file:///r", SyncInterval: 250 * time.Millisecond}
		}},
	{name: "HEARTH_REPLICA_LOCAL_MAX, HEARTH_REPLICA_WAL_MAX and HEARTH_REPLICA_TIMEOUT",
		env: map[string]string{"HEARTH_REPLICA_URL": "file:///r", "HEARTH_REPLICA_LOCAL_MAX": "2MB", "HEARTH_REPLICA_WAL_MAX": "1048576", "HEARTH_REPLICA_TIMEOUT": "3s"},
		want: func(c *config.Config) {
			c.Replica = replica.Config{URL: "file:///r", SyncInterval: time.Second, RestoreOnStart: true, LocalMax: 2 << 20, WALMax: 1 << 20, Timeout: 3 * time.Second}
		}},
	{name: "HEARTH_REPLICA_LOCAL_MAX in gigabytes", env: map[string]string{"HEARTH_REPLICA_URL": "file:///r", "HEARTH_REPLICA_LOCAL_MAX": "2gb"},
		want: func(c *config.Config) {
			c.Replica = replica.Config{URL: "file:///r", SyncInterval: time.Second, RestoreOnStart: true, LocalMax: 2 << 30}
		}},
	{name: "HEARTH_REPLICA_LOCAL_MAX not a size", env: map[string]string{"HEARTH_REPLICA_URL": "file:///r", "HEARTH_REPLICA_LOCAL_MAX": "lots"}, errs: []string{"HEARTH_REPLICA_LOCAL_MAX"}},
	{name: "HEARTH_REPLICA_WAL_MAX too small", env: map[string]string{"HEARTH_REPLICA_URL": "file:///r", "HEARTH_REPLICA_WAL_MAX": "1KB"}, errs: []string{"HEARTH_REPLICA_WAL_MAX"}},
	{name: "HEARTH_REPLICA_TIMEOUT not a duration", env: map[string]string{"HEARTH_REPLICA_URL": "file:///r", "HEARTH_REPLICA_TIMEOUT": "long"}, errs: []string{"HEARTH_REPLICA_TIMEOUT"}},
	{name: "HEARTH_REPLICA_TIMEOUT without a replica", env: map[string]string{"HEARTH_REPLICA_TIMEOUT": "30s"}, errs: []string{"HEARTH_REPLICA_TIMEOUT"}},
	{name: "HEARTH_REPLICA_URL without bucket", env: map[string]string{"HEARTH_REPLICA_URL": "s3:///hearth"}, errs: []string{"HEARTH_REPLICA_URL"}},
	{name: "HEARTH_REPLICA_URL other scheme", env: map[string]string{"HEARTH_REPLICA_URL": "gs://bucket/hearth"}, errs: []string{"HEARTH_REPLICA_URL"}},
	{name: "HEARTH_REPLICA_URL relative file", env: map[string]string{"HEARTH_REPLICA_URL": "file:replica"}, errs: []string{"HEARTH_REPLICA_URL"}},
	{name: "HEARTH_REPLICA_URL with credentials", env: map[string]string{"HEARTH_REPLICA_URL": "s3://key:secret@bucket/hearth"}, errs: []string{"HEARTH_REPLICA_URL"}},
	{name: "HEARTH_REPLICA_SYNC_INTERVAL not a duration", env: map[string]string{"HEARTH_REPLICA_URL": "file:///r", "HEARTH_REPLICA_SYNC_INTERVAL": "soon"}, errs: []string{"HEARTH_REPLICA_SYNC_INTERVAL"}},
	{name: "HEARTH_REPLICA_SYNC_INTERVAL zero", env: map[string]string{"HEARTH_REPLICA_URL": "file:///r", "HEARTH_REPLICA_SYNC_INTERVAL": "0s"}, errs: []string{"HEARTH_REPLICA_SYNC_INTERVAL"}},
	{name: "HEARTH_REPLICA_SYNC_INTERVAL over an hour", env: map[string]string{"HEARTH_REPLICA_URL": "file:///r", "HEARTH_REPLICA_SYNC_INTERVAL": "2h"}, errs: []string{"HEARTH_REPLICA_SYNC_INTERVAL"}},
	{name: "HEARTH_RESTORE_ON_START maybe", env: map[string]string{"HEARTH_REPLICA_URL": "file:///r", "HEARTH_RESTORE_ON_START": "maybe"}, errs: []string{"HEARTH_RESTORE_ON_START"}},
	{name: "HEARTH_REPLICA_SYNC_INTERVAL without a replica", env: map[string]string{"HEARTH_REPLICA_SYNC_INTERVAL": "1s"}, errs: []string{"HEARTH_REPLICA_SYNC_INTERVAL"}},
	{name: "HEARTH_RESTORE_ON_START without a replica", env: map[string]string{"HEARTH_RESTORE_ON_START": "true"}, errs: []string{"HEARTH_RESTORE_ON_START"}},
	{name: "replica S3 access key without secret", env: map[string]string{"HEARTH_REPLICA_URL": "s3://b/p", "HEARTH_S3_ACCESS_KEY": "k"}, errs: []string{"HEARTH_S3_SECRET"}},
	{name: "replica S3 endpoint not a URL", env: map[string]string{"HEARTH_REPLICA_URL": "s3://b/p", "HEARTH_S3_ENDPOINT": "minio:9000"}, errs: []string{"HEARTH_S3_ENDPOINT"}},
	{name: "replica S3 path style not a boolean", env: map[string]string{"HEARTH_REPLICA_URL": "s3://b/p", "HEARTH_S3_FORCE_PATH_STYLE": "yes"}, errs: []string{"HEARTH_S3_FORCE_PATH_STYLE"}},
	{name: "S3 connection without bucket or s3 replica", env: map[string]string{"HEARTH_REPLICA_URL": "file:///r", "HEARTH_S3_REGION": "r"}, errs: []string{"HEARTH_S3_REGION"}},

	{name: "HEARTH_METRICS_ADDR", env: map[string]string{"HEARTH_METRICS_ADDR": "127.0.0.1:9090"},
		want: func(c *config.Config) { c.Metrics = metrics.Config{Addr: "127.0.0.1:9090"} }},
	{name: "HEARTH_METRICS_ADDR on all interfaces, another port", env: map[string]string{"HEARTH_METRICS_ADDR": ":9090"},
		want: func(c *config.Config) { c.Metrics = metrics.Config{Addr: ":9090"} }},
	{name: "HEARTH_METRICS_ADDR not an address", env: map[string]string{"HEARTH_METRICS_ADDR": "9090"}, errs: []string{"HEARTH_METRICS_ADDR"}},
	{name: "HEARTH_METRICS_ADDR port 0", env: map[string]string{"HEARTH_METRICS_ADDR": "127.0.0.1:0"}, errs: []string{"HEARTH_METRICS_ADDR"}},
	{name: "HEARTH_METRICS_ADDR is HEARTH_HTTP", env: map[string]string{"HEARTH_HTTP": "0.0.0.0:8090", "HEARTH_METRICS_ADDR": "0.0.0.0:8090"}, errs: []string{"HEARTH_METRICS_ADDR"}},
	{name: "HEARTH_METRICS_ADDR inside a wildcard HEARTH_HTTP", env: map[string]string{"HEARTH_HTTP": "0.0.0.0:8090", "HEARTH_METRICS_ADDR": "127.0.0.1:8090"}, errs: []string{"HEARTH_METRICS_ADDR"}},
	{name: "HEARTH_METRICS_ADDR wildcard over HEARTH_HTTP", env: map[string]string{"HEARTH_METRICS_ADDR": ":8090"}, errs: []string{"HEARTH_METRICS_ADDR"}},

	{name: "HEARTH_LOG_FORMAT json", env: map[string]string{"HEARTH_LOG_FORMAT": "json"},
		want: func(c *config.Config) { c.Log.Format = "json" }},
	{name: "HEARTH_LOG_FORMAT text", env: map[string]string{"HEARTH_LOG_FORMAT": "text"},
		want: func(c *config.Config) { c.Log.Format = "text" }},
	{name: "HEARTH_LOG_FORMAT xml", env: map[string]string{"HEARTH_LOG_FORMAT": "xml"}, errs: []string{"HEARTH_LOG_FORMAT"}},
	{name: "HEARTH_LOG_SLOW_REQUEST", env: map[string]string{"HEARTH_LOG_SLOW_REQUEST": "2s"},
		want: func(c *config.Config) { c.Log.SlowRequest = 2 * time.Second }},
	{name: "HEARTH_LOG_SLOW_REQUEST 0 keeps every request", env: map[string]string{"HEARTH_LOG_SLOW_REQUEST": "0"},
		want: func(c *config.Config) { c.Log.SlowRequest = 0 }},
	{name: "HEARTH_LOG_SLOW_REQUEST negative", env: map[string]string{"HEARTH_LOG_SLOW_REQUEST": "-1s"}, errs: []string{"HEARTH_LOG_SLOW_REQUEST"}},
	{name: "HEARTH_LOG_SLOW_REQUEST not a duration", env: map[string]string{"HEARTH_LOG_SLOW_REQUEST": "fast"}, errs: []string{"HEARTH_LOG_SLOW_REQUEST"}},
	{name: "HEARTH_LOG_REQUEST_SAMPLE", env: map[string]string{"HEARTH_LOG_REQUEST_SAMPLE": "0.5"},
		want: func(c *config.Config) { c.Log.SampleRate = 0.5 }},
	{name: "HEARTH_LOG_REQUEST_SAMPLE 0", env: map[string]string{"HEARTH_LOG_REQUEST_SAMPLE": "0"},
		want: func(c *config.Config) { c.Log.SampleRate = 0 }},
	{name: "HEARTH_LOG_REQUEST_SAMPLE 1", env: map[string]string{"HEARTH_LOG_REQUEST_SAMPLE": "1"},
		want: func(c *config.Config) { c.Log.SampleRate = 1 }},
	{name: "HEARTH_LOG_REQUEST_SAMPLE over 1", env: map[string]string{"HEARTH_LOG_REQUEST_SAMPLE": "1.5"}, errs: []string{"HEARTH_LOG_REQUEST_SAMPLE"}},
	{name: "HEARTH_LOG_REQUEST_SAMPLE not a number", env: map[string]string{"HEARTH_LOG_REQUEST_SAMPLE": "half"}, errs: []string{"HEARTH_LOG_REQUEST_SAMPLE"}},

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
	// docs/configuration.md: no replication, no metrics, no log lines on
	// stdout; requests kept when slower than 500ms or 1 in 100.
	if cfg.Replica.URL != "" || cfg.Metrics.Addr != "" || cfg.Log.Format != "" {
		t.Errorf("operations are on by default: %+v %+v %+v", cfg.Replica, cfg.Metrics, cfg.Log)
	}
	if cfg.Log.SlowRequest != 500*time.Millisecond || cfg.Log.SampleRate != 0.01 {
		t.Errorf("log defaults: slow %v, sample %v", cfg.Log.SlowRequest, cfg.Log.SampleRate)
	}
}

func TestPocketBaseConfig(t *testing.T) {
	cfg := config.Config{DataDir: "/srv/data", Dev: true}
	pb := cfg.PocketBase()
	if pb.DefaultDataDir != "/srv/data" || !pb.DefaultDev {
		t.Fatalf("PocketBase() = %+v", pb)
	}
}
