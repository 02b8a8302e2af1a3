package firebase

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"runtime/debug"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/crews/hearth/collections"
	"github.com/pocketbase/dbx"
	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tools/filesystem"
	"github.com/pocketbase/pocketbase/tools/types"
)

// DocOptions tune ImportFirestore.
type DocOptions struct {
	// Mapping renames and skips collections and fields (nil: names decide).
	Mapping *Mapping
	// FilesDir is a copy of the Cloud Storage bucket (gsutil rsync
	// gs://bucket DIR); "" attaches no files.
	FilesDir string
	// DryRun reads, converts, checks and writes everything in one
	// transaction that it rolls back.
	DryRun bool
	// Batch is the number of documents written per transaction
	// (DefaultDocBatch when 0).
	Batch int
	// DeferIndexesAfter is the number of documents read after which the
	// secondary indexes of the tables written are dropped and built once
	// at the end (indexes.go); 0 means 20,000, negative never.
	DeferIndexesAfter int
	// Progress receives progress output (nil for none).
	Progress io.Writer
	// Now is the clock (time.Now when nil).
	Now func() time.Time
}

// ImportFirestore writes the documents of r as records: each document to
// the record whose id derives from its path (idKey), so that a rerun
// updates what an earlier run wrote and a reference is written before the
// document it names is read. Each batch is one transaction. After the
// last document, references to documents that are not there are cleared
// or their records removed (relations.go), the domain's invariants are
// restored (owners, going counts, waitlists: invariants.go), and every
// record the run wrote is appended to the change log.
func ImportFirestore(app core.App, r DocReader, opts DocOptions) (*Report, error) {
	if opts.DryRun {
		var rep *Report
		err := dryRun(app, func(tx core.App) error {
			var err error
			rep, err = importDocs(tx, r, opts)
			return err
		})
		return rep, err
	}
	restore, err := tuneForImport(app)
	if err != nil {
		return nil, err
	}
	defer restore()
	return importDocs(app, r, opts)
}

// importPragmas are set on the connection that writes (RunInTransaction's,
// the app's nonconcurrent one) for the run, PocketBase's values restored
// after. temp_store: building the deferred indexes sorts every row of the
// tables, in temporary files rather than in memory, so that memory does
// not grow with the export. wal_autocheckpoint: the WAL is copied into the
// database every 200 MB (PocketBase's journal_size_limit) instead of every
// 4 MB, so that a page the run changes again and again is copied (and
// synced) fewer times. synchronous: OFF while importing, so that a
// commit does not wait for the disk; in WAL mode a killed import still leaves
// whole batches (only a power loss or an OS crash could lose or damage
// the last ones), and the WAL is synced by the checkpoint that ends the
// import (tuneForImport's restore). The end of the import also sizes
// the page cache for its index builds and lookups (pageCache).
var importPragmas = []struct{ name, value string }{
	{"temp_store", "FILE"},
	{"wal_autocheckpoint", "50000"},
	{"synchronous", "OFF"},
}

func tuneForImport(app core.App) (restore func(), err error) {
	db := app.NonconcurrentDB()
	var was []string
	restore = func() {
		// Failing, it leaves only this connection tuned for an import
		// until it is closed.
		for i, v := range was {
			_, _ = db.NewQuery(fmt.Sprintf("PRAGMA %s = %s", importPragmas[i].name, v)).Execute()
		}
		// With synchronous back to PocketBase's NORMAL, a checkpoint
		// syncs the WAL the import wrote unsynced, then the database.
		// PASSIVE: beside a running server it waits for no reader.
		_, _ = db.NewQuery("PRAGMA wal_checkpoint(PASSIVE)").Execute()
	}
	for _, p := range importPragmas {
		var v string
		if err := db.NewQuery("PRAGMA " + p.name).Row(&v); err != nil {
			restore()
			return nil, fmt.Errorf("import documents: %s: %w", p.name, err)
		}
		if _, err := db.NewQuery(fmt.Sprintf("PRAGMA %s = %s", p.name, p.value)).Execute(); err != nil {
			restore()
			return nil, fmt.Errorf("import documents: %s: %w", p.name, err)
		}
		was = append(was, v)
	}
	return restore, nil
}

