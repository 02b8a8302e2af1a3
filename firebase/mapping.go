package firebase

import (
	"encoding/json"
	"fmt"
	"os"
	"strings"

	"github.com/pocketbase/pocketbase/core"
)

// Mapping says how Firestore collections become Hearth collections, read
// from the --mapping file. Without one, names decide: a Firestore
// collection (top-level or a subcollection) goes to the Hearth collection
// of the same name, each field to the field of the same name, and a
// subcollection's documents get their parent through the child's one
// relation field to the parent's collection.
//
//	{
//	  "collections": {
//	    "members": {"to": "memberships", "fields": {"uid": "user", "joinedAt": "created"}},
//	    "rsvps":   {"parent": "event", "fields": {"note": "-"}},
//	    "audit":   {"skip": true}
//	  }
//	}
type Mapping struct {
	// Collections is keyed by the Firestore collection id (the last
	// collection segment of a path: "members" for groups/g1/members/u1).
	Collections map[string]CollectionMapping `json:"collections"`
}

// CollectionMapping is one Firestore collection's mapping.
type CollectionMapping struct {
	// To is the Hearth collection ("" for the same name).
	To string `json:"to"`
	// Skip leaves the collection's documents out.
	Skip bool `json:"skip"`
	// Parent is the relation field set to a subcollection document's
	// parent ("" to find the one relation to the parent's collection).
	Parent string `json:"parent"`
	// Fields renames Firestore fields to Hearth fields; "-" leaves a field
	// out. A Hearth file field takes a Cloud Storage path (or gs:// URL)
	// and attaches that file from the --files directory.
	Fields map[string]string `json:"fields"`
}

// ReadMapping reads a mapping file; unknown keys are errors, so that a
// typo does not silently import nothing.
func ReadMapping(path string) (*Mapping, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("mapping: %w", err)
	}
	defer f.Close()
	dec := json.NewDecoder(f)
	dec.DisallowUnknownFields()
	var m Mapping
	if err := dec.Decode(&m); err != nil {
		return nil, fmt.Errorf("mapping %s: %w", path, err)
	}
	return &m, nil
}

// target is what a Firestore collection id resolves to.
type target struct {
	collection *core.Collection
	mapping    CollectionMapping
	reason     string // why the collection's documents are skipped, when collection is nil
}

// resolver answers, per Firestore collection id, its Hearth collection
// and field names, checked against the schema once.
type resolver struct {
	app     core.App
	mapping *Mapping
	cache   map[string]*target
	// sources is, per Hearth collection, the Firestore collection ids seen
	// to map to it: a plain id in a relation field is looked up there.
	sources map[string]map[string]bool
}

func newResolver(app core.App, m *Mapping) (*resolver, error) {
	if m == nil {
		m = &Mapping{}
	}
	r := &resolver{app: app, mapping: m, cache: map[string]*target{}, sources: map[string]map[string]bool{}}
	// Check the whole mapping before the first document, so that a typo
	// in a collection or field name stops the import before it writes.
	for id, cm := range m.Collections {
		if cm.Skip {
			continue
		}
		t := r.target(id)
		if t.collection == nil {
			return nil, fmt.Errorf("mapping: collection %s: %s", id, t.reason)
		}
		for from, to := range cm.Fields {
			if to != "-" && t.collection.Fields.GetByName(to) == nil {
				return nil, fmt.Errorf("mapping: collection %s: field %s: %s has no field %q", id, from, t.collection.Name, to)
			}
		}
		if cm.Parent != "" {
			if _, ok := t.collection.Fields.GetByName(cm.Parent).(*core.RelationField); !ok {
				return nil, fmt.Errorf("mapping: collection %s: parent %q is not a relation field of %s", id, cm.Parent, t.collection.Name)
			}
		}
	}
	return r, nil
}

func (r *resolver) target(id string) *target {
	if t, ok := r.cache[id]; ok {
		return t
	}
	cm := r.mapping.Collections[id]
	t := &target{mapping: cm}
	name := cm.To
	if name == "" {
		name = id
	}
	switch c, err := r.app.FindCachedCollectionByNameOrId(name); {
	case cm.Skip:
		t.reason = "skipped by the mapping"
	case err != nil:
		t.reason = fmt.Sprintf("no Hearth collection %q (name it in the mapping, or skip it)", name)
	case c.IsView() || c.System:
		t.reason = fmt.Sprintf("%q cannot be imported into", name)
	default:
		t.collection = c
		if r.sources[c.Name] == nil {
			r.sources[c.Name] = map[string]bool{}
		}
	}
	r.cache[id] = t
	return t
}

// field is the Hearth field a Firestore field goes to ("" for none).
func (t *target) field(name string) string {
	if to, ok := t.mapping.Fields[name]; ok {
		if to == "-" {
			return ""
		}
		return to
	}
	if t.collection.Fields.GetByName(name) != nil {
		return name
	}
	return ""
}

// collectionID is the collection segment of a document path
// ("members" for groups/g1/members/u1); parent is the parent document's
// path ("" for a top-level document).
func splitPath(p string) (collectionID, parent string) {
	segs := strings.Split(p, "/")
	collectionID = segs[len(segs)-2]
	if len(segs) > 2 {
		parent = strings.Join(segs[:len(segs)-2], "/")
	}
	return collectionID, parent
}
