#!/usr/bin/env bash
# What one oversized message costs the server (issue 8, point 2): the wall
# time of the request and the growth of the server's memory, for
#
#   POST  a message whose body is 10 MB of "a"
#   POST  a message whose body is 32 MB of "a"
#   PATCH a message to a body of 10 MB of "a"
#   POST  the 10 MB message again, chunked (no Content-Length)
#   POST  the 10 MB message again as a form, with an attachment
#
# and a body on routes that take none or a small one (issue 17, point 5):
#
#   GET    the list of messages, with an 18 MB JSON body
#   DELETE the message, with an 18 MB JSON body
#   GET    /api/sync?cursor=0 (a full sync), with an 18 MB JSON body
#   POST   /api/realtime, anonymous, with an 18 MB JSON body
#   GET    /api/health, anonymous, with a 30 MB multipart body
#   GET    the list, and POST /api/realtime, the 18 MB again chunked
#
#   scripts/bodysize-measure.sh BINARY [HOOKS_DIR]   # HOOKS_DIR: ./pb_hooks
#   ONLY=REGEX scripts/bodysize-measure.sh BINARY    # only the rows whose name matches
#
# Each request is sent to a fresh server (`BINARY serve` on a free loopback
# port, a temporary data dir, the JS hooks of HOOKS_DIR, not in dev mode,
# rate limits off), after signing up a user, signing in, creating a group
# and a message. One Markdown table row per request: status, wall time
# (curl's time_total), the server's VmRSS before the request, its VmHWM
# (peak resident size) after, the growth of the peak over the resident size
# before (MB are MiB), and the start of the answer. Needs curl, jq and
# python3.
set -euo pipefail

BIN=$(realpath "${1:?usage: $0 BINARY [HOOKS_DIR]}")
HOOKS=$(realpath "${2:-pb_hooks}")
MB=$((1 << 20))
PASSWORD=measure-password-1

# status prints a field of /proc/PID/status in kB.
status() { awk -v k="$2:" '$1 == k { print $2 }' "/proc/$1/status"; }

# api METHOD PATH [TOKEN] [JSON]: the JSON answer of a request.
api() {
	local args=(-sS --fail-with-body -X "$1" "$URL$2" -H 'Content-Type: application/json')
	[ -n "${3:-}" ] && args+=(-H "Authorization: $3")
	[ -n "${4:-}" ] && args+=(--data-binary "$4")
	curl "${args[@]}"
}

# stop ends the server of the last measurement and removes its data dir.
PID= DIR=
stop() {
	[ -n "$PID" ] && kill "$PID" 2>/dev/null && wait "$PID" 2>/dev/null
	[ -n "$DIR" ] && rm -rf "$DIR"
	PID= DIR=
}
trap stop EXIT

# measure NAME METHOD SIZE SHAPE [PATH] [WHO]: one table row, against a
# fresh server. SHAPE is json, chunked (JSON without a Content-Length) or
# multipart (the body as a form field, with a 64-byte attachment, as the
# SDKs upload). PATH defaults to the messages' records ({message} is the
# message's id); WHO is user (the default, signed in) or anonymous.
measure() {
	local name=$1 method=$2 size=$3 shape=$4 route=${5:-/api/collections/messages/records} who=${6:-user}
	local port token group message path args auth=()
	if [ -n "${ONLY:-}" ] && ! [[ $name =~ $ONLY ]]; then
		return
	fi
	DIR=$(mktemp -d)
	port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
	URL=http://127.0.0.1:$port
	env -u HEARTH_DEV HEARTH_RATE_LIMITS=false HEARTH_HOOKS_DIR="$HOOKS" \
		"$BIN" serve --http "127.0.0.1:$port" --dir "$DIR/data" >"$DIR/log" 2>&1 &
	PID=$!
	for _ in $(seq 100); do
		curl -sf "$URL/api/health" >/dev/null && break
		sleep 0.1
	done

	api POST /api/collections/users/records "" \
		'{"name":"Mia","email":"mia@example.com","password":"'$PASSWORD'","passwordConfirm":"'$PASSWORD'"}' >/dev/null
	token=$(api POST /api/collections/users/auth-with-password "" \
		'{"identity":"mia@example.com","password":"'$PASSWORD'"}' | jq -r .token)
	group=$(api POST /api/collections/groups/records "$token" '{"name":"Climbers"}' | jq -r .id)
	message=$(api POST /api/collections/messages/records "$token" '{"group":"'"$group"'","body":"hi"}' | jq -r .id)

	head -c "$size" /dev/zero | tr '\0' a >"$DIR/text"
	case $shape in
	json | chunked)
		{
			printf '{"group":"%s","body":"' "$group"
			cat "$DIR/text"
			printf '"}'
		} >"$DIR/body.json"
		args=(-H 'Content-Type: application/json' --data-binary "@$DIR/body.json")
		[ "$shape" = chunked ] && args+=(-H 'Transfer-Encoding: chunked')
		;;
	multipart)
		head -c 64 /dev/zero >"$DIR/attachment.bin"
		args=(-F "group=$group" -F "body=<$DIR/text" -F "attachments=@$DIR/attachment.bin")
		;;
	esac
	path=${route//\{message\}/$message}
	[ "$method" = PATCH ] && path=$path/$message
	[ "$who" = user ] && auth=(-H "Authorization: $token")

	local rss hwm code seconds answer
	rss=$(status "$PID" VmRSS)
	read -r code seconds < <(curl -sS --max-time 600 -o "$DIR/answer" -w '%{http_code} %{time_total}\n' \
		-X "$method" "$URL$path" "${auth[@]}" "${args[@]}")
	hwm=$(status "$PID" VmHWM)
	answer=$(jq -r '.message + " " + (.data | tostring)' "$DIR/answer" 2>/dev/null | cut -c 1-110)
	printf '| %s | %s | %.3f s | %d MB | %d MB | +%d MB | %s |\n' "$name" "$code" "$seconds" \
		$((rss / 1024)) $((hwm / 1024)) $(((hwm - rss) / 1024)) "$answer"
	stop
}

echo "$BIN"
echo
echo '| request | status | wall time | RSS before | peak RSS after | peak growth | answer |'
echo '| --- | --- | --- | --- | --- | --- | --- |'
measure 'POST message, 10 MB body' POST $((10 * MB)) json
measure 'POST message, 32 MB body' POST $((32 * MB)) json
measure 'PATCH message, 10 MB body' PATCH $((10 * MB)) json
measure 'POST message, 10 MB body, chunked' POST $((10 * MB)) chunked
measure 'POST message, 10 MB body and an attachment, multipart' POST $((10 * MB)) multipart
measure 'GET list of messages, 18 MB body' GET $((18 * MB)) json
measure 'DELETE message, 18 MB body' DELETE $((18 * MB)) json '/api/collections/messages/records/{message}'
measure 'GET /api/sync?cursor=0, 18 MB body' GET $((18 * MB)) json '/api/sync?cursor=0'
measure 'POST /api/realtime anonymous, 18 MB body' POST $((18 * MB)) json /api/realtime anonymous
measure 'GET /api/health anonymous, 30 MB multipart body' GET $((30 * MB)) multipart /api/health anonymous
measure 'GET list of messages, 18 MB body, chunked' GET $((18 * MB)) chunked
measure 'POST /api/realtime anonymous, 18 MB body, chunked' POST $((18 * MB)) chunked /api/realtime anonymous