type importer struct {
	app   core.App
	ids   *idKey
	opts  DocOptions
	res   *resolver
	rep   *Report
	run   int64
	now   types.DateTime
	fsys  *filesystem.System
	batch []*docRow
	// cacheWas is the import connection's cache_size when the run began
	// (pageCache).
	cacheWas string
	// phase writes a progress line for each step of the run (phases).
	phase func(step string)
	// wrote holds the collections this run wrote records to.
	wrote map[string]bool
	// empty holds, per collection the run wrote, whether its table had
	// no row before (fresh).
	empty map[string]bool
	// deferred holds the tables whose indexes this run has deferred.
	deferred map[string]bool
	// ignored counts, per collection and field, the Firestore fields that
	// went nowhere; skippedCollections, per Firestore collection id, the
	// documents of collections that were not imported.
	ignored            map[string]int
	skippedCollections map[string]int
	skipReasons        map[string]string
}

// docRow is one converted document, ready to write.
type docRow struct {
	path       string
	collection *core.Collection
	id         string
	values     map[string]any // column values
	created    bool           // the document sets the record's created time
	files      []*filesystem.File
	userUpdate bool // a users document: updates the imported user's own fields
}

// DefaultDocBatch is the documents written per transaction by default:
// on the generated million-document export, 10,000 wrote 40 % fewer
// bytes than 2,000 (a page changed by several documents of a batch is
// written once per commit) for about 20 MB more memory.
const DefaultDocBatch = 10000

