# chatpass — the two commands: `make run` and `make test` (and `make dev` for the edit loop).
# Each installs what is missing first (scripts/install-tools.sh).

SHELL := bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := run

export PATH := $(CURDIR)/.tools/node_modules/.bin:$(HOME)/.cargo/bin:$(PATH)
export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD := 1
export CARGO_TERM_COLOR ?= never

SOURCES := $(shell find src style public migrations -type f 2>/dev/null) Cargo.toml Cargo.lock
# Stamps live inside target/site: any cargo-leptos build empties that directory, so a
# stamp never outlives the build it vouches for (a debug `make dev` build included).
RELEASE_STAMP := target/site/.release-stamp
BUNDLE_STAMP := target/site/.bundle-stamp
E2E_DEPS := end2end/node_modules/.installed

SDK := public/vendor/twilio-conversations.min.js
ORACLE_NODE := tests/oracle/node_modules/.installed
ORACLE_PY := .tools/oracle-venv/.installed
OIDC_NODE := tests/oidc/node_modules/.installed
SMTP_PY := .tools/smtp-venv/.installed

BENCH_NODE := bench/node/node_modules/.installed
BENCH_PY := .tools/bench-venv/.installed

# Clippy as the compiler of our own crate in the builds `make test` needs anyway (the
# test build, the release bundle), instead of separate `cargo clippy` check builds that
# compile every dependency again: cargo runs RUSTC_WORKSPACE_WRAPPER for workspace crates
# only, so dependencies stay plain rustc builds, and clippy-driver both lints (denying
# warnings through CLIPPY_ARGS, the variable `cargo clippy` itself sets) and compiles.
# `lint-guard` proves the deny is in force before anything relies on it.
LINTED := RUSTC_WORKSPACE_WRAPPER=clippy-driver CLIPPY_ARGS=-D__CLIPPY_HACKERY__warnings__CLIPPY_HACKERY__
TEST_BIN := target/debug/chatpass

.PHONY: run dev test times-start bench tools disk-check browser deploy-tools fmt lint-guard installer-test bundle test-build unit e2e site oracles clean-data

## make run: install what is missing, build in release mode, serve http://127.0.0.1:3000
run: site
	LEPTOS_SITE_ROOT=target/site ./target/release/chatpass serve

## make dev: debug build, rebuilt and reloaded in the browser on every save (cargo leptos watch)
# Every build is `--split`: the `#[island(lazy)]` islands import their code from chunks that
# only the split build writes, so a bundle built without it does not start.
# Its own target directory: a watch build compiles Leptos with LEPTOS_WATCH set, and sharing
# target/debug with the test build would make each of them rebuild Leptos after the other.
dev: tools $(SDK)
	CARGO_TARGET_DIR=target/dev cargo leptos watch --split

## make test: format, lints, the release bundle, every Rust test, then the browser tests
# The release bundle (wasm32, target/front) and the linted test build (target/debug) do
# not share a target directory, so they build side by side, while the npm and PyPI test
# packages download; each target's output is printed whole when it finishes.
# Each step's time goes to target/test-times.txt (scripts/timed.sh), printed at the end.
test: times-start tools fmt installer-test lint-guard disk-check
	$(MAKE) --no-print-directory -j4 --output-sync=target bundle test-build oracles $(OIDC_NODE) $(SMTP_PY) browser deploy-tools $(E2E_DEPS)
	$(MAKE) --no-print-directory unit e2e
	@echo "make test: where the time went" && cat target/test-times.txt && \
		echo "total                      $$(($$(date +%s) - $$(cat target/test-times.start))) s"

times-start:
	@mkdir -p target && date +%s > target/test-times.start && : > target/test-times.txt

tools:
	@scripts/timed.sh tools scripts/install-tools.sh build

# A first `make test` writes about $(TEST_DISK_GB) GB (target/, test packages); on a fuller
# disk the build fails late, as a linker error. Say so up front (a warning: an existing
# target/ needs far less; a df that fails or says nothing readable skips the check).
TEST_DISK_GB := 4
disk-check:
	@free=$$(df -Pk . 2>/dev/null | awk 'NR == 2 { print int($$4 / 1048576) }') || free=; \
	if [ ! -d target/debug ] && [ -n "$$free" ] && [ "$$free" -lt $(TEST_DISK_GB) ]; then \
		echo "warning: $$free GB free on this disk; a first make test writes about $(TEST_DISK_GB) GB (a full disk fails the build as a linker error)" >&2; \
	fi

browser:
	@scripts/timed.sh "install Chromium" scripts/install-tools.sh browser

# nginx for tests/integration/deploy.rs (apt-get waits for dpkg's lock when `browser`
# installs at the same time).
deploy-tools:
	@scripts/timed.sh "install nginx, systemd" scripts/install-tools.sh deploy

fmt:
	scripts/timed.sh fmt cargo fmt --all -- --check

# The installer, on a simulated bare machine (stand-ins for cargo, rustup and npm).
installer-test:
	scripts/timed.sh installer-test tests/install-tools/run.sh

