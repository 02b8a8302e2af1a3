// Package auth configures how people sign in to Crews: the users
// collection's OAuth2 providers from HEARTH_OAUTH2_* settings (Apple,
// Google, a generic OpenID Connect provider), Apple's client secret, which
// it generates from the team's key and renews before it expires, one-time
// codes by email (OTP sign-in, and MFA as password plus code for users who
// turn it on), Crews' email templates, and the small web pages their links
// open when the app does not.
//
// Everything here is PocketBase's own auth, configured: the flows are
// PocketBase's endpoints, which the SDK calls. docs/auth.md lists them.
//
// Usage:
//
//	cfg, err := auth.FromEnv(os.Getenv) // names each bad variable
//	if err != nil {
//		log.Fatal(err)
//	}
//	auth.Register(app, cfg) // via crews.Register; applied at every serve start
package auth
