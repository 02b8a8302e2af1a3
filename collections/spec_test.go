package collections_test

import (
	"slices"
	"testing"

	"github.com/crews/hearth/collections"
	"github.com/crews/hearth/internal/hearthtest"
)

// Every collection of the schema that is not PocketBase's own has a spec
// (hearthtest.Collections fails for one without), and every spec a
// collection of the schema: a spec left behind by a dropped collection, or
// one whose name is misspelt, fails here.
func TestEveryCollectionHasASpec(t *testing.T) {
	t.Parallel()
	app := hearthtest.NewApp(t)
	var schema []string
	for _, c := range hearthtest.Collections(t, app) {
		schema = append(schema, c.Name)
	}
	slices.Sort(schema)
	specs := collections.Names()
	slices.Sort(specs)
	if !slices.Equal(schema, specs) {
		t.Fatalf("schema collections %v, specs %v", schema, specs)
	}
}

// Ranks order Names: unique, from 1 without gaps, and a collection whose
// records belong to groups through a parent comes after that parent.
func TestSpecRanks(t *testing.T) {
	names := collections.Names()
	for i, name := range names {
		if got := collections.SpecOf(name).Rank; got != i+1 {
			t.Errorf("%s has rank %d, want %d (ranks are unique, from 1, without gaps): %v", name, got, i+1, names)
		}
	}
	for i, name := range names {
		if parent := collections.SpecOf(name).Scope.Parent; parent != "" && slices.Index(names, parent) > i {
			t.Errorf("%s comes before its parent %s: %v", name, parent, names)
		}
	}
}

// The fixture world has a record in every table, so that the rule matrix
// and the noninterference test have something of each collection to ask
// about.
func TestFixtureCoversEveryCollection(t *testing.T) {
	t.Parallel()
	app := hearthtest.NewApp(t)
	for _, name := range hearthtest.Tables(t, app) {
		n, err := app.CountRecords(name)
		if err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			t.Errorf("the fixture world (internal/hearthtest/world.go) has no %s record", name)
		}
	}
}
