# Hearth's commands. PocketBase v0.40 needs Go 1.27; the go command fetches
# that toolchain from the module proxy when GOTOOLCHAIN names it, so every
# target works on a machine whose installed Go is older.
export GOTOOLCHAIN := go1.27.3
# npm waits up to 5 minutes for a stalled registry answer, twice; a CI run
# that meets one (seen here: npm ci idle for 17 minutes on open sockets)
# fails over to a new request after a minute instead, up to 5 times.
export npm_config_fetch_timeout := 60000
export npm_config_fetch_retries := 5

BIN := bin/hearth
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -s -w -X github.com/crews/hearth/version.Version=$(VERSION)

.PHONY: run build seed typegen test test-go test-e2e e2e-deps test-servers client-js app chromium sqlite3 browser-deps test-browser vet docker-test bench bench-quick bench-bins test-metro

## run: build and serve on 127.0.0.1:8090 with data in ./pb_data
run: build
	./$(BIN) serve

## seed: add the demo data to ./pb_data (prints the demo passwords)
seed: build
	./$(BIN) seed

## typegen: regenerate the TypeScript types of the client package from the schema
typegen: build
	./$(BIN) typegen --out clients/js/src/types.gen.ts

## build: compile bin/hearth
build:
	go build -trimpath -ldflags "$(LDFLAGS)" -o $(BIN) .

## test: every test: Go packages, the end-to-end suite against bin/hearth, the example app's type check and web build, the browser suites, the phone bundles
test: test-go test-e2e test-browser test-metro

test-go:
	go vet ./...
	go test -count=1 ./...

e2e-deps:
	cd e2e && npm ci --no-audit --no-fund

## client-js: build the client package (clients/js/dist, used by e2e and the example app) and type-check its type tests
client-js:
	cd clients/js && npm ci --no-audit --no-fund && npm run build && npm run typecheck

## sqlite3: Debian's sqlite3, with which the store test recovers a killed store's file as a phone's SQLite does; a no-op when installed (installing needs root)
sqlite3:
	@command -v sqlite3 >/dev/null || { apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y sqlite3; }

## test-servers: the real servers the sign-in tests start (bin/mailpit, an SMTP server with an API; bin/oidcop, an OpenID Connect provider), built from the Go module proxy once
test-servers: bin/mailpit bin/oidcop

MAILPIT_MODULE := github.com/axllent/mailpit@v1.33.1

bin/mailpit:
	GOBIN=$(CURDIR)/bin go install -trimpath $(MAILPIT_MODULE)

bin/oidcop: internal/oidcop/main.go internal/oidcop/go.mod internal/oidcop/go.sum
	cd internal/oidcop && go build -trimpath -o $(CURDIR)/bin/oidcop .

## test-e2e: the e2e suite; E2E=file.test.mjs runs one file
test-e2e: build e2e-deps client-js sqlite3 test-servers
	cd e2e && HEARTH_BIN=$(CURDIR)/$(BIN) npm test -- $(E2E)

## app: install the example app, type-check it (tsc) and build it for the web (examples/crews-app/web-build)
app: client-js
	cd examples/crews-app && npm ci --no-audit --no-fund && npm run typecheck && npm run build:web

## test-metro: the example app's phone bundles: `expo export` (Metro, Hermes) for Android and iOS from the app as `make app` installed it, then one copy each of pocketbase and React in each bundle (examples/crews-app/dist-phone)
test-metro: app
	cd examples/crews-app && rm -rf dist-phone && \
		EXPO_OFFLINE=1 EXPO_NO_TELEMETRY=1 npx expo export --platform android --platform ios --source-maps --output-dir dist-phone && \
		node scripts/check-bundles.mjs dist-phone && \
		node scripts/check-links.mjs

## chromium: Debian's Chromium for the browser tests, and sqlite3, with which the dashboard test reads the database; a no-op when both are installed (installing needs root)
chromium:
	@command -v chromium >/dev/null && command -v sqlite3 >/dev/null || \
		{ apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y chromium sqlite3; }

browser-deps: chromium
	cd browser && npm ci --no-audit --no-fund

## test-browser: the browser suites (example app, dashboard) in headless Chromium; BROWSER=file.test.mjs runs one
test-browser: build e2e-deps browser-deps app test-servers
	cd browser && HEARTH_BIN=$(CURDIR)/$(BIN) npm test -- $(BROWSER)

## docker-test: the deploy (Dockerfile, compose, S3, replication under load) against a real Docker engine; needs root
docker-test:
	scripts/docker-test.sh

## bench-bins: bin/hearth, plain PocketBase with the same pb_migrations (bin/plainpb), the harness (bin/bench)
bench-bins: build
	go build -trimpath -ldflags "-s -w" -o bin/plainpb ./bench/plainpb
	go build -trimpath -o bin/bench ./bench

# SSE clients hold a file descriptor each on both sides: the harness and the
# servers it starts run with the soft open-file limit raised to the hard one.

## bench: Hearth against plain PocketBase, full dataset (docs/benchmarks.md; about 26 minutes)
bench: bench-bins
	ulimit -n $$(ulimit -Hn) && bin/bench run -out docs/benchmarks.md

## bench-quick: the same on a small dataset and 1,000 SSE clients (a few minutes; report in $TMPDIR, docs/benchmarks.md keeps the full run)
bench-quick: bench-bins
	ulimit -n $$(ulimit -Hn) && bin/bench run -quick -out $${TMPDIR:-/tmp}/hearth-bench-quick.md
