package realtime

// The declarations in this file are PocketBase v0.40.4's own, unexported
// there (apis/realtime.go, apis/record_helpers.go), copied so that Hearth's
// deliveries decide and shape records exactly as PocketBase's broadcast
// does. They are copied verbatim, comments included, so that a diff against
// upstream shows only what upstream changed; Hearth's callers adapt to them.
//
// Each carries a directive naming its source:
//
//	// copied verbatim from pocketbase@VERSION FILE NAME
//	// statements from "FIRST" to "NEXT"    (a part of NAME's body only)
//	// renames: upstream->copy, ...         (when a name must differ here)
//
// TestCopiesMatchPocketBase compares each with the source of the
// PocketBase version go.mod pins and names what differs; on an upgrade,
// re-copy what it names and update VERSION. TestPayloadsMatchPocketBase
// checks the result against PocketBase's own broadcast, and
// scripts/realtime-mutants.sh shows that it catches bugs planted here
// (docs/testing.md).

import (
	"encoding/json/v2"
	"fmt"
	"log/slog"
	"strings"

	"github.com/pocketbase/dbx"
	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tools/picker"
	"github.com/pocketbase/pocketbase/tools/router"
	"github.com/pocketbase/pocketbase/tools/search"
	"github.com/pocketbase/pocketbase/tools/subscriptions"
)

// realtimeRecordData is the part of realtimeBroadcastRecord that shapes
// the message data of one subscription whose rule and filter admitted the
// record: a fresh copy, hidden fields for superusers, the enrich hooks with
// expand and the auth email rule inside them, the fields option, JSON.
// Upstream these statements sit in the loop over a client's subscriptions,
// where "continue" drops the subscription; here they run in a loop of one
// iteration so that they stay verbatim, and a "continue" reports ok false.
//
// copied verbatim from pocketbase@v0.40.4 apis/realtime.go realtimeBroadcastRecord
// statements from "cleanRecord := record.Fresh()" to "msg := subscriptions.Message{"
func realtimeRecordData(app core.App, accessCheckApp core.App, action string, record *core.Record, collection *core.Collection, clientAuth *core.Record, requestInfo *core.RequestInfo, sub string, options subscriptions.SubscriptionOptions) ([]byte, bool) {
	for range 1 {
		cleanRecord := record.Fresh()

		// -------------------------------------------
		// @todo consider with the refactoring whether
		// the default enriching used by the regular APIs
		// can be reused here too to avoid eventual future
		// discrepencies in the record event data
		//
		// https://github.com/pocketbase/pocketbase/issues/7721
		// -------------------------------------------

		// enable hidden fields for superuser subscribers
		if requestInfo.HasSuperuserAuth() {
			cleanRecord.Unhide(collection.Fields.FieldNames()...)
		}

		// trigger the enrich hooks
		enrichErr := triggerRecordEnrichHooks(app, requestInfo, []*core.Record{cleanRecord}, func() error {
			// apply expand
			rawExpand := options.Query[expandQueryParam]
			if rawExpand != "" {
				expandErrs := app.ExpandRecord(cleanRecord, strings.Split(rawExpand, ","), expandFetch(app, requestInfo))
				if len(expandErrs) > 0 {
					app.Logger().Debug(
						"[broadcastRecord] expand errors",
						slog.String("id", cleanRecord.Id),
						slog.String("collectionName", cleanRecord.Collection().Name),
						slog.String("sub", sub),
						slog.String("expand", rawExpand),
						slog.Any("errors", expandErrs),
					)
				}
			}

			// ignore the auth record email visibility checks
			// for auth owner, superuser or manager
			if collection.IsAuth() {
				if isSameAuth(clientAuth, cleanRecord) ||
					realtimeCanAccessRecord(accessCheckApp, cleanRecord, requestInfo, collection.ManageRule) {
					cleanRecord.IgnoreEmailVisibility(true)
				}
			}

			return nil
		})
		if enrichErr != nil {
			app.Logger().Debug(
				"[broadcastRecord] record enrich error",
				slog.String("id", cleanRecord.Id),
				slog.String("collectionName", cleanRecord.Collection().Name),
				slog.String("sub", sub),
				slog.Any("error", enrichErr),
			)
			continue
		}

		data := &recordData{
			Action: action,
			Record: cleanRecord,
		}

		// check fields
		rawFields := options.Query[fieldsQueryParam]
		if rawFields != "" {
			decoded, err := picker.Pick(cleanRecord, rawFields)
			if err == nil {
				data.Record = decoded
			} else {
				app.Logger().Debug(
					"[broadcastRecord] pick fields error",
					slog.String("id", cleanRecord.Id),
					slog.String("collectionName", cleanRecord.Collection().Name),
					slog.String("sub", sub),
					slog.String("fields", rawFields),
					slog.String("error", err.Error()),
				)
			}
		}

		dataBytes, err := json.Marshal(data)
		if err != nil {
			app.Logger().Debug(
				"[broadcastRecord] data marshal error",
				slog.String("id", cleanRecord.Id),
				slog.String("collectionName", cleanRecord.Collection().Name),
				slog.String("error", err.Error()),
			)
			continue
		}

		return dataBytes, true
	}
	return nil, false
}

