#!/usr/bin/env bash
# Measures how much auxiliary.db (the request log) grows under a request
# rate, with the logs settings given as environment (docs/operations.md,
# "Growth of auxiliary.db"):
#
#   scripts/log-growth.sh [RATE] [SECONDS] [VAR=value...]
#   scripts/log-growth.sh 1000 60                              # the defaults
#   scripts/log-growth.sh 1000 60 HEARTH_LOG_REQUEST_SAMPLE=1  # every request
#
# Builds bin/hearth and the load generator, starts the server on a fresh
# data dir and a free loopback port, signs a user in, stops it (baseline),
# starts it again, offers RATE authenticated GET requests a second for
# SECONDS, stops it cleanly (its logs flushed, the WAL checkpointed) and
# reports the growth of auxiliary.db per million requests and per hour at
# 1,000 requests/s.
set -euo pipefail
cd "$(dirname "$0")/.."
export GOTOOLCHAIN=go1.27.3
rate=${1:-1000} secs=${2:-60}
shift $(($# < 2 ? $# : 2))

dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
go build -o "$dir/hearth" .
go build -o "$dir/hearthload" ./internal/cmd/hearthload
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
url=http://127.0.0.1:$port
env=(HEARTH_HTTP="127.0.0.1:$port" HEARTH_DATA_DIR="$dir/data" HEARTH_RATE_LIMITS=false "$@")

serve() { # starts the server, waits for it; sets PID
	env "${env[@]}" "$dir/hearth" serve >>"$dir/out.log" 2>&1 &
	PID=$!
	for _ in $(seq 100); do curl -fsS -o /dev/null "$url/api/health" 2>/dev/null && return; sleep 0.1; done
	cat "$dir/out.log" >&2
	exit 1
}
stop() { kill -INT "$PID"; wait "$PID" || true; }
size() { local n=0 f; for f in "$dir/data/auxiliary.db" "$dir/data/auxiliary.db-wal"; do [[ -f $f ]] && n=$((n + $(stat -c %s "$f"))); done; echo "$n"; }

serve
curl -fsS -o /dev/null -X POST -H 'Content-Type: application/json' "$url/api/collections/users/records" \
	-d '{"name":"Reader","email":"reader@hearth.test","password":"reader-password-1","passwordConfirm":"reader-password-1"}'
token=$(curl -fsS -X POST -H 'Content-Type: application/json' "$url/api/collections/users/auth-with-password" \
	-d '{"identity":"reader@hearth.test","password":"reader-password-1"}' | python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])')
sleep 4 # PocketBase writes its logs every 3 s
stop
before=$(size)

serve
"$dir/hearthload" -url "$url" -token "$token" -method GET -path '/api/collections/groups/records?perPage=1' -body '' \
	-rate "$rate" -duration "${secs}s" >"$dir/load.json"
sleep 4
stop
after=$(size)
rows=$(python3 -c 'import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute("select count(*) from _logs where json_extract(data, \"$.type\") = \"request\"").fetchone()[0])' "$dir/data/auxiliary.db")

python3 - "$dir/load.json" "$before" "$after" "$rows" "$*" <<'PY'
import json, sys
load, before, after, rows, settings = json.load(open(sys.argv[1])), int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
n = load["ok"] + sum(load["failed"].values())
growth = after - before
print(f"settings: {settings or 'defaults'}; load average {open('/proc/loadavg').read().split()[0]}")
print(f"{n} requests answered in {load['seconds']:.0f} s ({load['okPerSecond']:.0f}/s ok, failed {load['failed']}, "
      f"p99 {load['latencyMs']['p99']:.0f} ms); request rows in auxiliary.db: {rows}")
print(f"auxiliary.db grew {growth} bytes: {growth / n:.1f} bytes per request, {growth / n:.2f} MB per million requests, "
      f"{growth / n * 1000 * 3600 / 1e6:.1f} MB per hour at 1,000 requests/s")
PY
