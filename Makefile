# Hearth's commands. PocketBase v0.40 needs Go 1.27; the go command fetches
# that toolchain from the module proxy when GOTOOLCHAIN names it, so every
# target works on a machine whose installed Go is older.
export GOTOOLCHAIN := go1.27.3

BIN := bin/hearth
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -s -w -X github.com/crews/hearth/version.Version=$(VERSION)

.PHONY: run build seed test test-go test-e2e e2e-deps client-js vet docker-test

## run: build and serve on 127.0.0.1:8090 with data in ./pb_data
run: build
	./$(BIN) serve

## seed: add the demo data to ./pb_data (prints the demo passwords)
seed: build
	./$(BIN) seed

## build: compile bin/hearth
build:
	go build -trimpath -ldflags "$(LDFLAGS)" -o $(BIN) .

## test: every test: Go packages, then the end-to-end suite against bin/hearth
test: test-go test-e2e

test-go:
	go vet ./...
	go test -count=1 ./...

e2e-deps:
	cd e2e && npm ci --no-audit --no-fund

## client-js: build the reference sync client (clients/js/dist), used by e2e
client-js:
	cd clients/js && npm ci --no-audit --no-fund && npm run build

## test-e2e: the e2e suite; E2E=file.test.mjs runs one file
test-e2e: build e2e-deps client-js
	cd e2e && HEARTH_BIN=$(CURDIR)/$(BIN) npm test -- $(E2E)

## docker-test: the deploy (Dockerfile, compose, S3, replication under load) against a real Docker engine; needs root
docker-test:
	scripts/docker-test.sh
