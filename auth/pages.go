package auth

import (
	_ "embed"
	"net/http"
	"slices"

	"github.com/pocketbase/pocketbase/core"
)

// confirmPage completes an email's link in a browser: it reads the action
// from its path and the token from its fragment and posts them to
// PocketBase's confirm endpoint, asking for a new password (a reset) or the
// current one (an email change) first. It calls nothing else.
//
//go:embed confirm.html
var confirmPage []byte

// registerPages serves GET ConfirmPath{action} for each of Actions; any
// other action is a 404 like any unknown path.
func registerPages(app core.App) {
	app.OnServe().BindFunc(func(e *core.ServeEvent) error {
		e.Router.GET(ConfirmPath+"{action}", func(re *core.RequestEvent) error {
			if !slices.Contains(Actions, re.Request.PathValue("action")) {
				return re.NotFoundError("", nil)
			}
			re.Response.Header().Set("Content-Security-Policy", "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'self'; form-action 'none'; base-uri 'none'; frame-ancestors 'none'")
			re.Response.Header().Set("Referrer-Policy", "no-referrer")
			re.Response.Header().Set("Cache-Control", "no-store")
			return re.Blob(http.StatusOK, "text/html; charset=utf-8", confirmPage)
		})
		return e.Next()
	})
}
