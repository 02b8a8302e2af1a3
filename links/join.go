package links

import (
	"html/template"
	"net/http"
	"net/url"
	"regexp"

	"github.com/crews/hearth/collections"

	"github.com/pocketbase/pocketbase/core"
)

// joinPage serves /join/{code}.
type joinPage struct {
	app   core.App
	cfg   Config
	limit *limiter
}

// codeShape is what an invite code can look like (collections' codes are
// 12 characters of [A-Z0-9]; a typed one may be lower case); anything else
// is looked up as the empty code, which matches no invite, so that a
// malformed code costs the same lookup as a well-formed unknown one.
var codeShape = regexp.MustCompile(`^[A-Za-z0-9]{1,64}$`)

// page is what the template shows: Crew is empty for a code that does not work.
type page struct {
	Crew    string
	AppLink template.URL
}

var pageTemplate = template.Must(template.New("join").Parse(`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">
<title>{{if .Crew}}Join {{.Crew}} on Crews{{else}}Crews invite{{end}}</title>
</head>
<body>
<main>
{{if .Crew}}<h1>Join {{.Crew}} on Crews</h1>
<p><a id="open" href="{{.AppLink}}">Open in the Crews app</a></p>
<p>No Crews app on this phone? Install Crews from the App Store or Google Play, then open this link again.</p>
{{else}}<h1>This invite link does not work</h1>
<p>It may have expired or been used up. Ask the crew for a new one.</p>
{{end}}</main>
</body>
</html>
`))

func (p *joinPage) serve(e *core.RequestEvent) error {
	if !p.limit.allow(e.RealIP()) {
		return e.TooManyRequestsError("Too many invite pages opened from this address: try again in a minute.", nil)
	}
	code := e.Request.PathValue("code")
	if !codeShape.MatchString(code) {
		code = ""
	}
	view := page{}
	if inv, group, err := collections.UsableInvite(p.app, code, p.cfg.Now()); err == nil {
		view.Crew = group.Name()
		// template.URL: html/template allows only http(s) and mailto
		// links; the scheme is checked by config (HEARTH_APP_SCHEME), and
		// the code is the stored one, escaped.
		view.AppLink = template.URL(p.cfg.Scheme + "://join/" + url.PathEscape(inv.Code()))
	} else if collections.ErrorCode(err) == "" && !collections.IsNotFound(err) {
		// Not a refusal (unknown, expired, used up): the database failed.
		return collections.APIError(err)
	}
	h := e.Response.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	// The page of a valid code names a crew: not for shared caches.
	h.Set("Cache-Control", "private, no-store")
	h.Set("Referrer-Policy", "no-referrer")
	e.Response.WriteHeader(http.StatusOK)
	return pageTemplate.Execute(e.Response, view)
}
