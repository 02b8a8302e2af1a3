package links

import (
	"net/http"
	"time"

	"github.com/pocketbase/pocketbase/core"
)

// DefaultScheme is the example app's URL scheme (examples/crews-app/app.json).
const DefaultScheme = "crews"

// DefaultPerMinute is how many invite pages one client IP may open a minute.
const DefaultPerMinute = 30

// Config holds the settings of the app links.
type Config struct {
	// IOSAppID is the iOS app's "<team id>.<bundle id>" (HEARTH_IOS_APP_ID).
	IOSAppID string
	// AndroidPackage is the Android app's package name (HEARTH_ANDROID_PACKAGE).
	AndroidPackage string
	// AndroidCertSHA256 are the SHA-256 fingerprints of the certificates
	// the Android app is signed with (HEARTH_ANDROID_CERT_SHA256).
	AndroidCertSHA256 []string
	// Scheme is the app's URL scheme (HEARTH_APP_SCHEME); DefaultScheme when empty.
	Scheme string
	// PerMinute bounds the invite pages one client IP opens a minute;
	// DefaultPerMinute when zero.
	PerMinute int
	// Now is the clock of invite expiry and of the rate limit; nil means time.Now.
	Now func() time.Time
}

// The routes, named once for the router and the tests.
const (
	AppleAssociationPath = "/.well-known/apple-app-site-association"
	AssetLinksPath       = "/.well-known/assetlinks.json"
	JoinPath             = "/join/{code}"
)

// Register serves the app-link files and the invite page on app's router.
func Register(app core.App, cfg Config) {
	if cfg.Scheme == "" {
		cfg.Scheme = DefaultScheme
	}
	if cfg.PerMinute == 0 {
		cfg.PerMinute = DefaultPerMinute
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	apple := appleAssociation(cfg)
	android := assetLinks(cfg)
	page := &joinPage{app: app, cfg: cfg, limit: newLimiter(cfg.PerMinute, time.Minute, cfg.Now)}
	app.OnServe().BindFunc(func(e *core.ServeEvent) error {
		e.Router.GET(AppleAssociationPath, serveJSON(apple))
		e.Router.GET(AssetLinksPath, serveJSON(android))
		e.Router.GET(JoinPath, page.serve)
		return e.Next()
	})
}

// serveJSON answers body as JSON, or 404 when there is none (the setting
// is absent).
func serveJSON(body []byte) func(*core.RequestEvent) error {
	return func(e *core.RequestEvent) error {
		if body == nil {
			return e.NotFoundError("", nil)
		}
		e.Response.Header().Set("Content-Type", "application/json")
		e.Response.WriteHeader(http.StatusOK)
		_, err := e.Response.Write(body)
		return err
	}
}
