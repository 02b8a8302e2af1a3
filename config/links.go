package config

import (
	"fmt"
	"regexp"
	"strings"
)

var (
	// Apple's app id: a 10-character team id, a dot, the bundle id.
	iosAppID = regexp.MustCompile(`^[A-Z0-9]{10}\.[A-Za-z0-9.-]+$`)
	// An Android application id: two or more segments, each starting with a letter.
	androidPackage = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_]*(\.[A-Za-z][A-Za-z0-9_]*)+$`)
	// A SHA-256 fingerprint as keytool and the Play Console print it.
	certSHA256 = regexp.MustCompile(`^([0-9A-F]{2}:){31}[0-9A-F]{2}$`)
	// A URL scheme (RFC 3986), lower case as the app declares it.
	appScheme = regexp.MustCompile(`^[a-z][a-z0-9+.-]*$`)
)

// readLinks reads the invite links' settings (package links): the app ids
// the /.well-known files name, and the app's URL scheme. Each is optional;
// the Android package and its certificates go together.
func (cfg *Config) readLinks(getenv func(string) string) []error {
	var errs []error
	l := &cfg.Links
	l.IOSAppID = strings.TrimSpace(getenv("HEARTH_IOS_APP_ID"))
	if l.IOSAppID != "" && !iosAppID.MatchString(l.IOSAppID) {
		errs = append(errs, fmt.Errorf("HEARTH_IOS_APP_ID: %q is not <team id>.<bundle id> (e.g. ABCDE12345.com.example.crews)", l.IOSAppID))
	}
	l.AndroidPackage = strings.TrimSpace(getenv("HEARTH_ANDROID_PACKAGE"))
	if l.AndroidPackage != "" && !androidPackage.MatchString(l.AndroidPackage) {
		errs = append(errs, fmt.Errorf("HEARTH_ANDROID_PACKAGE: %q is not an Android package name (e.g. com.example.crews)", l.AndroidPackage))
	}
	for _, fp := range strings.Split(getenv("HEARTH_ANDROID_CERT_SHA256"), ",") {
		fp = strings.ToUpper(strings.TrimSpace(fp))
		if fp == "" {
			continue
		}
		if !certSHA256.MatchString(fp) {
			errs = append(errs, fmt.Errorf("HEARTH_ANDROID_CERT_SHA256: %q is not a SHA-256 fingerprint (32 hex bytes separated by colons)", fp))
		}
		l.AndroidCertSHA256 = append(l.AndroidCertSHA256, fp)
	}
	switch {
	case l.AndroidPackage != "" && len(l.AndroidCertSHA256) == 0:
		errs = append(errs, fmt.Errorf("HEARTH_ANDROID_CERT_SHA256: must be set when HEARTH_ANDROID_PACKAGE is"))
	case l.AndroidPackage == "" && len(l.AndroidCertSHA256) > 0:
		errs = append(errs, fmt.Errorf("HEARTH_ANDROID_PACKAGE: must be set when HEARTH_ANDROID_CERT_SHA256 is"))
	}
	l.Scheme = strings.TrimSpace(getenv("HEARTH_APP_SCHEME"))
	if l.Scheme != "" && !appScheme.MatchString(l.Scheme) {
		errs = append(errs, fmt.Errorf("HEARTH_APP_SCHEME: %q is not a URL scheme (lower case letters, digits, +, - and .; e.g. crews)", l.Scheme))
	}
	return errs
}
