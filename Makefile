# chatpass — the two commands: `make run` and `make test`.
# Both install what is missing first (scripts/install-tools.sh), then build in release mode.

SHELL := bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := run

export PATH := $(CURDIR)/.tools/node_modules/.bin:$(HOME)/.cargo/bin:$(PATH)
export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD := 1
export CARGO_TERM_COLOR ?= never

SOURCES := $(shell find src style public migrations -type f 2>/dev/null) Cargo.toml Cargo.lock
RELEASE_STAMP := target/site/.release-stamp
E2E_DEPS := end2end/node_modules/.installed

SDK := public/vendor/twilio-conversations.min.js
ORACLE_NODE := tests/oracle/node_modules/.installed
ORACLE_PY := .tools/oracle-venv/.installed

BENCH_NODE := bench/node/node_modules/.installed
BENCH_PY := .tools/bench-venv/.installed

.PHONY: run test bench tools browser lint unit e2e site oracles clean-data

## make run: install what is missing, build in release mode, serve http://127.0.0.1:3000
run: site
	LEPTOS_SITE_ROOT=target/site ./target/release/chatpass serve

## make test: format, lint, the release site, every Rust test, then the browser tests against it
test: tools lint site unit e2e

tools:
	@scripts/install-tools.sh build

browser:
	@scripts/install-tools.sh browser

# The release site (server binary + hydration bundle); rebuilt only when a source changed.
site: tools $(SDK) $(RELEASE_STAMP)

$(RELEASE_STAMP): $(SOURCES) $(SDK)
	cargo leptos build --release
	touch $@

# Twilio's Conversations browser SDK, pinned in vendor/package-lock.json, served by chatpass
# itself from /vendor/ (no CDN at run time). public/vendor/ is gitignored.
$(SDK): vendor/package.json vendor/package-lock.json
	npm --prefix vendor ci --no-audit --no-fund
	mkdir -p public/vendor
	cp vendor/node_modules/@twilio/conversations/builds/twilio-conversations.min.js $@

lint:
	cargo fmt --all -- --check
	cargo clippy --features ssr --all-targets -- -D warnings
	cargo clippy --lib --features hydrate --target wasm32-unknown-unknown -- -D warnings

# The Rust tests, twice: on SQLite, then on PostgreSQL. scripts/pg.sh starts a
# throw-away PostgreSQL server (initdb + pg_ctl on a temporary directory and a free
# port) for both runs (tests/scaleout.rs always uses it) and deletes it afterwards.
# tests/secrets.rs also scans the built site, so `site` comes first.
unit: oracles site
	scripts/pg.sh run bash -c 'CHATPASS_TEST_BACKEND=sqlite cargo test --features ssr \
		&& CHATPASS_TEST_BACKEND=postgres cargo test --features ssr'

# Twilio's official helper libraries (npm and PyPI, pinned): the references for token bytes.
oracles: $(ORACLE_NODE) $(ORACLE_PY)

$(ORACLE_NODE): tests/oracle/package.json tests/oracle/package-lock.json
	npm --prefix tests/oracle ci --no-audit --no-fund
	touch $@

$(ORACLE_PY): tests/oracle/requirements.txt
	python3 -m venv .tools/oracle-venv
	.tools/oracle-venv/bin/pip install --quiet --disable-pip-version-check -r tests/oracle/requirements.txt
	touch $@

$(E2E_DEPS): end2end/package.json end2end/package-lock.json
	npm --prefix end2end ci --no-audit --no-fund
	touch $@

# Each browser test starts its own chatpass (target/release/chatpass) on a free port
# with a throw-away database, and stops it afterwards.
e2e: browser site $(E2E_DEPS)
	cd end2end && npx playwright test

## make bench: benchmarks and budgets (a budget miss fails make bench, never make test)
bench: tools site $(BENCH_NODE) $(BENCH_PY)
	@scripts/install-tools.sh bench
	.tools/bench-venv/bin/python bench/run.py

$(BENCH_NODE): bench/node/package.json bench/node/package-lock.json
	npm --prefix bench/node ci --no-audit --no-fund
	touch $@

$(BENCH_PY): bench/python/requirements.txt
	python3 -m venv .tools/bench-venv
	.tools/bench-venv/bin/pip install --quiet --disable-pip-version-check -r bench/python/requirements.txt
	touch $@

clean-data:
	rm -rf data