func importDocs(app core.App, r DocReader, opts DocOptions) (*Report, error) {
	defer r.Close()
	if opts.Batch <= 0 {
		opts.Batch = DefaultDocBatch
	}
	if opts.DeferIndexesAfter == 0 {
		opts.DeferIndexesAfter = 20000
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	res, err := newResolver(app, opts.Mapping)
	if err != nil {
		return nil, err
	}
	key, err := loadIDKey(app)
	if err != nil {
		return nil, err
	}
	start := opts.Now()
	now, _ := types.ParseDateTime(start.UTC())
	im := &importer{app: app, ids: key, opts: opts, res: res, rep: newReport("documents", opts.DryRun), run: start.UnixNano(), now: now,
		ignored: map[string]int{}, skippedCollections: map[string]int{}, skipReasons: map[string]string{}, deferred: map[string]bool{}, wrote: map[string]bool{}, empty: map[string]bool{}}
	defer func() { im.rep.Elapsed = opts.Now().Sub(start) }()
	if opts.FilesDir != "" && !opts.DryRun {
		fsys, err := app.NewFilesystem()
		if err != nil {
			return nil, fmt.Errorf("import documents: files: %w", err)
		}
		defer fsys.Close()
		im.fsys = fsys
	}
	if !opts.DryRun {
		if err := app.NonconcurrentDB().NewQuery("PRAGMA cache_size").Row(&im.cacheWas); err != nil {
			return nil, fmt.Errorf("import documents: cache_size: %w", err)
		}
	}
	im.phase = im.phases()
	prog := newProgress(opts.Progress, "documents", 0)
	docs, stop := im.convertAhead(r)
	defer stop()
	for c := range docs {
		if c.err != nil {
			return im.rep, c.err
		}
		im.rep.Read++
		im.apply(c)
		if c.row != nil {
			im.batch = append(im.batch, c.row)
		}
		if len(im.batch) >= opts.Batch {
			if err := im.flush(); err != nil {
				return im.rep, err
			}
		}
		prog.update(im.rep.Read)
	}
	if err := im.flush(); err != nil {
		return im.rep, err
	}
	prog.done()
	im.phase(fmt.Sprintf("%d read and written", im.rep.Read))
	// The batches' memory is garbage now: hand it back to the system
	// before the end's index builds and page cache take theirs, so that
	// the peak is the larger of the two phases, not their sum.
	debug.FreeOSMemory()
	if err := im.finish(); err != nil {
		return im.rep, err
	}
	im.notes()
	return im.rep, nil
}

// converted is what convertAhead makes of one document: its row, or why
// it is not one, and what the report keeps of it, which the writer
// applies (apply) in the export's order.
type converted struct {
	row *docRow
	// skipCollection, skipReason: the document does not fit
	// (skipCollection "" when it never reached one, a line unread).
	skipCollection, skipWhere, skipReason string
	// leftOut is the Firestore collection id of a document whose
	// collection is not imported, for leftOutReason.
	leftOut, leftOutReason string
	// ignored are the "collection.field"s of Firestore fields that went
	// nowhere.
	ignored []string
	// err stops the import (the file cannot be read on).
	err error
}

// convertAhead reads and converts r's documents in a goroutine, a bounded
// number ahead of the writer: decoding, ids (HMAC), conversion and
// validation then run on the second core while the importer's one
// SQLite connection writes the batch before. The goroutine touches no
// database and no state of the writer's (the resolver's cache is its
// own); stop ends it when the writer stops early.
//
// It runs up to a whole batch ahead: while the writer commits a batch it
// reads nothing, and with a shorter buffer the converter would stop too
// (with 64, the writer waited for conversion a third of the load). A batch
// of converted documents is a few MB at the default size.
func (im *importer) convertAhead(r DocReader) (<-chan converted, func()) {
	out, done := make(chan converted, im.opts.Batch), make(chan struct{})
	go func() {
		defer close(out)
		for {
			var c converted
			d, err := r.Next()
			var row *RowError
			switch {
			case errors.Is(err, io.EOF):
				return
			case errors.As(err, &row):
				c.skipWhere, c.skipReason = row.Where, row.Reason
			case err != nil:
				c.err = err
			default:
				im.convert(d, &c)
			}
			select {
			case out <- c:
			case <-done:
				return
			}
			if c.err != nil {
				return
			}
		}
	}()
	var once sync.Once
	return out, func() { once.Do(func() { close(done) }) }
}

// apply records in the report what convert found about a document.
func (im *importer) apply(c converted) {
	if c.skipReason != "" {
		im.rep.skip(c.skipCollection, c.skipWhere, c.skipReason)
	}
	if c.leftOut != "" {
		im.skippedCollections[c.leftOut]++
		im.skipReasons[c.leftOut] = c.leftOutReason
	}
	for _, f := range c.ignored {
		im.ignored[f]++
	}
}

// convert turns d into c's row, or records in c why it cannot be one.
func (im *importer) convert(d *Doc, c *converted) {
	cid, parent := splitPath(d.Path)
	t := im.res.target(cid)
	if t.collection == nil {
		c.leftOut, c.leftOutReason = cid, t.reason
		return
	}
	col := t.collection
	dr := &docRow{path: d.Path, collection: col, id: im.ids.id(d.Path)}
	if col.Name == collections.Users {
		// A users document describes an imported user: the record is
		// the user's (found by uid, the document id), and only the
		// profile fields a user edits are taken from it.
		segs := strings.Split(d.Path, "/")
		dr.id, dr.userUpdate = im.ids.id(userPath(segs[len(segs)-1])), true
	}
	rec := core.NewRecord(col)
	rec.Id = dr.id
	var problems []string
	autodates := map[string]types.DateTime{}
	for name, v := range d.Fields {
		hf := t.field(name)
		if hf == "" {
			if t.mapping.Fields[name] != "-" {
				c.ignored = append(c.ignored, col.Name+"."+name)
			}
			continue
		}
		f := col.Fields.GetByName(hf)
		if dr.userUpdate && !userProfileField(f) {
			c.ignored = append(c.ignored, col.Name+"."+name)
			continue
		}
		val, err := im.value(t, f, v, dr)
		if err != nil {
			problems = append(problems, hf+": "+err.Error())
			continue
		}
		if _, ok := f.(*core.AutodateField); ok {
			// Record.Set ignores autodate fields: their value is the
			// column's, written below.
			if dt, ok := val.(types.DateTime); ok {
				autodates[hf] = dt
				dr.created = dr.created || hf == "created"
			}
			continue
		}
		rec.Set(hf, val)
	}
	if parent != "" && !dr.userUpdate {
		if field := im.parentField(t, parent); field != "" && rec.GetString(field) == "" {
			rec.Set(field, im.relationID(col, field, Ref(parent)))
		}
	}
	if len(problems) == 0 {
		problems = im.validate(rec, dr)
	}
	if len(problems) > 0 {
		sort.Strings(problems)
		c.skipCollection, c.skipWhere, c.skipReason = col.Name, d.Path, strings.Join(problems, "; ")
		return
	}
	values, err := rec.DBExport(im.app)
	if err != nil {
		c.skipCollection, c.skipWhere, c.skipReason = col.Name, d.Path, err.Error()
		return
	}
	for _, f := range col.Fields {
		if ad, ok := f.(*core.AutodateField); ok {
			values[ad.Name] = im.now.String()
			if dt, ok := autodates[ad.Name]; ok {
				values[ad.Name] = dt.String()
			}
		}
	}
	if dr.userUpdate {
		for k := range values {
			if f := col.Fields.GetByName(k); k != "id" && (f == nil || !userProfileField(f) || !mapped(t, d, k)) {
				delete(values, k)
			}
		}
	}
	dr.values = values
	c.row = dr
}

// userProfileField reports whether a users document may set f: the
// fields a user edits about themselves, never the account's (email,
// password, verification) or the import's own.
func userProfileField(f core.Field) bool {
	return f != nil && !f.GetSystem() && !f.GetHidden() && f.Type() != core.FieldTypeAutodate
}

// mapped reports whether the Hearth field k got a value from d.
func mapped(t *target, d *Doc, k string) bool {
	for name := range d.Fields {
		if t.field(name) == k {
			return true
		}
	}
	return false
}

// parentField is the relation field of t's collection that a
// subcollection document's parent goes to: the mapping's, or the one
// relation to the parent's collection.
func (im *importer) parentField(t *target, parent string) string {
	if t.mapping.Parent != "" {
		return t.mapping.Parent
	}
	pcid, _ := splitPath(parent)
	pt := im.res.target(pcid)
	if pt.collection == nil {
		return ""
	}
	var found []string
	for _, f := range t.collection.Fields {
		if rf, ok := f.(*core.RelationField); ok && rf.CollectionId == pt.collection.Id {
			found = append(found, rf.Name)
		}
	}
	if len(found) != 1 {
		return ""
	}
	return found[0]
}

// validate checks rec against its collection's schema the way a save
// would, except for relations, whose targets may come later in the
// export (relations.go checks them after the last document).
func (im *importer) validate(rec *core.Record, dr *docRow) []string {
	var problems []string
	ctx := context.Background()
	for _, f := range rec.Collection().Fields {
		switch f.(type) {
		case *core.AutodateField, *core.PasswordField:
			continue
		case *core.RelationField:
			if rf := f.(*core.RelationField); rf.Required && rec.GetString(rf.Name) == "" && len(rec.GetStringSlice(rf.Name)) == 0 {
				problems = append(problems, f.GetName()+": required relation missing")
			}
			continue
		}
		if dr.userUpdate && !userProfileField(f) {
			continue
		}
		if f.GetName() == core.FieldNameId {
			continue
		}
		if err := f.ValidateValue(ctx, im.app, rec); err != nil {
			problems = append(problems, f.GetName()+": "+err.Error())
		}
	}
	return problems
}

// value converts a Firestore value for the Hearth field f.
func (im *importer) value(t *target, f core.Field, v any, dr *docRow) (any, error) {
	if v == nil {
		return nil, nil
	}
	switch ff := f.(type) {
	case *core.TextField, *core.EmailField, *core.URLField, *core.EditorField:
		if s, ok := v.(string); ok {
			return s, nil
		}
		return nil, fmt.Errorf("expects text, the document has %s", kindOf(v))
	case *core.NumberField:
		if n, ok := v.(json.Number); ok {
			return n.Float64()
		}
		return nil, fmt.Errorf("expects a number, the document has %s", kindOf(v))
	case *core.BoolField:
		if b, ok := v.(bool); ok {
			return b, nil
		}
		return nil, fmt.Errorf("expects a boolean, the document has %s", kindOf(v))
	case *core.DateField, *core.AutodateField:
		switch d := v.(type) {
		case Timestamp:
			return types.ParseDateTime(time.Time(d))
		case string:
			dt, err := types.ParseDateTime(d)
			if err != nil || dt.IsZero() {
				return nil, fmt.Errorf("expects a date, %q is not one", d)
			}
			return dt, nil
		}
		return nil, fmt.Errorf("expects a timestamp, the document has %s", kindOf(v))
	case *core.SelectField:
		switch s := v.(type) {
		case string:
			return s, nil
		case []any:
			out := make([]string, 0, len(s))
			for _, e := range s {
				str, ok := e.(string)
				if !ok {
					return nil, fmt.Errorf("expects text values, the list holds %s", kindOf(e))
				}
				out = append(out, str)
			}
			return out, nil
		}
		return nil, fmt.Errorf("expects one of its values, the document has %s", kindOf(v))
	case *core.JSONField:
		b, err := json.Marshal(plainJSON(v))
		if err != nil {
			return nil, err
		}
		return types.JSONRaw(b), nil
	case *core.GeoPointField:
		if g, ok := v.(GeoPoint); ok {
			return types.GeoPoint{Lon: g.Lon, Lat: g.Lat}, nil
		}
		return nil, fmt.Errorf("expects a geopoint, the document has %s", kindOf(v))
	case *core.RelationField:
		return im.relation(t.collection, ff, v)
	case *core.FileField:
		return im.attach(ff, v, dr)
	}
	return nil, fmt.Errorf("a %s field is not imported", f.Type())
}

// relation converts a reference, a path or a plain id into the id of
// the record it becomes: a reference to a user's document, or a uid,
// into that user's.
func (im *importer) relation(col *core.Collection, f *core.RelationField, v any) (any, error) {
	one := func(x any) (string, error) {
		switch r := x.(type) {
		case Ref:
			return im.relationID(col, f.Name, r), nil
		case string:
			if r == "" {
				return "", nil
			}
			if strings.Contains(r, "/") {
				p := strings.Trim(r, "/")
				if checkDocPath(p) != nil {
					return "", fmt.Errorf("%q is not a document path", r)
				}
				return im.relationID(col, f.Name, Ref(p)), nil
			}
			return im.plainID(f, r)
		}
		return "", fmt.Errorf("expects a reference, the document has %s", kindOf(x))
	}
	if list, ok := v.([]any); ok {
		out := make([]string, 0, len(list))
		for _, e := range list {
			id, err := one(e)
			if err != nil {
				return nil, err
			}
			if id != "" {
				out = append(out, id)
			}
		}
		return out, nil
	}
	return one(v)
}

// relationID is the id of the record the document at ref becomes when
// the relation field of col points there: a user's when the field points
// to users (by uid, the document id), else the document's own.
func (im *importer) relationID(col *core.Collection, field string, ref Ref) string {
	rf, _ := col.Fields.GetByName(field).(*core.RelationField)
	if rf != nil && im.isUsers(rf.CollectionId) {
		segs := strings.Split(string(ref), "/")
		return im.ids.id(userPath(segs[len(segs)-1]))
	}
	return im.ids.id(string(ref))
}

func (im *importer) isUsers(collectionID string) bool {
	c, err := im.app.FindCachedCollectionByNameOrId(collectionID)
	return err == nil && c.Name == collections.Users
}

// plainID resolves a bare document id: a uid for users, else the id of a
// document of the one top-level Firestore collection that maps to the
// field's target.
func (im *importer) plainID(f *core.RelationField, id string) (string, error) {
	if im.isUsers(f.CollectionId) {
		return im.ids.id(userPath(id)), nil
	}
	target, err := im.app.FindCachedCollectionByNameOrId(f.CollectionId)
	if err != nil {
		return "", err
	}
	var sources []string
	for fid, cm := range im.res.mapping.Collections {
		if cm.To == target.Name && !cm.Skip {
			sources = append(sources, fid)
		}
	}
	if _, renamed := im.res.mapping.Collections[target.Name]; !renamed {
		sources = append(sources, target.Name)
	}
	if len(sources) != 1 {
		return "", fmt.Errorf("the plain id %q could be a document of %s: use a reference or a path", id, strings.Join(sources, " or "))
	}
	return im.ids.id(sources[0] + "/" + id), nil
}

func kindOf(v any) string {
	switch v.(type) {
	case string:
		return "text"
	case json.Number:
		return "a number"
	case bool:
		return "a boolean"
	case []any:
		return "a list"
	case map[string]any:
		return "a map"
	case Timestamp:
		return "a timestamp"
	case GeoPoint:
		return "a geopoint"
	case Ref:
		return "a reference"
	}
	return fmt.Sprintf("%T", v)
}

// plainJSON writes Firestore's types in a JSON field as JSON can hold
// them: a timestamp as RFC 3339, a geopoint as {lat, lon}, a reference
// as its path.
func plainJSON(v any) any {
	switch t := v.(type) {
	case Timestamp:
		return time.Time(t).Format(time.RFC3339Nano)
	case GeoPoint:
		return map[string]float64{"lat": t.Lat, "lon": t.Lon}
	case Ref:
		return string(t)
	case []any:
		out := make([]any, len(t))
		for i, e := range t {
			out[i] = plainJSON(e)
		}
		return out
	case map[string]any:
		out := make(map[string]any, len(t))
		for k, e := range t {
			out[k] = plainJSON(e)
		}
		return out
	}
	return v
}

// flush writes the batch in one transaction. A document the database
// refuses (a unique index: two memberships of one user in one group) is
// reported and the others are written.
func (im *importer) flush() error {
	if len(im.batch) == 0 {
		return nil
	}
	batch := im.batch
	im.batch = im.batch[:0]
	return im.app.RunInTransaction(func(tx core.App) error {
		if err := im.deferIndexes(tx, batch); err != nil {
			return err
		}
		stmts := map[string]*dbx.Query{}
		defer func() {
			for _, q := range stmts {
				q.Close()
			}
		}()
		// The record's row is inserted, or updated when an earlier run
		// (or a stopped one) wrote it: the record is then counted as
		// updated. The row is keyed by the record, whose id follows from
		// the path (pb_migrations/1765200000_firebase_docs_by_record.go).
		insert := tx.DB().NewQuery(`INSERT INTO {{_firebase_docs}} ([[collection]], [[record]], [[path]], [[run]], [[first_run]])
			VALUES ({:collection}, {:record}, {:path}, {:run}, {:run}) ON CONFLICT ([[collection]], [[record]]) DO NOTHING`).Prepare()
		defer insert.Close()
		update := tx.DB().NewQuery(`UPDATE {{_firebase_docs}} SET [[path]] = {:path}, [[run]] = {:run}
			WHERE [[collection]] = {:collection} AND [[record]] = {:record}`).Prepare()
		defer update.Close()
		for _, dr := range batch {
			if err := im.write(tx, stmts, dr); err != nil {
				im.rep.skip(dr.collection.Name, dr.path, err.Error())
				continue
			}
			params := dbx.Params{"path": dr.path, "collection": dr.collection.Name, "record": dr.id, "run": im.run}
			res, err := insert.Bind(params).Execute()
			if err != nil {
				return fmt.Errorf("import documents: %s: %w", dr.path, err)
			}
			im.wrote[dr.collection.Name] = true
			if n, _ := res.RowsAffected(); n == 1 && !dr.userUpdate {
				im.rep.count(dr.collection.Name).Created++
			} else {
				if n == 0 {
					if _, err := update.Bind(params).Execute(); err != nil {
						return fmt.Errorf("import documents: %s: %w", dr.path, err)
					}
				}
				im.rep.count(dr.collection.Name).Updated++
			}
			if err := im.upload(dr); err != nil {
				return err
			}
		}
		return nil
	})
}

// deferIndexes drops, once the run has read DeferIndexesAfter documents,
// the secondary indexes of the tables the batch writes (indexes.go). The
// users table keeps its own: a users document updates one user by id,
// and the auth import wrote that table already.
func (im *importer) deferIndexes(tx core.App, batch []*docRow) error {
	if im.opts.DeferIndexesAfter < 0 || im.rep.Read < im.opts.DeferIndexesAfter {
		return nil
	}
	var tables []string
	for _, dr := range batch {
		if !dr.userUpdate {
			tables = append(tables, dr.collection.Name)
		}
	}
	for _, t := range tables {
		if im.deferred[t] {
			continue
		}
		if err := deferIndexes(tx, t); err != nil {
			return err
		}
		im.deferred[t] = true
	}
	return nil
}

// errNoUser is a users document whose user was not imported.
var errNoUser = errors.New("no imported user has this uid (run `hearth import firebase auth` first)")

func (im *importer) write(tx core.App, stmts map[string]*dbx.Query, dr *docRow) error {
	if dr.userUpdate {
		cols := make([]string, 0, len(dr.values))
		params := dbx.Params{}
		for k, v := range dr.values {
			if k == "id" {
				continue
			}
			cols = append(cols, fmt.Sprintf("[[%s]] = {:%s}", k, k))
			params[k] = v
		}
		params["id"] = dr.id
		cols = append(cols, "[[updated]] = {:updated}")
		params["updated"] = im.now.String()
		res, err := tx.DB().NewQuery("UPDATE {{users}} SET " + strings.Join(cols, ", ") + " WHERE [[id]] = {:id}").Bind(params).Execute()
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return errNoUser
		}
		return nil
	}
	key := dr.collection.Name
	if dr.created {
		key += "+created"
	}
	fresh, err := im.fresh(tx, dr.collection.Name)
	if err != nil {
		return err
	}
	if fresh {
		q := stmts[key+"+insert"]
		if q == nil {
			q = tx.DB().NewQuery(insertSQL(dr.collection, dr.values)).Prepare()
			stmts[key+"+insert"] = q
		}
		if _, err := q.Bind(dbx.Params(dr.values)).Execute(); err == nil {
			return nil
		}
		// The record is there after all (a path twice in the export, a
		// record created beside the import) or a unique index refuses
		// it: the upsert below updates it, or reports the refusal.
	}
	q := stmts[key]
	if q == nil {
		q = tx.DB().NewQuery(upsertSQL(dr.collection, dr.values, dr.created)).Prepare()
		stmts[key] = q
	}
	res, err := q.Bind(dbx.Params(dr.values)).Execute()
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return errFixedChanged(dr.collection.Name)
	}
	return nil
}

