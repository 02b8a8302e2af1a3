package changefeed

import (
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"

	validation "github.com/pocketbase/ozzo-validation/v4"
	"github.com/pocketbase/pocketbase/apis"
	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tools/router"
)

// Page sizes, in log entries.
const (
	DefaultLimit = 200
	MaxLimit     = 1000
)

// pageJSON is a Page as a client receives it: the cursor sealed.
type pageJSON struct {
	Cursor  string   `json:"cursor"`
	More    bool     `json:"more"`
	Changes []Change `json:"changes"`
}

// handleSync is GET /api/sync, with s sealing and opening the cursors.
func handleSync(e *core.RequestEvent, s *sealer) error {
	req, err := parseRequest(e.Request.URL.Query(), s)
	if err != nil {
		return err
	}
	page, err := Sync(e.App, e.Auth, req)
	var gone *GoneError
	var apiErr *router.ApiError
	switch {
	case errors.As(err, &gone):
		return goneError(gone.Error())
	case errors.As(err, &apiErr):
		return apiErr
	case err != nil:
		return e.InternalServerError("Sync failed.", err)
	}
	if err := enrich(e, page); err != nil {
		return e.InternalServerError("Sync failed.", err)
	}
	metricsOf(e.App).changes.Observe(float64(len(page.Changes)))
	return e.JSON(http.StatusOK, pageJSON{Cursor: s.seal(page.Cursor), More: page.More, Changes: page.Changes})
}

// goneError is the 410 that tells a client to clear its store and resync.
func goneError(message string) *router.ApiError {
	return router.NewApiError(http.StatusGone, message, validation.Errors{
		"cursor": validation.NewError("sync_cursor_gone", "Resync from cursor 0."),
	})
}

// enrich serializes the page's records for the caller as the records API
// would (hidden fields, the email rule of collections/users.go), one
// collection at a time.
func enrich(e *core.RequestEvent, page *Page) error {
	byCollection := map[string][]*core.Record{}
	for _, c := range page.Changes {
		if c.Record != nil {
			byCollection[c.Collection] = append(byCollection[c.Collection], c.Record)
		}
	}
	for name, records := range byCollection {
		if err := apis.EnrichRecords(e, records); err != nil {
			return fmt.Errorf("sync: serialize %s: %w", name, err)
		}
	}
	return nil
}

// parseRequest validates the query parameters (docs/sync.md lists every
// answer); every bad one is named in the 400 response. An empty value is
// a fault, not the default: it is what a client sends when a variable it
// meant to fill is empty. A cursor of another protocol version, or one
// this data dir did not seal, is a 410, so that clients holding one
// resync instead of failing.
func parseRequest(q map[string][]string, s *sealer) (Request, error) {
	get := func(name string) (string, bool) {
		v, ok := q[name]
		if !ok || len(v) == 0 {
			return "", false
		}
		return v[0], true
	}
	req := Request{Limit: DefaultLimit}
	errs := validation.Errors{}

	if v, ok := get("cursor"); !ok || v == "" {
		errs["cursor"] = validation.NewError("validation_required", "cursor is required: 0 for a full sync, else the cursor of the last page.")
	} else if c, err := s.open(v); err != nil {
		var legacy *LegacyCursorError
		var gone *GoneError
		switch {
		case errors.As(err, &legacy):
			return req, goneError(legacy.Error() + ": resync from cursor 0")
		case errors.As(err, &gone):
			return req, goneError(gone.Error())
		}
		errs["cursor"] = validation.NewError("validation_invalid_cursor", err.Error()+": send 0 or the cursor of the last page, unchanged.")
	} else {
		req.Cursor = c
	}

	if v, ok := get("collections"); ok {
		names, err := parseCollections(v)
		if err != nil {
			errs["collections"] = err
		}
		req.Collections = names
	}

	if v, ok := get("limit"); ok {
		n, err := strconv.Atoi(v)
		switch {
		case v == "":
			errs["limit"] = validation.NewError("validation_invalid_limit", fmt.Sprintf("limit is empty: omit it for the default (%d), or send an integer from 1 to %d.", DefaultLimit, MaxLimit))
		case err != nil || n < 1 || n > MaxLimit:
			errs["limit"] = validation.NewError("validation_invalid_limit", fmt.Sprintf("limit %q is not an integer from 1 to %d.", v, MaxLimit))
		default:
			req.Limit = n
		}
	}

	if len(errs) > 0 {
		return req, router.NewBadRequestError("Invalid sync parameters.", errs)
	}
	return req, nil
}

// parseCollections reads a comma-separated set of synced collections;
// spaces around a name, order and repeats do not matter.
func parseCollections(v string) ([]string, error) {
	if strings.TrimSpace(v) == "" {
		return nil, validation.NewError("validation_unknown_collection",
			fmt.Sprintf("collections is empty: omit it for every synced collection, or name some of %s.", strings.Join(Synced, ", ")))
	}
	var names []string
	for _, name := range strings.Split(v, ",") {
		name = strings.TrimSpace(name)
		if !slices.Contains(Synced, name) {
			return nil, validation.NewError("validation_unknown_collection",
				fmt.Sprintf("%q is not a synced collection (%s).", name, strings.Join(Synced, ", ")))
		}
		if !slices.Contains(names, name) {
			names = append(names, name)
		}
	}
	return names, nil
}