// recordData represents the broadcasted record subscrition message data.
//
// copied verbatim from pocketbase@v0.40.4 apis/realtime.go recordData
type recordData struct {
	Record any    `json:"record"` /* map or core.Record */
	Action string `json:"action"`
}

// isSameAuth reports whether the two auth records are the same one.
//
// copied verbatim from pocketbase@v0.40.4 apis/realtime.go isSameAuth
func isSameAuth(authA, authB *core.Record) bool {
	if authA == nil {
		return authB == nil
	}

	if authB == nil {
		return false
	}

	return authA.Id == authB.Id && authA.Collection().Id == authB.Collection().Id
}

// realtimeCanAccessRecord checks if the subscription client has access to the specified record model.
//
// copied verbatim from pocketbase@v0.40.4 apis/realtime.go realtimeCanAccessRecord
func realtimeCanAccessRecord(
	app core.App,
	record *core.Record,
	requestInfo *core.RequestInfo,
	accessRule *string,
) bool {
	// check the access rule
	// ---
	if ok, _ := app.CanAccessRecord(record, requestInfo, accessRule); !ok {
		return false
	}

	// check the subscription client-side filter (if any)
	// ---
	filter := requestInfo.Query[search.FilterQueryParam]
	if filter == "" {
		return true // no further checks needed
	}

	err := checkForSuperuserOnlyRuleFields(requestInfo)
	if err != nil {
		return false
	}

	var exists int

	q := app.ConcurrentDB().Select("(1)").
		From(record.Collection().Name).
		AndWhere(dbx.HashExp{record.Collection().Name + ".id": record.Id})

	resolver := core.NewRecordFieldResolver(app, record.Collection(), requestInfo, false)
	expr, err := search.FilterData(filter).BuildExpr(resolver)
	if err != nil {
		return false
	}

	q.AndWhere(expr)

	err = resolver.UpdateQuery(q)
	if err != nil {
		return false
	}

	err = q.Limit(1).Row(&exists)

	return err == nil && exists > 0
}

// The query parameters of the copies below.
//
// copied verbatim from pocketbase@v0.40.4 apis/record_helpers.go expandQueryParam
const (
	expandQueryParam = "expand"
	fieldsQueryParam = "fields"
)

// iterator walks the records of triggerRecordEnrichHooks.
//
// copied verbatim from pocketbase@v0.40.4 apis/record_helpers.go iterator
type iterator[T any] struct {
	items []T
	index int
}

// copied verbatim from pocketbase@v0.40.4 apis/record_helpers.go iterator.next
func (ri *iterator[T]) next() T {
	var item T

	if ri.index < len(ri.items) {
		item = ri.items[ri.index]
		ri.index++
	}

	return item
}

// triggerRecordEnrichHooks runs the OnRecordEnrich hooks for each record, nested,
// then finalizer inside the innermost.
//
// copied verbatim from pocketbase@v0.40.4 apis/record_helpers.go triggerRecordEnrichHooks
func triggerRecordEnrichHooks(app core.App, requestInfo *core.RequestInfo, records []*core.Record, finalizer func() error) error {
	it := iterator[*core.Record]{items: records}

	enrichHook := app.OnRecordEnrich()

	event := new(core.RecordEnrichEvent)
	event.App = app
	event.RequestInfo = requestInfo

	var iterate func(record *core.Record) error
	iterate = func(record *core.Record) error {
		if record == nil {
			return nil
		}

		event.Record = record

		return enrichHook.Trigger(event, func(ee *core.RecordEnrichEvent) error {
			next := it.next()
			if next == nil {
				if finalizer != nil {
					return finalizer()
				}
				return nil
			}

			event.App = ee.App // in case it was replaced with a transaction
			event.Record = next

			err := iterate(next)

			event.App = app
			event.Record = record

			return err
		})
	}

	return iterate(it.next())
}