// errFixedChanged is a rerun's document that moves its record to another
// group or user: the fields fixed after creation (Spec.Fixed) stay as
// they were for the import too, since the server's realtime index (and
// every client) holds them fixed: a membership the import moved would
// leave its old member admitted to the group's changes until a restart.
func errFixedChanged(collection string) error {
	return fmt.Errorf("%s cannot change after creation: the record keeps its values (delete it to import it again)",
		strings.Join(collections.SpecOf(collection).Fixed, ", "))
}

// fresh reports whether collection's table had no row when this run
// first wrote to it: its records are then inserted with a plain INSERT
// (insertSQL), the upsert kept for the rare one that is there after all.
// A rerun, or an import into a table with records, upserts from the
// start, so that each of its documents costs one statement, not a failed
// insert and an upsert.
func (im *importer) fresh(tx core.App, collection string) (bool, error) {
	if f, ok := im.empty[collection]; ok {
		return f, nil
	}
	var f bool
	if err := tx.DB().NewQuery("SELECT NOT EXISTS (SELECT 1 FROM {{" + collection + "}})").Row(&f); err != nil {
		return false, fmt.Errorf("import documents: rows of %s: %w", collection, err)
	}
	im.empty[collection] = f
	return f, nil
}

// insertSQL inserts a record (values' columns).
func insertSQL(col *core.Collection, values map[string]any) string {
	cols := slices.Sorted(maps.Keys(values))
	names, params := make([]string, len(cols)), make([]string, len(cols))
	for i, c := range cols {
		names[i] = "[[" + c + "]]"
		params[i] = "{:" + c + "}"
	}
	return fmt.Sprintf("INSERT INTO {{%s}} (%s) VALUES (%s)", col.Name, strings.Join(names, ", "), strings.Join(params, ", "))
}

