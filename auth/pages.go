package auth

import (
	_ "embed"
	"net/http"

	"github.com/pocketbase/pocketbase/core"
)

// confirmPage completes an email's link in a browser: it reads the action
// from its path and the token from its fragment and posts them to
// PocketBase's confirm endpoint, asking for a new password (a reset) or the
// current one (an email change) first. It calls nothing else.
//
//go:embed confirm.html
var confirmPage []byte

// registerPages serves GET ConfirmPath+action for each of Actions (one
// route each, so the router's table names every page).
func registerPages(app core.App) {
	app.OnServe().BindFunc(func(e *core.ServeEvent) error {
		for _, action := range Actions {
			e.Router.GET(ConfirmPath+action, serveConfirmPage)
		}
		return e.Next()
	})
}

func serveConfirmPage(re *core.RequestEvent) error {
	h := re.Response.Header()
	h.Set("Content-Security-Policy", "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'self'; form-action 'none'; base-uri 'none'; frame-ancestors 'none'")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Cache-Control", "no-store")
	return re.Blob(http.StatusOK, "text/html; charset=utf-8", confirmPage)
}
