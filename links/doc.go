// Package links makes an invite a link that opens the app: it serves the
// files with which iOS and Android hand https://<app url>/join/<code> to
// the installed app (universal links, app links), and the page at
// /join/<code> that a phone without the app, or a browser, opens instead.
//
// Usage:
//
//	links.Register(app, links.Config{
//		IOSAppID:          "ABCDE12345.com.example.crews",
//		AndroidPackage:    "com.example.crews",
//		AndroidCertSHA256: []string{"14:6D:E9:...:B5"},
//		Scheme:            "crews",
//	})
//
// Routes (docs/access-rules.md, Entrances):
//
//	GET /.well-known/apple-app-site-association   404 unless IOSAppID is set
//	GET /.well-known/assetlinks.json              404 unless AndroidPackage and AndroidCertSHA256 are set
//	GET /join/{code}                              the invite page
//
// Decisions where the issue was silent:
//   - The page answers 200 with one template for every code. A code people
//     may join with shows its crew's name and a button to <Scheme>://join/<code>;
//     any other (unknown, expired, used up, malformed) shows one text saying
//     the link does not work, so the page does not tell a code that never
//     existed from one that did. Both read the invite by its indexed code
//     once (a malformed code too), so both take the same time.
//   - It is rate limited per client IP (PerMinute requests a minute, 429
//     past it), by its own limiter rather than the dashboard's rate limit
//     rules, which an operator may turn off: guessing codes through the page
//     must stay slow whatever the settings.
//   - The page joins nobody: joining needs a signed-in user, and that is the
//     app's (POST /api/crews/join).
//   - The app's URL scheme is a setting too (HEARTH_APP_SCHEME, default
//     "crews", the example app's), since the page's button names it.
package links
