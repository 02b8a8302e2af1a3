#!/usr/bin/env bash
# Plants, one at a time, bugs in realtime/'s copies of PocketBase's realtime
# code (issue 17, finding 9) and shows which tests catch each: the four
# that once survived the tests, plus three more. Each runs in a temporary
# copy of the working tree; the tree itself is never changed.
#
#   scripts/realtime-mutants.sh
#   KEEP_LOGS=DIR scripts/realtime-mutants.sh    # keeps each mutant's go test -v output in DIR
#
# Prints a table: the mutant, whether a behaviour test caught it (any test
# of realtime/ but the copy guard), whether the copy guard
# (TestCopiesMatchPocketBase, which catches any edit of a copy) did, and
# the behaviour tests that failed. Exits
# non-zero when a mutant no longer applies or no behaviour test catches it.
# About a minute per mutant on the 2-core machine, most of it the link.
set -euo pipefail
export GOTOOLCHAIN=go1.27.3
ROOT=$(git -C "$(dirname "$0")/.." rev-parse --show-toplevel)
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
# Tracked and new files as they are in the working tree, uncommitted edits included.
(cd "$ROOT" && git ls-files -z --cached --others --exclude-standard |
	tar --null --ignore-failed-read -T - -cf - 2>/dev/null) | tar -xf - -C "$TMP"

# name|file|text to replace (exactly once)|replacement
MUTANTS=(
	"expand-ignores-view-rule|realtime/pocketbase.go|if *relCollection.ViewRule != \"\" {|if false && *relCollection.ViewRule != \"\" {"
	"superuser-hidden-fields-record|realtime/pocketbase.go|cleanRecord.Unhide(collection.Fields.FieldNames()...)|// mutant: hidden fields stay hidden"
	"superuser-hidden-fields-expand|realtime/pocketbase.go|rec.Unhide(hiddenFields...)|_ = hiddenFields"
	"expand-skips-enrich-hooks|realtime/pocketbase.go|enrichErr := triggerRecordEnrichHooks(app, requestInfoPtr, records, func() error {|enrichErr := func(finalizer func() error) error { return finalizer() }(func() error {"
	"superuser-only-filter-allowed|realtime/pocketbase.go|err := checkForSuperuserOnlyRuleFields(requestInfo)|var err error"
	"fields-option-ignored|realtime/pocketbase.go|rawFields := options.Query[fieldsQueryParam]|rawFields := \"\""
	"record-topic-list-rule|realtime/topic.go|return collection.ViewRule, true|return collection.ListRule, true"
)

GUARD=TestCopiesMatchPocketBase
status=0
row() { printf '%-31s %-14s %-7s %-6s %s\n' "$@"; }
row MUTANT FILE CAUGHT GUARD "FAILING BEHAVIOUR TESTS"
for m in "${MUTANTS[@]}"; do
	IFS='|' read -r name file old new <<<"$m"
	cp "$TMP/$file" "$TMP/original"
	if ! OLD="$old" NEW="$new" perl -0777 -i -pe '$n = s/\Q$ENV{OLD}\E/$ENV{NEW}/g; END { exit($n == 1 ? 0 : 1) }' "$TMP/$file"; then
		row "$name" "${file#realtime/}" ERROR - "the text to replace is not in $file exactly once"
		status=1
		cp "$TMP/original" "$TMP/$file"
		continue
	fi
	log="$TMP/$name.log"
	(cd "$TMP" && go test -count=1 -v ./realtime/ >"$log" 2>&1) || true
	cp "$TMP/original" "$TMP/$file"
	if [ -n "${KEEP_LOGS:-}" ]; then mkdir -p "$KEEP_LOGS" && cp "$log" "$KEEP_LOGS/"; fi
	failed=$(grep -oE '^--- FAIL: [A-Za-z0-9_]+' "$log" | cut -d' ' -f3 | sort -u || true)
	behaviour=$(grep -v -x -e "$GUARD" <<<"$failed" | tr '\n' ' ' || true)
	guard=no
	if grep -q -x -e "$GUARD" <<<"$failed"; then guard=yes; fi
	if grep -qE '\[(build|setup) failed\]' "$log"; then
		caught=BUILD
		status=1
		behaviour="(does not build: $(grep -m1 -E '\.go:[0-9]+' "$log"))"
	elif [ -n "${behaviour// /}" ]; then
		caught=yes
	else
		caught=no
		status=1
	fi
	row "$name" "${file#realtime/}" "$caught" "$guard" "$behaviour"
done
exit $status
