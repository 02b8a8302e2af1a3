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
#    replace the container, the group is still there; non-root; < 40 MB;
# 4. validates docker-compose.yml and brings its hearth service up with a
#    host-network override, then checks health;
# 5. S3: the image stores an upload and a backup in a real S3 server
#    (versitygw's posix backend, a folder), then restores the backup;
# 6. Litestream replicates data.db to a file:// replica while a client writes;
#    after SIGKILL (Litestream and Hearth), the restored replica holds every
#    write acknowledged before the loss window; prints the replication lag.
#
# versitygw and litestream are `go install`ed into $STATE/tools once. Every
# container and volume it makes is named hearth-dtest-*; they, its temp dirs
# and its processes are removed on exit. Must run as root (it installs
# packages and runs dockerd). Cold (nothing prepared) it took 6m48s here.
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
MAX_IMAGE_BYTES=$((40 * 1000 * 1000))
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
	docker-compose --env-file .env.example -f docker-compose.yml --profile s3 --profile replicate config -q
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

test_s3() {
	local gw dir s3port su_token user_id avatar col_id obj
	gw=$(go_tool versitygw github.com/versity/versitygw/cmd/versitygw@v1.2.0)
	dir=$(mktemp -d)
	TMPDIRS+=("$dir")
	mkdir -p "$dir/s3/hearth-files" "$dir/s3/hearth-backups"
	s3port=$(free_port)
	log "S3: versitygw posix $dir/s3 on 127.0.0.1:$s3port"
	"$gw" --access dtest-access --secret dtest-secret-key --region us-east-1 --port "127.0.0.1:$s3port" \
		posix "$dir/s3" >"$dir/versitygw.log" 2>&1 &
	PIDS+=($!)
	for _ in $(seq 100); do curl -s -o /dev/null "http://127.0.0.1:$s3port/" && break; sleep 0.1; done
	curl -s -o /dev/null "http://127.0.0.1:$s3port/" || { cat "$dir/versitygw.log" >&2; fail "versitygw did not start"; }

	PORT=$(free_port)
	BASE_URL=http://127.0.0.1:$PORT
	VOLUME=$PREFIX-s3-$$
	docker volume create "$VOLUME" >/dev/null
	VOLUMES+=("$VOLUME")
	docker run -d --name "$PREFIX-s3-$$" --network host \
		-e HEARTH_HTTP="127.0.0.1:$PORT" \
		-e HEARTH_SUPERUSER_EMAIL="$SU_EMAIL" -e HEARTH_SUPERUSER_PASSWORD="$SU_PASSWORD" \
		-e HEARTH_S3_BUCKET=hearth-files -e HEARTH_S3_ENDPOINT="http://127.0.0.1:$s3port" \
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

# --- 6. Litestream: continuous replication survives a SIGKILL ------------------

# sql DB QUERY: one value from a SQLite file.
sql() { python3 -c 'import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute(sys.argv[2]).fetchone()[0])' "$1" "$2"; }

test_litestream() {
	local ls dir c token su_token lag lags=() t0 kill_at ls_pid writer_pid
	ls=$(go_tool litestream github.com/benbjohnson/litestream/cmd/litestream@v0.5.18)
	dir=$(mktemp -d)
	TMPDIRS+=("$dir")
	mkdir -p "$dir/pb_data" "$dir/replica"
	chown 10001:10001 "$dir/pb_data"
	PORT=$(free_port)
	BASE_URL=http://127.0.0.1:$PORT
	c=$PREFIX-litestream-$$
	log "Litestream: $dir/pb_data/data.db -> file://$dir/replica"
	# Rate limits off: the writer creates groups far faster than a client may.
	docker run -d --name "$c" --network host -e HEARTH_HTTP="127.0.0.1:$PORT" -e HEARTH_RATE_LIMITS=false \
		-e HEARTH_SUPERUSER_EMAIL="$SU_EMAIL" -e HEARTH_SUPERUSER_PASSWORD="$SU_PASSWORD" \
		-v "$dir/pb_data:/pb_data" "$IMAGE" >/dev/null
	CONTAINERS+=("$c")
	wait_healthy "$c" >/dev/null

	# The repository's litestream.yml, pointed at a file replica.
	cat >"$dir/litestream.yml" <<-YAML
		dbs:
		  - path: $dir/pb_data/data.db
		    monitor-interval: 250ms
		    replica:
		      type: file
		      path: $dir/replica
		      sync-interval: 1s
	YAML
	"$ls" replicate -config "$dir/litestream.yml" >"$dir/litestream.log" 2>&1 &
	ls_pid=$!
	PIDS+=("$ls_pid")

	api POST /api/collections/users/records "" \
		'{"email":"writer@hearth.test","password":"writer-password-1","passwordConfirm":"writer-password-1","name":"Writer"}' >/dev/null
	token=$(api POST /api/collections/users/auth-with-password "" \
		'{"identity":"writer@hearth.test","password":"writer-password-1"}' | json token)
	su_token=$(api POST /api/collections/_superusers/auth-with-password "" \
		"{\"identity\":\"$SU_EMAIL\",\"password\":\"$SU_PASSWORD\"}" | json token)

	# Replication lag: from a write's acknowledgement to a restore that has it
	# (an upper bound: it includes the restore's own run time).
	local id
	for k in 1 2 3 4 5; do
		id=$(api POST /api/collections/groups/records "$token" "{\"name\":\"lag $k\"}" | json id)
		t0=$(now)
		for _ in $(seq 100); do
			rm -f "$dir/lag.db"*
			if "$ls" restore -o "$dir/lag.db" "file://$dir/replica" >/dev/null 2>&1 &&
				[[ $(sql "$dir/lag.db" "select count(*) from groups where id = '$id'") == 1 ]]; then
				break
			fi
			sleep 0.05
		done
		lag=$(elapsed "$t0")
		lags+=("$lag")
	done
	LAGS=${lags[*]}
	echo "replication lag (write acknowledged -> restorable), 5 samples: $LAGS s"

	python3 scripts/litestream-writer.py "$BASE_URL" "$token" "$dir/acks" &
	writer_pid=$!
	PIDS+=("$writer_pid")
	sleep 3
	# A PocketBase backup checkpoints the WAL with TRUNCATE while Litestream
	# holds its read transaction: the checkpoint waits out PocketBase's busy
	# timeout, stalling writes; nothing may be lost.
	t0=$(now)
	API_TIMEOUT=60 api POST /api/backups "$su_token" '{"name":"under_litestream.zip"}' >/dev/null
	BACKUP_SECONDS=$(elapsed "$t0")
	# Kill while writes flow: once 100 more have been acknowledged.
	local n0
	n0=$(wc -l <"$dir/acks")
	for _ in $(seq 300); do
		(($(wc -l <"$dir/acks") >= n0 + 100)) && break
		sleep 0.1
	done
	kill_at=$(now)
	{ kill -KILL "$ls_pid" && wait "$ls_pid"; } 2>/dev/null || true
	docker kill -s KILL "$c" >/dev/null
	sleep 0.5
	kill "$writer_pid" 2>/dev/null || true

	mkdir "$dir/restored"
	"$ls" restore -o "$dir/restored/data.db" "file://$dir/replica" >"$dir/restore.log" 2>&1 ||
		{ cat "$dir/restore.log" >&2; fail "litestream restore"; }
	# Litestream notices a commit within monitor-interval (250ms) and ships it
	# within sync-interval (1s): every write acknowledged 1.25s before the
	# kill must be in the replica.
	python3 - "$dir/restored/data.db" "$dir/acks" "$kill_at" 1.25 <<-'PY'
		import sqlite3, sys
		db, acks, kill_at, window = sys.argv[1], sys.argv[2], float(sys.argv[3]), float(sys.argv[4])
		present = {r[0] for r in sqlite3.connect(db).execute("select id from groups")}
		writes = [(float(t), i) for t, i in (line.split() for line in open(acks))]
		old = [i for t, i in writes if t < kill_at - window]
		recent = [i for t, i in writes if t >= kill_at - window]
		missing = [i for i in old if i not in present]
		print(f"acknowledged writes: {len(writes)}; older than {window}s before the kill: {len(old)}, "
		      f"restored {len(old) - len(missing)}; in the last {window}s: {len(recent)}, "
		      f"restored {sum(i in present for i in recent)}")
		times = sorted(t for t, _ in writes)
		print(f"longest gap between acknowledged writes: {max(b - a for a, b in zip(times, times[1:])):.1f}s")
		if not old or missing:
		    sys.exit(f"FAIL: {len(missing)} acknowledged writes missing from the restored replica")
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
	test_litestream
	echo
	echo "PASS: image $IMAGE_MB MB; cold start to /api/health ${COLD_UP}s, to Docker healthy ${COLD_HEALTHY}s;"
	echo "      Litestream replication lag samples: $LAGS s; a backup under Litestream took ${BACKUP_SECONDS}s"
}

main "$@"
