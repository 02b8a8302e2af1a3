#!/usr/bin/env bash
# Tests Hearth's deploy against a real Docker engine (issue "Deploy"):
#
#   scripts/docker-test.sh        # or: make docker-test
#
# 1. prepares what is missing, reusing what is there: Debian's docker.io,
#    docker-compose and debootstrap packages, a dockerd without a bridge
#    network, and the build stage's base image `golang:1.27-bookworm`, made
#    locally from a debootstrap'ed bookworm plus the Go 1.27 toolchain (no
#    registry can be reached from here);
# 2. builds the real Dockerfile;
# 3. runs the image with a named volume: healthy, sign in, create a group,
#    replace the container, the group is still there; non-root; < 50 MB;
# 4. validates docker-compose.yml and brings its hearth service up with a
#    host-network override, then checks health;
# 5. S3: the image stores an upload and a backup in a real S3 server
#    (versitygw's posix backend, a folder), then restores the backup;
# 6. replication built into the image (HEARTH_REPLICA_URL, to versitygw):
#    200 writes/s for 40 s across a PocketBase backup, the daily optimisation
#    run on demand and the replica's own checkpoints, with and without
#    replication, reporting latency percentiles and the longest stall; then
#    SIGKILL under that load, a restore into a fresh volume through the image
#    alone (restore on start), and every write acknowledged more than the
#    sync interval + 1 s before the kill must be there, none half-applied.
#
# versitygw is `go install`ed into $STATE/tools once; the load generator
# (internal/cmd/hearthload) is built from the tree. Every container and
# volume it makes is named hearth-dtest-*; they, its temp dirs and its
# processes are removed on exit. Must run as root (it installs packages and
# runs dockerd). Timings (this script's own report) are in
# docs/operations.md.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

export GOTOOLCHAIN=go1.27.3
# The legacy builder: the docker CLI here may lack the buildx plugin, and
# the Dockerfile needs no BuildKit feature.
export DOCKER_BUILDKIT=0 COMPOSE_DOCKER_CLI_BUILD=0

BASE_IMAGE=golang:1.27-bookworm
IMAGE=${HEARTH_IMAGE:-hearth:dtest}
PREFIX=hearth-dtest
STATE=${HEARTH_DTEST_STATE:-/var/tmp/hearth-docker-test}
# 33.7 MB before replication was built in; Litestream's S3 client (the AWS
# SDK) and the Prometheus client add about 12 MB.
MAX_IMAGE_BYTES=$((50 * 1000 * 1000))
SU_EMAIL=root@hearth.test
SU_PASSWORD=dtest-superuser-pw

log() { printf '\n==> %s\n' "$*"; }
fail() { printf 'FAIL: %s\n' "$*" >&2; exit 1; }
now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }

free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# --- 1. prerequisites --------------------------------------------------------