// expandFetch is the records fetch function that is used to expand related records.
//
// copied verbatim from pocketbase@v0.40.4 apis/record_helpers.go expandFetch
func expandFetch(app core.App, originalRequestInfo *core.RequestInfo) core.ExpandFetchFunc {
	// shallow clone the provided request info to set an "expand" context
	requestInfoClone := *originalRequestInfo
	requestInfoPtr := &requestInfoClone
	requestInfoPtr.Context = core.RequestInfoContextExpand

	return func(relCollection *core.Collection, relIds []string) ([]*core.Record, error) {
		records, findErr := app.FindRecordsByIds(relCollection.Id, relIds, func(q *dbx.SelectQuery) error {
			if requestInfoPtr.Auth != nil && requestInfoPtr.Auth.IsSuperuser() {
				return nil // superusers can access everything
			}

			if relCollection.ViewRule == nil {
				return fmt.Errorf("only superusers can view collection %q records", relCollection.Name)
			}

			if *relCollection.ViewRule != "" {
				resolver := core.NewRecordFieldResolver(app, relCollection, requestInfoPtr, true)

				expr, err := search.FilterData(*(relCollection.ViewRule)).BuildExpr(resolver)
				if err != nil {
					return err
				}

				q.AndWhere(expr)

				err = resolver.UpdateQuery(q)
				if err != nil {
					return err
				}
			}

			return nil
		})
		if findErr != nil {
			return nil, findErr
		}

		enrichErr := triggerRecordEnrichHooks(app, requestInfoPtr, records, func() error {
			if err := autoResolveRecordsFlags(app, records, requestInfoPtr); err != nil {
				// non-critical error
				app.Logger().Warn("Failed to apply autoResolveRecordsFlags for the expanded records", "error", err)
			}

			return nil
		})
		if enrichErr != nil {
			return nil, enrichErr
		}

		return records, nil
	}
}

// autoResolveRecordsFlags resolves various visibility flags of the provided records.
//
// Currently it enables:
// - export of hidden fields if the current auth model is a superuser
// - email export ignoring the emailVisibity checks if the current auth model is superuser, owner or a "manager".
//
// Note: Expects all records to be from the same collection!
//
// copied verbatim from pocketbase@v0.40.4 apis/record_helpers.go autoResolveRecordsFlags
func autoResolveRecordsFlags(app core.App, records []*core.Record, requestInfo *core.RequestInfo) error {
	if len(records) == 0 {
		return nil // nothing to resolve
	}

	if requestInfo.HasSuperuserAuth() {
		hiddenFields := records[0].Collection().Fields.FieldNames()
		for _, rec := range records {
			rec.Unhide(hiddenFields...)
			rec.IgnoreEmailVisibility(true)
		}
	}

	// additional emailVisibility checks
	// ---------------------------------------------------------------
	if !records[0].Collection().IsAuth() {
		return nil // not auth collection records
	}

	collection := records[0].Collection()

	mappedRecords := make(map[string]*core.Record, len(records))
	recordIds := make([]any, len(records))
	for i, rec := range records {
		mappedRecords[rec.Id] = rec
		recordIds[i] = rec.Id
	}

	if requestInfo.Auth != nil && mappedRecords[requestInfo.Auth.Id] != nil {
		mappedRecords[requestInfo.Auth.Id].IgnoreEmailVisibility(true)
	}

	if collection.ManageRule == nil || *collection.ManageRule == "" {
		return nil // no manage rule to check
	}

	// fetch the ids of the managed records
	// ---
	managedIds := []string{}

	query := app.RecordQuery(collection).
		Select(app.ConcurrentDB().QuoteSimpleColumnName(collection.Name) + ".id").
		AndWhere(dbx.In(app.ConcurrentDB().QuoteSimpleColumnName(collection.Name)+".id", recordIds...))

	resolver := core.NewRecordFieldResolver(app, collection, requestInfo, true)
	expr, err := search.FilterData(*collection.ManageRule).BuildExpr(resolver)
	if err != nil {
		return err
	}

	query.AndWhere(expr)

	err = resolver.UpdateQuery(query)
	if err != nil {
		return err
	}

	err = query.Column(&managedIds)
	if err != nil {
		return err
	}
	// ---

	// ignore the email visibility check for the managed records
	for _, id := range managedIds {
		if rec, ok := mappedRecords[id]; ok {
			rec.IgnoreEmailVisibility(true)
		}
	}

	return nil
}

// The query parameters checkForSuperuserOnlyRuleFields reads.
//
// copied verbatim from pocketbase@v0.40.4 apis/record_helpers.go ruleQueryParams
var ruleQueryParams = []string{search.FilterQueryParam, search.SortQueryParam}

// The filter prefixes only superusers may use.
//
// copied verbatim from pocketbase@v0.40.4 apis/record_helpers.go superuserOnlyRuleFields
var superuserOnlyRuleFields = []string{"@collection.", "@request."}

// checkForSuperuserOnlyRuleFields loosely checks and returns an error if
// the provided RequestInfo contains rule fields that only the superuser can use.
//
// copied verbatim from pocketbase@v0.40.4 apis/record_helpers.go checkForSuperuserOnlyRuleFields
func checkForSuperuserOnlyRuleFields(requestInfo *core.RequestInfo) error {
	if len(requestInfo.Query) == 0 || requestInfo.HasSuperuserAuth() {
		return nil // superuser or nothing to check
	}

	for _, param := range ruleQueryParams {
		v := requestInfo.Query[param]
		if v == "" {
			continue
		}

		for _, field := range superuserOnlyRuleFields {
			if strings.Contains(v, field) {
				return router.NewForbiddenError("Only superusers can filter by "+field, nil)
			}
		}
	}

	return nil
}
