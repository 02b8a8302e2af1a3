package realtime

// The functions in this file are PocketBase v0.40.4's own (apis/realtime.go
// and apis/record_helpers.go), unexported there, copied so that Hearth's
// deliveries decide and shape records exactly as PocketBase's broadcast
// does. TestPayloadsMatchPocketBase compares the two paths on the same
// changes; revisit this file when PocketBase is upgraded.

import (
	"fmt"
	"strings"

	"github.com/pocketbase/dbx"
	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tools/search"
)

// canAccessRecord is realtimeCanAccessRecord: the rule, then the
// subscription's filter in a query of its own.
func canAccessRecord(app core.App, record *core.Record, info *core.RequestInfo, rule *string) bool {
	if ok, _ := app.CanAccessRecord(record, info, rule); !ok {
		return false
	}
	filter := info.Query[search.FilterQueryParam]
	if filter == "" {
		return true
	}
	if superuserOnlyRuleFields(info) {
		return false
	}
	var exists int
	q := app.ConcurrentDB().Select("(1)").
		From(record.Collection().Name).
		AndWhere(dbx.HashExp{record.Collection().Name + ".id": record.Id})
	resolver := core.NewRecordFieldResolver(app, record.Collection(), info, false)
	expr, err := search.FilterData(filter).BuildExpr(resolver)
	if err != nil {
		return false
	}
	q.AndWhere(expr)
	if err := resolver.UpdateQuery(q); err != nil {
		return false
	}
	err = q.Limit(1).Row(&exists)
	return err == nil && exists > 0
}

// superuserOnlyRuleFields is checkForSuperuserOnlyRuleFields.
func superuserOnlyRuleFields(info *core.RequestInfo) bool {
	if len(info.Query) == 0 || info.HasSuperuserAuth() {
		return false
	}
	for _, param := range []string{search.FilterQueryParam, search.SortQueryParam} {
		v := info.Query[param]
		for _, field := range []string{"@collection.", "@request."} {
			if v != "" && strings.Contains(v, field) {
				return true
			}
		}
	}
	return false
}

// triggerEnrich is triggerRecordEnrichHooks for one record.
func triggerEnrich(app core.App, info *core.RequestInfo, record *core.Record, finalizer func() error) error {
	return triggerEnrichAll(app, info, []*core.Record{record}, finalizer)
}

func triggerEnrichAll(app core.App, info *core.RequestInfo, records []*core.Record, finalizer func() error) error {
	hook := app.OnRecordEnrich()
	event := new(core.RecordEnrichEvent)
	event.App = app
	event.RequestInfo = info
	i := 0
	var iterate func(record *core.Record) error
	iterate = func(record *core.Record) error {
		event.Record = record
		return hook.Trigger(event, func(ee *core.RecordEnrichEvent) error {
			i++
			if i >= len(records) {
				if finalizer != nil {
					return finalizer()
				}
				return nil
			}
			next := records[i]
			event.App = ee.App
			err := iterate(next)
			event.App = app
			event.Record = record
			return err
		})
	}
	if len(records) == 0 {
		return nil
	}
	return iterate(records[0])
}

// expandFetch fetches expanded relations through the viewer's view rules.
func expandFetch(app core.App, original *core.RequestInfo) core.ExpandFetchFunc {
	clone := *original
	info := &clone
	info.Context = core.RequestInfoContextExpand
	return func(relCollection *core.Collection, relIds []string) ([]*core.Record, error) {
		records, err := app.FindRecordsByIds(relCollection.Id, relIds, func(q *dbx.SelectQuery) error {
			if info.Auth != nil && info.Auth.IsSuperuser() {
				return nil
			}
			if relCollection.ViewRule == nil {
				return fmt.Errorf("only superusers can view collection %q records", relCollection.Name)
			}
			if *relCollection.ViewRule != "" {
				resolver := core.NewRecordFieldResolver(app, relCollection, info, true)
				expr, err := search.FilterData(*relCollection.ViewRule).BuildExpr(resolver)
				if err != nil {
					return err
				}
				q.AndWhere(expr)
				return resolver.UpdateQuery(q)
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
		err = triggerEnrichAll(app, info, records, func() error {
			if err := autoResolveRecordsFlags(app, records, info); err != nil {
				app.Logger().Warn("realtime: autoResolveRecordsFlags of expanded records", "error", err)
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
		return records, nil
	}
}

// autoResolveRecordsFlags shows hidden fields to superusers and emails to
// their owner, superusers and managers.
func autoResolveRecordsFlags(app core.App, records []*core.Record, info *core.RequestInfo) error {
	if len(records) == 0 {
		return nil
	}
	if info.HasSuperuserAuth() {
		hidden := records[0].Collection().Fields.FieldNames()
		for _, r := range records {
			r.Unhide(hidden...)
			r.IgnoreEmailVisibility(true)
		}
	}
	collection := records[0].Collection()
	if !collection.IsAuth() {
		return nil
	}
	byID := make(map[string]*core.Record, len(records))
	ids := make([]any, len(records))
	for i, r := range records {
		byID[r.Id] = r
		ids[i] = r.Id
	}
	if info.Auth != nil && byID[info.Auth.Id] != nil {
		byID[info.Auth.Id].IgnoreEmailVisibility(true)
	}
	if collection.ManageRule == nil || *collection.ManageRule == "" {
		return nil
	}
	var managed []string
	table := app.ConcurrentDB().QuoteSimpleColumnName(collection.Name)
	query := app.RecordQuery(collection).Select(table + ".id").AndWhere(dbx.In(table+".id", ids...))
	resolver := core.NewRecordFieldResolver(app, collection, info, true)
	expr, err := search.FilterData(*collection.ManageRule).BuildExpr(resolver)
	if err != nil {
		return err
	}
	query.AndWhere(expr)
	if err := resolver.UpdateQuery(query); err != nil {
		return err
	}
	if err := query.Column(&managed); err != nil {
		return err
	}
	for _, id := range managed {
		if r, ok := byID[id]; ok {
			r.IgnoreEmailVisibility(true)
		}
	}
	return nil
}

// isSameAuth reports whether a and b are the same auth record.
func isSameAuth(a, b *core.Record) bool {
	if a == nil {
		return b == nil
	}
	if b == nil {
		return false
	}
	return a.Id == b.Id && a.Collection().Id == b.Collection().Id
}
