package auth

import (
	"fmt"

	"github.com/pocketbase/pocketbase/core"
)

// The emails' links open ConfirmPath + action + "#" + token on the app's
// URL (HEARTH_APP_URL): the app opens it when the phone hands it the link
// (a universal or app link), and otherwise the page of pages.go completes
// the step in the browser. The token travels in the fragment, which
// browsers never send, so it stays out of access logs.
const ConfirmPath = "/auth/confirm/"

// The confirmations a link completes, named as PocketBase's endpoints
// (POST /api/collections/users/confirm-<action>).
const (
	ActionVerification  = "verification"
	ActionPasswordReset = "password-reset"
	ActionEmailChange   = "email-change"
)

// Actions lists them, for the page's route.
var Actions = []string{ActionVerification, ActionPasswordReset, ActionEmailChange}

// link is the templates' link to action.
func link(action string) string {
	return core.EmailPlaceholderAppURL + ConfirmPath + action + "#" + core.EmailPlaceholderToken
}

const signature = `<p>The {APP_NAME} team</p>`

var verificationTemplate = core.EmailTemplate{
	Subject: "Confirm your email for {APP_NAME}",
	Body: `<p>Hi,</p>
<p>Tap the link below on your phone to confirm this address for your {APP_NAME} account.</p>
<p><a href="` + link(ActionVerification) + `">Confirm my email</a></p>
<p>If you did not sign up for {APP_NAME}, ignore this email.</p>
` + signature,
}

var resetPasswordTemplate = core.EmailTemplate{
	Subject: "Reset your {APP_NAME} password",
	Body: `<p>Hi,</p>
<p>Tap the link below to choose a new password for your {APP_NAME} account.</p>
<p><a href="` + link(ActionPasswordReset) + `">Choose a new password</a></p>
<p>If you did not ask for this, ignore this email: your password stays as it is.</p>
` + signature,
}

var emailChangeTemplate = core.EmailTemplate{
	Subject: "Confirm your new email for {APP_NAME}",
	Body: `<p>Hi,</p>
<p>Tap the link below to make this your {APP_NAME} account's email. You will be asked for your password.</p>
<p><a href="` + link(ActionEmailChange) + `">Confirm my new email</a></p>
<p>If you did not ask for this, ignore this email.</p>
` + signature,
}

var otpTemplate = core.EmailTemplate{
	Subject: "Your {APP_NAME} code: {OTP}",
	Body: `<p>Hi,</p>
<p>Your {APP_NAME} sign-in code is <strong>{OTP}</strong>. Type it in the app; it works for ` + fmt.Sprint(int(OTPDuration.Minutes())) + ` minutes.</p>
<p>If you did not try to sign in, ignore this email: nobody can sign in without the code.</p>
` + signature,
}

var authAlertTemplate = core.EmailTemplate{
	Subject: "New sign-in to your {APP_NAME} account",
	Body: `<p>Hi,</p>
<p>Your {APP_NAME} account was just signed in to from a new place:</p>
<p><em>{ALERT_INFO}</em></p>
<p>If this was not you, change your password in the app now: that signs out every other phone.</p>
` + signature,
}