// upsertSQL inserts a record (insertSQL) or, on a rerun, updates every
// column but its id (and its created time, unless the document gives
// one), unless the rerun changes a field fixed after creation (no row
// changes then).
func upsertSQL(col *core.Collection, values map[string]any, setCreated bool) string {
	sets := []string{}
	for _, c := range slices.Sorted(maps.Keys(values)) {
		if c != "id" && (c != "created" || setCreated) {
			sets = append(sets, fmt.Sprintf("[[%s]] = excluded.[[%s]]", c, c))
		}
	}
	var same []string
	if spec := collections.SpecOf(col.Name); spec != nil {
		for _, f := range spec.Fixed {
			if _, ok := values[f]; ok {
				same = append(same, fmt.Sprintf("[[%s]] = excluded.[[%s]]", f, f))
			}
		}
	}
	where := ""
	if len(same) > 0 {
		where = " WHERE " + strings.Join(same, " AND ")
	}
	return fmt.Sprintf("%s ON CONFLICT ([[id]]) DO UPDATE SET %s%s", insertSQL(col, values), strings.Join(sets, ", "), where)
}

// notes adds what was left out as a whole to the report.
func (im *importer) notes() {
	ids := make([]string, 0, len(im.skippedCollections))
	for id := range im.skippedCollections {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	for _, id := range ids {
		im.rep.note("collection %s: %d documents not imported: %s", id, im.skippedCollections[id], im.skipReasons[id])
		im.rep.Skipped += im.skippedCollections[id]
	}
	fields := make([]string, 0, len(im.ignored))
	for f := range im.ignored {
		fields = append(fields, f)
	}
	slices.Sort(fields)
	for _, f := range fields {
		im.rep.note("field %s: in %d documents, no Hearth field takes it (map it, or \"-\" to silence this)", f, im.ignored[f])
	}
}

// recordExists reports whether collection has a record id.
func recordExists(app core.App, collection, id string) (bool, error) {
	var one int
	err := app.DB().NewQuery("SELECT 1 FROM {{" + collection + "}} WHERE [[id]] = {:id}").Bind(dbx.Params{"id": id}).Row(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	return err == nil, err
}
