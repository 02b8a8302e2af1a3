#!/usr/bin/env bash
# Issue 17's finding 3 against a hearth binary: X subscribes to the
# invite-code oracle as a realtime filter, once as the SDK writes topics
# and once under the server's internal prefix "hearth:". A leaking server
# refuses the first and accepts the second (and then evaluates the filter
# on every change of the collection); Hearth refuses both.
#
#   scripts/topic-oracle.sh BINARY
#
# Needs curl and jq; serves on a free loopback port with a temporary data
# dir (oracle-world.sh).
set -euo pipefail
. "$(dirname "$0")/oracle-world.sh"
EVENTS=$DIR/events
curl -sN "$B/api/realtime" >"$EVENTS" & SSE=$!
trap 'kill $SSE $PID; rm -rf "$DIR"' EXIT
until grep -q '^data:' "$EVENTS" 2>/dev/null; do sleep 0.1; done
CLIENT=$(grep -m1 '^data:' "$EVENTS" | cut -c6- | jq -r .clientId)
FILTER="memberships_via_group.user.memberships_via_user.group.invites_via_group.code !~ \"${CODE:0:1}%\""
for prefix in "" "hearth:" "HEARTH:"; do
	topic="${prefix}groups/*?options=$(jq -rn --arg f "$FILTER" '{query: {filter: $f}} | tojson | @uri')"
	body=$(jq -cn --arg c "$CLIENT" --arg t "$topic" '{clientId: $c, subscriptions: [$t]}')
	answer=$(curl -s -o "$DIR/answer" -w '%{http_code}' -X POST "$B/api/realtime" -H 'Content-Type: application/json' -H "Authorization: $X" -d "$body")
	echo "subscribe ${prefix:-(no prefix)}groups/* with the oracle filter: $answer $(jq -c '.data // empty' "$DIR/answer" 2>/dev/null || true)"
done
