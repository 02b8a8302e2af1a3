package config_test

import (
	"strings"
	"testing"
	"time"

	"github.com/crews/hearth/config"
)

func TestSyncRetention(t *testing.T) {
	for _, tc := range []struct {
		value string
		want  time.Duration
		err   bool
	}{
		{"", 0, false},
		{"720h", 720 * time.Hour, false},
		{"30d", 30 * 24 * time.Hour, false},
		{" 7d ", 7 * 24 * time.Hour, false},
		{"0d", 0, true},
		{"-1h", 0, true},
		{"0s", 0, true},
		{"soon", 0, true},
		{"1.5d", 0, true},
	} {
		cfg, err := config.FromEnv(func(name string) string {
			if name == "HEARTH_SYNC_RETENTION" {
				return tc.value
			}
			return ""
		})
		if tc.err {
			if err == nil || !strings.Contains(err.Error(), "HEARTH_SYNC_RETENTION") {
				t.Errorf("%q: error %v, want one naming HEARTH_SYNC_RETENTION", tc.value, err)
			}
			continue
		}
		if err != nil || cfg.SyncRetention != tc.want {
			t.Errorf("%q: %v, %v; want %v", tc.value, cfg.SyncRetention, err, tc.want)
		}
	}
}