lint-guard:
	@guard=$$(mktemp -d) && trap 'rm -rf "$$guard"' EXIT && \
	printf 'fn main() {\n    let v: Vec<u8> = Vec::new();\n    let _ = v.len() == 0;\n}\n' > "$$guard/guard.rs" && \
	if $(LINTED) clippy-driver rustc "$$guard/guard.rs" --edition 2021 --emit=metadata --out-dir "$$guard" >/dev/null 2>&1; then \
		echo "lint-guard: clippy-driver did not deny a warning; the lint steps would prove nothing"; exit 1; \
	else echo "lint-guard: clippy denies warnings"; fi

# The full release site (server binary + bundle), for `make run` and `make bench`;
# rebuilt only when a source changed.
site: tools $(SDK) $(RELEASE_STAMP)

$(RELEASE_STAMP): $(SOURCES) $(SDK)
	cargo leptos build --release --split
	touch $@

# The release browser bundle alone (what the browser tests load), linted as the
# `hydrate` build for wasm32 while it compiles.
bundle: tools $(SDK) $(BUNDLE_STAMP)

$(BUNDLE_STAMP): $(SOURCES) $(SDK)
	$(LINTED) scripts/timed.sh bundle cargo leptos build --release --frontend-only --split
	touch $@

# Every Rust target with the server features (lib, binary, tests, benches), linted as it
# compiles. Cargo decides what is stale; a second run is a no-op.
test-build: tools
	$(LINTED) scripts/timed.sh test-build cargo test --features ssr --all-targets --no-run

# Twilio's Conversations browser SDK, pinned in vendor/package-lock.json, served by chatpass
# itself from /vendor/ (no CDN at run time). public/vendor/ is gitignored.
$(SDK): vendor/package.json vendor/package-lock.json
	scripts/timed.sh "npm: vendor SDK" npm --prefix vendor ci --no-audit --no-fund
	mkdir -p public/vendor
	cp vendor/node_modules/@twilio/conversations/builds/twilio-conversations.min.js $@

# The Rust tests: every test on SQLite, then the tests whose outcome depends on the
# database (tests/integration/main.rs, `each_database`) again on PostgreSQL.
# scripts/pg.sh starts a throw-away PostgreSQL server (initdb + pg_ctl on a temporary
# directory and a free port) for both passes (the scale-out tests always use it) and
# deletes it afterwards. The health and secrets tests look at the built bundle, so
# `bundle` comes first. Same LINTED environment as test-build: nothing recompiles.
unit: oracles $(OIDC_NODE) $(SMTP_PY) bundle test-build deploy-tools
	$(LINTED) scripts/pg.sh run bash -c 'CHATPASS_TEST_BACKEND=sqlite scripts/timed.sh "tests on SQLite" cargo test --features ssr \
		&& CHATPASS_TEST_BACKEND=postgres scripts/timed.sh "tests on PostgreSQL" cargo test --features ssr --test integration each_database::'

# Twilio's official helper libraries (npm and PyPI, pinned): the references for token bytes.
oracles: $(ORACLE_NODE) $(ORACLE_PY)

$(ORACLE_NODE): tests/oracle/package.json tests/oracle/package-lock.json
	scripts/timed.sh "npm: tests/oracle" npm --prefix tests/oracle ci --no-audit --no-fund
	touch $@

$(ORACLE_PY): tests/oracle/requirements.txt
	python3 -m venv .tools/oracle-venv
	scripts/timed.sh "PyPI: oracle" .tools/oracle-venv/bin/pip install --quiet --disable-pip-version-check -r tests/oracle/requirements.txt
	touch $@

# A real OpenID Connect provider for the login tests (oidc-provider, pinned):
# tests/oidc/provider.mjs.
$(OIDC_NODE): tests/oidc/package.json tests/oidc/package-lock.json
	scripts/timed.sh "npm: tests/oidc" npm --prefix tests/oidc ci --no-audit --no-fund
	touch $@

# A real SMTP server for the mail tests (aiosmtpd, pinned): tests/smtp/sink.py.
$(SMTP_PY): tests/smtp/requirements.txt
	python3 -m venv .tools/smtp-venv
	scripts/timed.sh "PyPI: smtp" .tools/smtp-venv/bin/pip install --quiet --disable-pip-version-check -r tests/smtp/requirements.txt
	touch $@

$(E2E_DEPS): end2end/package.json end2end/package-lock.json
	scripts/timed.sh "npm: end2end" npm --prefix end2end ci --no-audit --no-fund
	touch $@

# Each browser test starts its own chatpass on a free port with a throw-away database,
# and stops it afterwards: the server built by test-build, the release bundle.
e2e: browser bundle test-build $(E2E_DEPS) $(SMTP_PY) $(OIDC_NODE)
	cd end2end && CHATPASS_BIN=$(CURDIR)/$(TEST_BIN) ../scripts/timed.sh "browser tests" npx playwright test

## make bench: benchmarks and budgets (a budget miss fails make bench, never make test)
bench: tools site browser $(E2E_DEPS) $(BENCH_NODE) $(BENCH_PY)
	@scripts/install-tools.sh bench
	cargo build --release --features ssr --example token_floor
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
