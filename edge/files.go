package edge

import (
	"strconv"

	"github.com/crews/hearth/collections"

	"github.com/pocketbase/pocketbase/core"
)

// registerFileCaching keeps protected files (avatars, covers, attachments)
// out of shared caches. PocketBase answers every file with
// "Cache-Control: max-age=2592000, stale-while-revalidate=86400", which
// lets a proxy or CDN keep a protected file under its URL, token included,
// for 30 days and serve it to whoever presents that URL: long after the
// token expired (3 minutes) and after its user left the crew, was disabled
// or was deleted, when Hearth itself answers 404 (found by the file token
// probes, edge/filetokens_test.go). A protected file is answered
// "private", kept by the client that fetched it no longer than the file
// token that fetched it is valid (the users' file token lifetime).
// PocketBase sets its header only when none is set, so this one stands.
func registerFileCaching(app core.App) {
	app.OnFileDownloadRequest().BindFunc(func(e *core.FileDownloadRequestEvent) error {
		if e.FileField == nil || !e.FileField.Protected {
			return e.Next()
		}
		maxAge := 0
		if users, err := e.App.FindCachedCollectionByNameOrId(collections.Users); err == nil {
			maxAge = int(users.FileToken.Duration)
		}
		e.Response.Header().Set("Cache-Control", "private, max-age="+strconv.Itoa(maxAge))
		return e.Next()
	})
}
