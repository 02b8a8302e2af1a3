package config_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/crews/hearth/config"
	"github.com/crews/hearth/links"
)

const fingerprint = "14:6D:E9:83:C5:73:06:50:D8:EE:B9:95:2F:34:FC:64:16:A0:83:42:E6:1D:BE:A8:8A:04:96:B2:3F:CF:44:E5"

func TestLinkSettings(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		env  map[string]string
		want links.Config
		errs []string // variables named by the error, when it fails
	}{
		{name: "none", env: map[string]string{}},
		{name: "all", env: map[string]string{
			"HEARTH_IOS_APP_ID": " ABCDE12345.com.example.crews ", "HEARTH_ANDROID_PACKAGE": "com.example.crews",
			"HEARTH_ANDROID_CERT_SHA256": strings.ToLower(fingerprint) + ", " + strings.ReplaceAll(fingerprint, "14:", "15:"),
			"HEARTH_APP_SCHEME":          "crews-dev",
		}, want: links.Config{
			IOSAppID: "ABCDE12345.com.example.crews", AndroidPackage: "com.example.crews",
			AndroidCertSHA256: []string{fingerprint, strings.ReplaceAll(fingerprint, "14:", "15:")}, Scheme: "crews-dev",
		}},
		{name: "ios app id without team", env: map[string]string{"HEARTH_IOS_APP_ID": "com.example.crews"}, errs: []string{"HEARTH_IOS_APP_ID"}},
		{name: "android package of one segment", env: map[string]string{"HEARTH_ANDROID_PACKAGE": "crews", "HEARTH_ANDROID_CERT_SHA256": fingerprint}, errs: []string{"HEARTH_ANDROID_PACKAGE"}},
		{name: "android package without certificate", env: map[string]string{"HEARTH_ANDROID_PACKAGE": "com.example.crews"}, errs: []string{"HEARTH_ANDROID_CERT_SHA256"}},
		{name: "certificate without package", env: map[string]string{"HEARTH_ANDROID_CERT_SHA256": fingerprint}, errs: []string{"HEARTH_ANDROID_PACKAGE"}},
		{name: "certificate not a fingerprint", env: map[string]string{"HEARTH_ANDROID_PACKAGE": "com.example.crews", "HEARTH_ANDROID_CERT_SHA256": "14:6D:E9"}, errs: []string{"HEARTH_ANDROID_CERT_SHA256"}},
		{name: "scheme with a colon", env: map[string]string{"HEARTH_APP_SCHEME": "crews://"}, errs: []string{"HEARTH_APP_SCHEME"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cfg, err := config.FromEnv(func(k string) string { return c.env[k] })
			if len(c.errs) == 0 {
				if err != nil {
					t.Fatal(err)
				}
				if cfg.Links.IOSAppID != c.want.IOSAppID || cfg.Links.AndroidPackage != c.want.AndroidPackage ||
					!slices.Equal(cfg.Links.AndroidCertSHA256, c.want.AndroidCertSHA256) || cfg.Links.Scheme != c.want.Scheme {
					t.Errorf("links = %+v, want %+v", cfg.Links, c.want)
				}
				return
			}
			if err == nil {
				t.Fatalf("no error, want one naming %v", c.errs)
			}
			for _, v := range c.errs {
				if !strings.Contains(err.Error(), v+":") {
					t.Errorf("error %q does not name %s", err, v)
				}
			}
		})
	}
}
