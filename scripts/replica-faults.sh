#!/bin/sh
# Runs the replication fault tests (replica/faults_test.go: S3 killed, hung,
# refusing, Hearth restarted while S3 is down, a full data dir) and prints
# each one's measurements: write p99, longest gap between acknowledged
# writes, WAL / local files / data dir high-water, the lag reported vs the
# real one, how soon the replica was level again, and what a restore held.
# Needs root (the full disk is a size-limited tmpfs mount). About 2 minutes
# warm; KEEP_LOG=FILE keeps the whole go test -v output.
set -eu
cd "$(dirname "$0")/.."
export GOTOOLCHAIN="${GOTOOLCHAIN:-go1.27.3}"
log="${KEEP_LOG:-$(mktemp)}"
status=0
go test -count=1 -run 'TestFault' -v ./replica/ >"$log" 2>&1 || status=$?
grep -o 'fault: .*' "$log" || true
grep -E '^(--- FAIL|FAIL|ok)' "$log" || true
[ -n "${KEEP_LOG:-}" ] || rm -f "$log"
exit "$status"
