#!/usr/bin/env bash
# Shows that adding a collection is its migration, its file, its rule
# matrix rows and a fixture record, and that forgetting any one fails a
# test (docs/architecture.md, "Add a collection or a field"). In a throwaway
# copy of the committed tree it adds a collection "notes" step by step and,
# after each step, runs the tests that guard the remaining ones.
#
#   scripts/new-collection-check.sh     # prints a table; exit 1 if a guard did not fire
set -euo pipefail
export GOTOOLCHAIN=${GOTOOLCHAIN:-go1.27.3}
root=$(git -C "$(dirname "$0")/.." rev-parse --show-toplevel)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
git -C "$root" archive HEAD | tar -x -C "$tmp"
cd "$tmp"

# run PKG TEST: "passes", "fails" (naming the new collection, as a guard
# must), or "broken" (failing for another reason: a build error, say).
run() {
	if go test -count=1 -run "^$2\$" "$1" >"$tmp/last.log" 2>&1; then
		echo passes
	elif grep -q -e notes -e Notes "$tmp/last.log"; then
		echo fails
	else
		echo broken
	fi
}

status=0
# expect STEP PKG TEST WANT
expect() {
	local got
	got=$(run "$2" "$3")
	printf '%-34s %-40s %-7s %s\n' "$1" "$3" "$got" "$([ "$got" = "$4" ] && echo ok || echo UNEXPECTED)"
	[ "$got" = "$4" ] || status=1
}

printf '%-34s %-40s %-7s %s\n' STEP TEST RESULT ""

# Step 1: the migration alone.
cat >pb_migrations/1999999999_notes.go <<'GO'
package pb_migrations

import (
	"github.com/pocketbase/pocketbase/core"
	m "github.com/pocketbase/pocketbase/migrations"
	"github.com/pocketbase/pocketbase/tools/types"
)

func init() {
	m.Register(func(app core.App) error {
		groups, err := app.FindCollectionByNameOrId("groups")
		if err != nil {
			return err
		}
		notes := core.NewBaseCollection("notes")
		member := `@request.auth.id != "" && @collection.memberships.group ?= group && @collection.memberships.user ?= @request.auth.id`
		notes.ListRule, notes.ViewRule, notes.CreateRule = types.Pointer(member), types.Pointer(member), types.Pointer(member)
		notes.Fields.Add(
			&core.RelationField{Name: "group", CollectionId: groups.Id, MaxSelect: 1, Required: true, CascadeDelete: true},
			&core.TextField{Name: "title", Max: 200},
			&core.AutodateField{Name: "created", OnCreate: true},
			&core.AutodateField{Name: "updated", OnCreate: true, OnUpdate: true},
		)
		notes.AddIndex("idx_notes_group", false, "`group`", "")
		return app.Save(notes)
	}, func(app core.App) error {
		notes, err := app.FindCollectionByNameOrId("notes")
		if err != nil {
			return err
		}
		return app.Delete(notes)
	})
}
GO
expect "1. migration, no file" ./collections/ TestEveryCollectionHasASpec fails

# Step 2: its file, with a spec whose rank is forgotten.
cat >collections/notes.go <<'GO'
package collections

// Notes is the collection's name in the schema.
const Notes = "notes"

var notesSpec = declare(Spec{
	Name:  Notes,
	Scope: Scope{Field: "group"},
	Fixed: []string{"group"},
	Query: []string{"id", "group", "title", "created", "updated"},
})
GO
expect "2a. file, rank forgotten" ./collections/ TestSpecRanks fails
sed -i 's/\tName:  Notes,/\tName:  Notes,\n\tRank:  12,/' collections/notes.go
gofmt -w collections/notes.go
expect "2b. file with its rank" ./collections/ TestEveryCollectionHasASpec passes
expect "2b. file with its rank" ./collections/ TestSpecRanks passes
expect "   types not regenerated" ./typegen/ TestCommittedTypesAreFresh fails
expect "   paths table not updated" ./edge/ TestAccessRulesDocListsQueryPaths fails
expect "   no matrix rows" ./collections/ TestRuleMatrix fails
expect "   no fixture record" ./collections/ TestFixtureCoversEveryCollection fails

# The derived steps: regenerate the types, add the paths table's row.
go run . typegen --out clients/js/src/types.gen.ts >/dev/null
perl -pi -e 's/^(\| messages \| `id`)/| notes | `id`, `group`, `title`, `created`, `updated` |\n$1/' docs/access-rules.md
expect "2c. types regenerated" ./typegen/ TestCommittedTypesAreFresh passes
expect "2c. paths table row added" ./edge/ TestAccessRulesDocListsQueryPaths passes
exit $status
