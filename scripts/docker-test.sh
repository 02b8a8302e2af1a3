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
#    host-network override, then checks health.
#
# Every container, volume and network it makes is named hearth-dtest-* and
# removed on exit. Must run as root (it installs packages and runs dockerd).
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
	local start
	start=$(now)
	log "docker build -t $IMAGE ."
	docker build --network host --build-arg VERSION="dtest-$(git describe --always --dirty 2>/dev/null || echo dev)" -t "$IMAGE" . 
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
	local args=(-sS --max-time 10 -X "$method" -H 'Content-Type: application/json' -w '\n%{http_code}')
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

main() {
	[[ $(id -u) == 0 ]] || fail "run as root"
	prepare_packages
	prepare_engine
	prepare_base
	build_image
	test_image
	echo
	echo "PASS: image $IMAGE_MB MB; cold start to /api/health ${COLD_UP}s, to Docker healthy ${COLD_HEALTHY}s"
}

main "$@"
