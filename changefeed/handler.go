package changefeed

import (
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/crews/hearth/metrics"
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

func handleSync(e *core.RequestEvent) error {
	req, err := parseRequest(e.Request.URL.Query())
	if err != nil {
		return err
	}
	page, err := Sync(e.App, e.Auth, req)
	var gone *GoneError
	if errors.As(err, &gone) {
		return router.NewApiError(http.StatusGone, gone.Error(), validation.Errors{
			"cursor": validation.NewError("sync_cursor_gone", "Resync from cursor 0."),
		})
	}
	if err != nil {
		return e.InternalServerError("Sync failed.", err)
	}
	if err := enrich(e, page); err != nil {
		return e.InternalServerError("Sync failed.", err)
	}
	metrics.SyncPage(e.App, len(page.Changes))
	return e.JSON(http.StatusOK, page)
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

// parseRequest validates the query parameters; every bad one is named in
// the 400 response.
func parseRequest(q map[string][]string) (Request, error) {
	get := func(name string) (string, bool) {
		v, ok := q[name]
		if !ok || len(v) == 0 {
			return "", false
		}
		return v[0], true
	}
	req := Request{Collections: Synced, Limit: DefaultLimit}
	errs := validation.Errors{}

	if v, ok := get("cursor"); !ok {
		errs["cursor"] = validation.NewError("validation_required", "cursor is required: 0 for a full sync, else the cursor of the last page.")
	} else if n, err := strconv.ParseInt(v, 10, 64); err != nil || n < 0 {
		errs["cursor"] = validation.NewError("validation_invalid_cursor", fmt.Sprintf("cursor %q is not a non-negative integer.", v))
	} else {
		req.Cursor = n
	}

	if v, ok := get("collections"); ok {
		req.Collections = nil
		for _, name := range strings.Split(v, ",") {
			name = strings.TrimSpace(name)
			if !slices.Contains(Synced, name) {
				errs["collections"] = validation.NewError("validation_unknown_collection",
					fmt.Sprintf("%q is not a synced collection (%s).", name, strings.Join(Synced, ", ")))
				break
			}
			if !slices.Contains(req.Collections, name) {
				req.Collections = append(req.Collections, name)
			}
		}
	}

	if v, ok := get("limit"); ok {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > MaxLimit {
			errs["limit"] = validation.NewError("validation_invalid_limit", fmt.Sprintf("limit %q is not an integer from 1 to %d.", v, MaxLimit))
		} else {
			req.Limit = n
		}
	}

	if len(errs) > 0 {
		return req, router.NewBadRequestError("Invalid sync parameters.", errs)
	}
	return req, nil
}