prepare_packages() {
	local missing=()
	command -v dockerd >/dev/null || missing+=(docker.io)
	command -v docker-compose >/dev/null || missing+=(docker-compose)
	command -v debootstrap >/dev/null || missing+=(debootstrap)
	command -v python3 >/dev/null || missing+=(python3)
	command -v curl >/dev/null || missing+=(curl)
	if ((${#missing[@]})); then
		log "installing ${missing[*]}"
		apt-get update -qq
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
	fi
}

prepare_engine() {
	if docker info >/dev/null 2>&1; then return; fi
	log "starting dockerd (no bridge, no iptables: containers use the host network)"
	mkdir -p "$STATE"
	setsid dockerd --bridge=none --iptables=false >"$STATE/dockerd.log" 2>&1 </dev/null &
	for _ in $(seq 60); do
		docker info >/dev/null 2>&1 && return
		sleep 1
	done
	tail -20 "$STATE/dockerd.log" >&2
	fail "dockerd did not start"
}

# The official golang image sets GOPATH=/go, PATH and WORKDIR /go; so does this one.
prepare_base() {
	if docker image inspect "$BASE_IMAGE" >/dev/null 2>&1; then return; fi
	local start rootfs goroot
	start=$(now)
	rootfs=$STATE/rootfs
	if [[ ! -x $rootfs/usr/bin/apt-get ]]; then
		log "debootstrap bookworm into $rootfs"
		rm -rf "$rootfs"
		mkdir -p "$STATE"
		debootstrap --variant=minbase --include=ca-certificates bookworm "$rootfs" >"$STATE/debootstrap.log" 2>&1 ||
			{ tail -20 "$STATE/debootstrap.log" >&2; fail "debootstrap"; }
	fi
	goroot=$(go env GOROOT)
	[[ $("$goroot/bin/go" env GOVERSION) == go1.27* ]] || fail "GOROOT $goroot is not Go 1.27"
	log "importing $BASE_IMAGE (bookworm + $goroot)"
	rm -rf "$rootfs/usr/local/go"
	cp -a "$goroot" "$rootfs/usr/local/go"
	chmod -R u+w "$rootfs/usr/local/go"
	mkdir -p "$rootfs/go"
	# The module proxy is reached through the host's trust store.
	cp /etc/ssl/certs/ca-certificates.crt "$rootfs/etc/ssl/certs/ca-certificates.crt"
	tar -C "$rootfs" -c . | docker import \
		--change 'ENV PATH=/go/bin:/usr/local/go/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
		--change 'ENV GOPATH=/go' \
		--change 'ENV GOLANG_VERSION=1.27.3' \
		--change 'WORKDIR /go' \
		- "$BASE_IMAGE" >/dev/null
	echo "base image ready in $(elapsed "$start")s"
}

build_image() {
	local start version
	start=$(now)
	version=dtest-$(git describe --always --dirty 2>/dev/null || echo dev)
	log "docker build -t $IMAGE ."
	# The build stage is tagged too, so that pruning the previous runs'
	# untagged images (1.2 GB each) keeps this run's build cache.
	docker build --network host --build-arg VERSION="$version" --label hearth.dtest=1 --target build -t "$IMAGE-build" . >/dev/null
	docker build --network host --build-arg VERSION="$version" --label hearth.dtest=1 -t "$IMAGE" .
	docker image prune -f --filter label=hearth.dtest=1 >/dev/null
	echo "image built in $(elapsed "$start")s"
}

# --- 3. the image ------------------------------------------------------------

CONTAINERS=() VOLUMES=() TMPDIRS=() PIDS=()
cleanup() {
	local rc=$?
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
	if ((${#CONTAINERS[@]})); then docker rm -f "${CONTAINERS[@]}" >/dev/null 2>&1 || true; fi
	if [[ -n ${COMPOSE_DIR:-} ]]; then compose down -v --remove-orphans >/dev/null 2>&1 || true; fi
	if ((${#VOLUMES[@]})); then docker volume rm -f "${VOLUMES[@]}" >/dev/null 2>&1 || true; fi
	if ((${#TMPDIRS[@]})); then rm -rf "${TMPDIRS[@]}"; fi
	exit "$rc"
}
trap cleanup EXIT

# json FIELD: reads a JSON object on stdin, prints one top-level field.
json() { python3 -c 'import json,sys; print(json.load(sys.stdin)[sys.argv[1]])' "$1"; }

# api METHOD PATH [TOKEN] [JSON]: calls BASE_URL, fails on a non-2xx answer.
api() {
	local method=$1 path=$2 token=${3:-} body=${4:-}
	local args=(-sS --max-time "${API_TIMEOUT:-10}" -X "$method" -H 'Content-Type: application/json' -w '\n%{http_code}')
	[[ -n $token ]] && args+=(-H "Authorization: $token")
	[[ -n $body ]] && args+=(--data "$body")
	local out code
	out=$(curl "${args[@]}" "$BASE_URL$path") || fail "$method $path: curl failed"
	code=${out##*$'\n'}
	out=${out%$'\n'*}
	[[ $code == 2* ]] || fail "$method $path: HTTP $code: $out"
	printf '%s' "$out"
}

# wait_healthy CONTAINER: until Docker's health check says healthy; prints seconds.
wait_healthy() {
	local c=$1 start status
	start=$(now)
	for _ in $(seq 600); do
		status=$(docker inspect -f '{{.State.Health.Status}}' "$c" 2>/dev/null || echo gone)
		case $status in
		healthy) elapsed "$start"; return ;;
		unhealthy | gone) docker logs --tail 30 "$c" >&2 || true; fail "$c is $status" ;;
		esac
		sleep 0.1
	done
	docker logs --tail 30 "$c" >&2
	fail "$c not healthy after 60s"
}

# wait_up: until GET /api/health answers 200; prints seconds since $1.
wait_up() {
	local start=$1
	for _ in $(seq 600); do
		if curl -fsS --max-time 1 "$BASE_URL/api/health" >/dev/null 2>&1; then elapsed "$start"; return; fi
		sleep 0.1
	done
	fail "no answer on $BASE_URL/api/health"
}

run_hearth() { # NAME: starts the image on the volume, prints nothing
	docker run -d --name "$1" --network host \
		-e HEARTH_HTTP="127.0.0.1:$PORT" \
		-e HEARTH_SUPERUSER_EMAIL="$SU_EMAIL" -e HEARTH_SUPERUSER_PASSWORD="$SU_PASSWORD" \
		-e HEARTH_APP_NAME="Hearth docker test" \
		-v "$VOLUME:/pb_data" "$IMAGE" >/dev/null
	CONTAINERS+=("$1")
}

test_image() {
	local size user pid uid start up healthy su_token token group_id name
	size=$(docker image inspect -f '{{.Size}}' "$IMAGE")
	IMAGE_MB=$(awk -v s="$size" 'BEGIN { printf "%.1f", s / 1000000 }')
	echo "image size: $size bytes ($IMAGE_MB MB)"
	((size < MAX_IMAGE_BYTES)) || fail "image is $size bytes, over $MAX_IMAGE_BYTES"

	user=$(docker image inspect -f '{{.Config.User}}' "$IMAGE")
	[[ -n $user && ${user%%:*} != 0 && ${user%%:*} != root ]] || fail "image runs as '$user'"

	# A bad setting stops the start, naming its variable, not its value.
	local out
	if out=$(docker run --rm --network host -e HEARTH_SMTP_PORT=smtp -e HEARTH_S3_SECRET=dtest-secret-key "$IMAGE" 2>&1); then
		fail "the image started with HEARTH_SMTP_PORT=smtp"
	fi
	[[ $out == *HEARTH_SMTP_PORT* && $out != *dtest-secret-key* ]] || fail "bad setting reported as: $out"
	echo "bad setting refused:"; printf "  %s\n" "$out"

	PORT=$(free_port)
	BASE_URL=http://127.0.0.1:$PORT
	VOLUME=$PREFIX-data-$$
	docker volume create "$VOLUME" >/dev/null
	VOLUMES+=("$VOLUME")

	log "first container on a fresh volume ($BASE_URL)"
	start=$(now)
	run_hearth "$PREFIX-first-$$"
	up=$(wait_up "$start")
	healthy=$(wait_healthy "$PREFIX-first-$$")
	healthy=$(elapsed "$start")
	COLD_UP=$up COLD_HEALTHY=$healthy
	echo "cold start: /api/health answers after ${up}s; Docker reports healthy after ${healthy}s"

	pid=$(docker inspect -f '{{.State.Pid}}' "$PREFIX-first-$$")
	uid=$(awk '/^Uid:/ { print $2 }' "/proc/$pid/status")
	[[ $uid != 0 ]] || fail "the server process runs as root"
	echo "server process uid: $uid (image user $user)"

	su_token=$(api POST /api/collections/_superusers/auth-with-password "" \
		"{\"identity\":\"$SU_EMAIL\",\"password\":\"$SU_PASSWORD\"}" | json token)
	[[ $(api GET /api/settings "$su_token" | python3 -c 'import json,sys; print(json.load(sys.stdin)["meta"]["appName"])') == "Hearth docker test" ]] ||
		fail "HEARTH_APP_NAME not applied"
	api POST /api/collections/users/records "" \
		'{"email":"dana@hearth.test","password":"dana-password-1","passwordConfirm":"dana-password-1","name":"Dana"}' >/dev/null
	token=$(api POST /api/collections/users/auth-with-password "" \
		'{"identity":"dana@hearth.test","password":"dana-password-1"}' | json token)
	group_id=$(api POST /api/collections/groups/records "$token" '{"name":"Survivors"}' | json id)
	echo "signed in, created group $group_id"

	log "replacing the container, same volume"
	docker stop "$PREFIX-first-$$" >/dev/null
	docker rm "$PREFIX-first-$$" >/dev/null
	run_hearth "$PREFIX-second-$$"
	wait_healthy "$PREFIX-second-$$" >/dev/null
	token=$(api POST /api/collections/users/auth-with-password "" \
		'{"identity":"dana@hearth.test","password":"dana-password-1"}' | json token)
	name=$(api GET "/api/collections/groups/records/$group_id" "$token" | json name)
	[[ $name == Survivors ]] || fail "group $group_id is '$name' after the restart"
	echo "group $group_id still there after the container was replaced"
	docker rm -f "$PREFIX-second-$$" >/dev/null
}

# --- 4. docker-compose.yml ---------------------------------------------------

compose() { docker-compose -p "$PREFIX-$$" -f "$COMPOSE_DIR/rendered.yml" "$@"; }

test_compose() {
	log "docker-compose.yml: validate, then up the hearth service on the host network"
	COMPOSE_DIR=$(mktemp -d)
	TMPDIRS+=("$COMPOSE_DIR")
	# The documented example must be a valid configuration, every profile on.
	docker-compose --env-file .env.example -f docker-compose.yml --profile s3 config -q
	PORT=$(free_port)
	BASE_URL=http://127.0.0.1:$PORT
	cat >"$COMPOSE_DIR/env" <<-ENV
		HEARTH_SUPERUSER_EMAIL=$SU_EMAIL
		HEARTH_SUPERUSER_PASSWORD=$SU_PASSWORD
		HEARTH_APP_NAME=Hearth compose test
		HEARTH_BACKUPS_CRON=0 3 * * *
		HEARTH_TRUSTED_PROXY_HEADERS=X-Forwarded-For
	ENV
	# No bridge network here: the override puts the service on the host's
	# network on a free loopback port, and reuses the image built above.
	cat >"$COMPOSE_DIR/host-network.yml" <<-YAML
		services:
		  hearth:
		    image: $IMAGE
		    network_mode: host
		    environment:
		      HEARTH_HTTP: 127.0.0.1:$PORT
	YAML
	# Compose v1 merges port lists and cannot drop one, and host networking
	# admits no published port: render the merged file, then drop `ports`.
	docker-compose --env-file "$COMPOSE_DIR/env" -f docker-compose.yml -f "$COMPOSE_DIR/host-network.yml" config >"$COMPOSE_DIR/merged.yml"
	python3 - "$COMPOSE_DIR/merged.yml" "$COMPOSE_DIR/rendered.yml" <<-'PY'
		import sys, yaml
		doc = yaml.safe_load(open(sys.argv[1]))
		doc["services"]["hearth"].pop("ports", None)
		# Nor a project network: the engine here has no bridge.
		doc["networks"] = {"default": {"external": True, "name": "host"}}
		yaml.safe_dump(doc, open(sys.argv[2], "w"))
	PY
	compose config -q
	compose up -d --no-build hearth
	local c
	c=$(compose ps -q hearth)
	CONTAINERS+=("$c")
	wait_healthy "$c" >/dev/null
	[[ $(docker inspect -f '{{.HostConfig.RestartPolicy.Name}}' "$c") == unless-stopped ]] || fail "compose service restart policy"
	curl -fsS "$BASE_URL/api/health" >/dev/null || fail "compose service not answering"
	echo "compose service healthy on $BASE_URL"
	compose down -v >/dev/null 2>&1
}

# --- 5. S3: uploads and backups in a real S3 server ---------------------------

# go_tool NAME MODULE@VERSION: installs a Go command into $STATE/tools once.
go_tool() {
	local bin=$STATE/tools/$1
	if [[ ! -x $bin ]]; then
		log "go install $2" >&2
		GOBIN=$STATE/tools go install -trimpath "$2" >&2
	fi
	echo "$bin"
}

# png FILE: a valid 1x1 PNG (users.avatar accepts images only).
png() {
	python3 - "$1" <<-'PY'
		import struct, sys, zlib
		def chunk(kind, data):
		    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
		raw = b"\x00\xff\x80\x00"
		png = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)) \
		    + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b"")
		open(sys.argv[1], "wb").write(png)
	PY
}

# start_s3 DIR BUCKET...: versitygw serving DIR/s3 (each bucket a folder);
# sets S3_ENDPOINT.
start_s3() {
	local dir=$1 gw port
	shift
	gw=$(go_tool versitygw github.com/versity/versitygw/cmd/versitygw@v1.2.0)
	for b in "$@"; do mkdir -p "$dir/s3/$b"; done
	port=$(free_port)
	S3_ENDPOINT=http://127.0.0.1:$port
	log "S3: versitygw posix $dir/s3 on $S3_ENDPOINT"
	"$gw" --access dtest-access --secret dtest-secret-key --region us-east-1 --port "127.0.0.1:$port" \
		posix "$dir/s3" >"$dir/versitygw.log" 2>&1 &
	PIDS+=($!)
	for _ in $(seq 100); do curl -s -o /dev/null "$S3_ENDPOINT/" && break; sleep 0.1; done
	curl -s -o /dev/null "$S3_ENDPOINT/" || { cat "$dir/versitygw.log" >&2; fail "versitygw did not start"; }
}

test_s3() {
	local dir su_token user_id avatar col_id obj
	dir=$(mktemp -d)
	TMPDIRS+=("$dir")
	start_s3 "$dir" hearth-files hearth-backups

	PORT=$(free_port)
	BASE_URL=http://127.0.0.1:$PORT
	VOLUME=$PREFIX-s3-$$
	docker volume create "$VOLUME" >/dev/null
	VOLUMES+=("$VOLUME")
	docker run -d --name "$PREFIX-s3-$$" --network host \
		-e HEARTH_HTTP="127.0.0.1:$PORT" \
		-e HEARTH_SUPERUSER_EMAIL="$SU_EMAIL" -e HEARTH_SUPERUSER_PASSWORD="$SU_PASSWORD" \
		-e HEARTH_S3_BUCKET=hearth-files -e HEARTH_S3_ENDPOINT="$S3_ENDPOINT" \
		-e HEARTH_S3_REGION=us-east-1 -e HEARTH_S3_ACCESS_KEY=dtest-access -e HEARTH_S3_SECRET=dtest-secret-key \
		-e HEARTH_S3_FORCE_PATH_STYLE=true \
		-e HEARTH_BACKUPS_S3_BUCKET=hearth-backups -e HEARTH_BACKUPS_CRON="0 3 * * *" -e HEARTH_BACKUPS_KEEP=2 \
		-v "$VOLUME:/pb_data" "$IMAGE" >/dev/null
	CONTAINERS+=("$PREFIX-s3-$$")
	wait_healthy "$PREFIX-s3-$$" >/dev/null
	if docker logs "$PREFIX-s3-$$" 2>&1 | grep -q dtest-secret-key; then fail "the S3 secret appears in the logs"; fi

	su_token=$(api POST /api/collections/_superusers/auth-with-password "" \
		"{\"identity\":\"$SU_EMAIL\",\"password\":\"$SU_PASSWORD\"}" | json token)
	png "$dir/avatar.png"
	local out
	out=$(curl -sS -X POST "$BASE_URL/api/collections/users/records" \
		-F email=erin@hearth.test -F password=erin-password-1 -F passwordConfirm=erin-password-1 -F name=Erin \
		-F "avatar=@$dir/avatar.png;type=image/png")
	user_id=$(json id <<<"$out" 2>/dev/null) || fail "upload through the API: $out"
	avatar=$(api GET "/api/collections/users/records/$user_id" "$su_token" | json avatar)
	col_id=$(api GET /api/collections/users "$su_token" | json id)
	obj=$dir/s3/hearth-files/$col_id/$user_id/$avatar
	[[ -f $obj ]] || { find "$dir/s3" -type f >&2; fail "uploaded file not in the bucket at $obj"; }
	cmp -s "$obj" "$dir/avatar.png" || fail "object in the bucket differs from the upload"
	echo "upload stored in S3: hearth-files/$col_id/$user_id/$avatar"

	api POST /api/backups "$su_token" '{"name":"dtest_backup.zip"}' >/dev/null
	[[ -f $dir/s3/hearth-backups/dtest_backup.zip ]] || { find "$dir/s3" -type f >&2; fail "backup not in the backups bucket"; }
	echo "backup stored in S3: hearth-backups/dtest_backup.zip"

	# A change after the backup, which the restore must undo.
	api POST /api/collections/users/records "" \
		'{"email":"late@hearth.test","password":"late-password-1","passwordConfirm":"late-password-1","name":"Late"}' >/dev/null
	api POST /api/backups/dtest_backup.zip/restore "$su_token" >/dev/null
	# PocketBase answers at once, restores in the background and re-executes
	# itself; wait until the restored data is served.
	local emails=
	for _ in $(seq 120); do
		sleep 0.5
		su_token=$(api POST /api/collections/_superusers/auth-with-password "" \
			"{\"identity\":\"$SU_EMAIL\",\"password\":\"$SU_PASSWORD\"}" 2>/dev/null | json token 2>/dev/null) || continue
		emails=$(api GET "/api/collections/users/records?fields=email&sort=email" "$su_token" 2>/dev/null |
			python3 -c 'import json,sys; print(" ".join(i["email"] for i in json.load(sys.stdin)["items"]))' 2>/dev/null) || continue
		[[ $emails == "erin@hearth.test" ]] && break
	done
	[[ $emails == "erin@hearth.test" ]] || fail "after the restore the users are '$emails', want only erin@hearth.test"
	# Avatars are protected files: the download needs a file token.
	local file_token
	file_token=$(api POST /api/files/token "$su_token" | json token) || fail "file token after restore"
	curl -fsS "$BASE_URL/api/files/users/$user_id/$avatar?token=$file_token" -o "$dir/downloaded.png" || fail "file download after restore"
	cmp -s "$dir/downloaded.png" "$dir/avatar.png" || fail "downloaded file differs after restore"
	echo "backup restored: the later user is gone, the upload downloads from S3"
	docker rm -f "$PREFIX-s3-$$" >/dev/null
}

# --- 6. Replication: built in, measured under load, restored after a SIGKILL --

REPLICA_SYNC=1
LOAD_SECONDS=40

# metric NAME [LABEL_TEXT]: the value of a series of METRICS_URL whose name
# is NAME and whose labels contain LABEL_TEXT (0 when there is none).
metric() {
	curl -fsS --max-time 5 "$METRICS_URL" | python3 -c '
import sys
name, want = sys.argv[1], sys.argv[2]
for line in sys.stdin:
    if not line.strip() or line.startswith("#"):
        continue
    series, value = line.rsplit(" ", 1)
    if series.split("{")[0] == name and want in series:
        print(value.strip()); break
else:
    print(0)' "$1" "${2:-}"
}

# run_hearth_repl NAME VOLUME [replicate]: the image with metrics on
# METRICS_PORT, rate limits off, and with "replicate" its data.db streamed
# to the versitygw bucket hearth-replica.
run_hearth_repl() {
	local args=(-e HEARTH_HTTP="127.0.0.1:$PORT" -e HEARTH_METRICS_ADDR="127.0.0.1:$METRICS_PORT"
		-e HEARTH_RATE_LIMITS=false -e HEARTH_LOG_FORMAT=json
		-e HEARTH_SUPERUSER_EMAIL="$SU_EMAIL" -e HEARTH_SUPERUSER_PASSWORD="$SU_PASSWORD")
	if [[ ${3:-} == replicate ]]; then
		args+=(-e HEARTH_REPLICA_URL=s3://hearth-replica/hearth -e HEARTH_REPLICA_SYNC_INTERVAL="${REPLICA_SYNC}s"
			-e HEARTH_S3_ENDPOINT="$S3_ENDPOINT" -e HEARTH_S3_REGION=us-east-1
			-e HEARTH_S3_ACCESS_KEY=dtest-access -e HEARTH_S3_SECRET=dtest-secret-key -e HEARTH_S3_FORCE_PATH_STYLE=true)
	fi
	docker run -d --name "$1" --network host "${args[@]}" -v "$2:/pb_data" "$IMAGE" >/dev/null
	CONTAINERS+=("$1")
}

# measure_load LABEL: 200 writes/s for LOAD_SECONDS against BASE_URL as the
# writer, a backup at 10 s and the daily optimisation at 20 s; prints the
# load generator's summary and what the metrics saw.
measure_load() {
	local label=$1 load_pid t0 ck0 wait0 out
	api POST /api/collections/users/records "" \
		'{"email":"writer@hearth.test","password":"writer-password-1","passwordConfirm":"writer-password-1","name":"Writer"}' >/dev/null
	WRITER_TOKEN=$(api POST /api/collections/users/auth-with-password "" \
		'{"identity":"writer@hearth.test","password":"writer-password-1"}' | json token)
	SU_TOKEN=$(api POST /api/collections/_superusers/auth-with-password "" \
		"{\"identity\":\"$SU_EMAIL\",\"password\":\"$SU_PASSWORD\"}" | json token)
	ck0=$(metric hearth_sqlite_checkpoints_total 'mode="PASSIVE"')
	wait0=$(metric hearth_sqlite_write_lock_wait_seconds_total)
	out=$DIR/load-$label.json
	log "$label: 200 writes/s for ${LOAD_SECONDS}s; a PocketBase backup at 10 s, the daily optimisation at 20 s"
	"$LOAD" -url "$BASE_URL" -token "$WRITER_TOKEN" -rate 200 -duration "${LOAD_SECONDS}s" >"$out" &
	load_pid=$!
	PIDS+=("$load_pid")
	sleep 10
	t0=$(now)
	API_TIMEOUT=120 api POST /api/backups "$SU_TOKEN" "{\"name\":\"under_load_$label.zip\"}" >/dev/null
	echo "backup under load: $(elapsed "$t0")s"
	sleep 10
	api POST /api/crons/__pbDBOptimize__ "$SU_TOKEN" >/dev/null
	echo "daily optimisation started"
	wait "$load_pid"
	python3 - "$label" "$out" <<-'PY'
		import json, sys
		s = json.load(open(sys.argv[2]))
		l = s["latencyMs"]
		print(f"{sys.argv[1]}: {s['ok']}/{s['offered']} writes acknowledged ({s['okPerSecond']:.0f}/s), failed {s['failed']}; "
		      f"latency p50 {l['p50']:.0f} ms, p90 {l['p90']:.0f} ms, p99 {l['p99']:.0f} ms, max {l['max']:.0f} ms; "
		      f"longest stall {s['longestStallMs']:.0f} ms")
	PY
	echo "$label: data.db checkpoints during the run: $(awk -v a="$ck0" -v b="$(metric hearth_sqlite_checkpoints_total 'mode="PASSIVE"')" 'BEGIN { print b - a }');" \
		"write-lock wait: $(awk -v a="$wait0" -v b="$(metric hearth_sqlite_write_lock_wait_seconds_total)" 'BEGIN { printf "%.1f", b - a }') s in total;" \
		"replication lag now: $(metric hearth_replica_lag_seconds) s; load average: $(cut -d' ' -f1-3 /proc/loadavg)"
}

test_replication() {
	local c v kill_at load_pid start out
	DIR=$(mktemp -d)
	TMPDIRS+=("$DIR")
	start_s3 "$DIR" hearth-replica
	LOAD=$STATE/tools/hearthload
	go build -o "$LOAD" ./internal/cmd/hearthload
	PORT=$(free_port)
	METRICS_PORT=$(free_port)
	BASE_URL=http://127.0.0.1:$PORT
	METRICS_URL=http://127.0.0.1:$METRICS_PORT/metrics

	# The same load without replication, for comparison on this machine.
	v=$PREFIX-norepl-$$
	docker volume create "$v" >/dev/null
	VOLUMES+=("$v")
	run_hearth_repl "$PREFIX-norepl-$$" "$v"
	wait_healthy "$PREFIX-norepl-$$" >/dev/null
	measure_load without-replication
	docker rm -f "$PREFIX-norepl-$$" >/dev/null

	v=$PREFIX-repl-$$
	c=$PREFIX-repl-$$
	docker volume create "$v" >/dev/null
	VOLUMES+=("$v")
	run_hearth_repl "$c" "$v" replicate
	wait_healthy "$c" >/dev/null
	curl -fsS -o /dev/null "$BASE_URL/metrics" >/dev/null 2>&1 && fail "metrics are served on the public address"
	measure_load with-replication
	[[ $(api GET /api/backups "$SU_TOKEN" | python3 -c 'import json,sys; print(" ".join(b["key"] for b in json.load(sys.stdin)))') == *under_load_with-replication.zip* ]] ||
		fail "the backup made under load is missing"

	log "SIGKILL under 200 writes/s"
	"$LOAD" -url "$BASE_URL" -token "$WRITER_TOKEN" -rate 200 -duration 0 -acks "$DIR/acks" >"$DIR/load-kill.json" &
	load_pid=$!
	PIDS+=("$load_pid")
	sleep 8
	kill_at=$(now)
	docker kill -s KILL "$c" >/dev/null
	sleep 0.5
	kill -TERM "$load_pid"
	wait "$load_pid" || true

	log "restore into a fresh volume through the image alone (restore on start)"
	v=$PREFIX-restored-$$
	docker volume create "$v" >/dev/null
	VOLUMES+=("$v")
	start=$(now)
	run_hearth_repl "$PREFIX-restored-$$" "$v" replicate
	wait_healthy "$PREFIX-restored-$$" >/dev/null
	RESTORE_SECONDS=$(elapsed "$start")
	out=$(docker logs "$PREFIX-restored-$$" 2>&1)
	[[ $out == *"replica: restored data.db"* ]] || { tail -20 <<<"$out" >&2; fail "the fresh volume was not restored"; }
	docker stop "$PREFIX-restored-$$" >/dev/null
	mkdir "$DIR/restored"
	cp "$(docker volume inspect -f '{{.Mountpoint}}' "$v")"/data.db* "$DIR/restored/"
	echo "restored and healthy ${RESTORE_SECONDS}s after the container started"
	python3 - "$DIR/restored/data.db" "$DIR/acks" "$kill_at" "$((REPLICA_SYNC + 1))" <<-'PY'
		import sqlite3, sys
		db, acks, kill_at, window = sqlite3.connect(sys.argv[1]), sys.argv[2], float(sys.argv[3]), float(sys.argv[4])
		present = {r[0] for r in db.execute("select id from groups")}
		writes = [(float(t), i) for t, i in (line.split() for line in open(acks))]
		old = [i for t, i in writes if t < kill_at - window]
		recent = [i for t, i in writes if t >= kill_at - window]
		missing = [i for i in old if i not in present]
		print(f"acknowledged writes: {len(writes)}; more than {window:.0f} s before the kill: {len(old)}, restored "
		      f"{len(old) - len(missing)}; in the last {window:.0f} s: {len(recent)}, restored {sum(i in present for i in recent)}")
		half = {
		    "groups without their owner": "select count(*) from groups g where not exists (select 1 from memberships m where m.\"group\" = g.id and m.role = 'owner')",
		    "groups without their change log entry": "select count(*) from groups g where not exists (select 1 from _hearth_changes c where c.collection = 'groups' and c.record = g.id)",
		    "memberships without their group": "select count(*) from memberships m where not exists (select 1 from groups g where g.id = m.\"group\")",
		}
		for what, q in half.items():
		    n = db.execute(q).fetchone()[0]
		    if n:
		        sys.exit(f"FAIL: {n} {what}: a transaction was half-applied")
		print("none half-applied: every restored group has its owner and its change log entry")
		if not old or missing:
		    sys.exit(f"FAIL: {len(missing)} writes acknowledged more than {window:.0f} s before the kill are missing")
	PY
}

main() {
	[[ $(id -u) == 0 ]] || fail "run as root"
	prepare_packages
	prepare_engine
	prepare_base
	build_image
	test_image
	test_compose
	test_s3
	test_replication
	echo
	echo "PASS: image $IMAGE_MB MB; cold start to /api/health ${COLD_UP}s, to Docker healthy ${COLD_HEALTHY}s;"
	echo "      restore of the replica into a fresh volume, to Docker healthy: ${RESTORE_SECONDS}s (load figures above)"
}

main "$@"
