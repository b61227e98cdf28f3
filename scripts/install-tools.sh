#!/usr/bin/env bash
# Installs the build tools chatpass needs, once. Every step is skipped when the
# right version is already there, so a second run does nothing and takes a second.
#
#   scripts/install-tools.sh build     wasm target, clippy, cargo-leptos, wasm-bindgen CLI, wasm-opt
#   scripts/install-tools.sh browser   Debian's Chromium (for the end2end tests)
#   scripts/install-tools.sh bench     Debian's wrk (for make bench)
#   scripts/install-tools.sh deploy    Debian's nginx-light (to check deploy/nginx.conf)
#
# Pins live here and in Cargo.toml (wasm-bindgen must match the CLI exactly).
set -euo pipefail

CARGO_LEPTOS_VERSION=0.3.11
WASM_BINDGEN_VERSION=0.2.130
BINARYEN_VERSION=132

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
TOOLS="$ROOT/.tools"            # npm-installed tools (wasm-opt) live here, gitignored
CARGO_BIN="${CARGO_HOME:-$HOME/.cargo}/bin"
export PATH="$TOOLS/node_modules/.bin:$CARGO_BIN:$PATH"

say() { printf '[install-tools] %s\n' "$*" >&2; }
die() { say "$*"; exit 1; }

# Unpacks a crate's published source with cargo itself and prints the directory.
crate_source() {
    local name=$1 version=$2
    (cd /tmp && cargo info --quiet "$name@$version" >/dev/null) ||
        die "$name $version: could not fetch its source from crates.io"
    local dir
    dir=$(ls -d "${CARGO_HOME:-$HOME/.cargo}"/registry/src/*/"$name-$version" 2>/dev/null | head -n1)
    [ -n "$dir" ] && [ -d "$dir" ] || die "$name $version: could not unpack its source"
    echo "$dir"
}

# Builds a crate from a copy of its source, with one lockfile entry moved back so that
# it compiles on this Rust (the published lockfiles pin crates that need a newer one).
# Runs in a subshell: its EXIT trap removes the work directory whatever happens, and
# nothing of it outlives the function (a RETURN trap did, and fired again in the caller).
# The binary is built into a staging root and moved into place in one rename, so a
# failed build never leaves a half-installed tool on PATH.
install_from_source() (
    local name=$1 version=$2 pkg=$3 precise=$4 bin=$5
    local src work
    src=$(crate_source "$name" "$version")
    work=$(mktemp -d)
    trap 'rm -rf "$work"' EXIT
    mkdir -p "$work/src" "$work/root"
    cp -r "$src/." "$work/src/"
    (cd "$work/src" && cargo update --quiet -p "$pkg" --precise "$precise") ||
        die "$name $version: could not pin $pkg to $precise"
    say "building $name $version (slow the first time: cargo-leptos takes ~20 min on 2 cores)"
    cargo install --quiet --locked --force --path "$work/src" --root "$work/root" --bin "$bin" ||
        die "$name $version: cargo install failed (nothing was installed)"
    [ -x "$work/root/bin/$bin" ] || die "$name $version: cargo install made no $bin binary"
    mkdir -p "$CARGO_BIN"
    local partial="$CARGO_BIN/.$bin.partial.$$"
    cp "$work/root/bin/$bin" "$partial" && mv -f "$partial" "$CARGO_BIN/$bin" ||
        { rm -f "$partial"; die "$name $version: could not copy $bin into $CARGO_BIN"; }
    say "installed $bin $version into $CARGO_BIN"
)

build_tools() {
    command -v rustup >/dev/null ||
        die "rustup is missing: install Rust with rustup (https://rustup.rs), then run this again"
    command -v cargo >/dev/null || die "cargo is missing: install Rust with rustup (https://rustup.rs)"
    command -v npm >/dev/null || die "npm is missing: install Node.js 20 with npm (Debian: apt-get install nodejs npm)"

    # Two runs at once (two terminals, make -j) would build the same tools twice and race
    # on the rename: the second waits for the first, then finds everything installed.
    mkdir -p "$CARGO_BIN"
    exec 9>"$CARGO_BIN/.chatpass-install-tools.lock"
    if ! flock -n 9; then
        say "another install-tools run is building; waiting for it to finish"
        flock 9
    fi

    if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
        say "adding the wasm32-unknown-unknown target"
        rustup target add wasm32-unknown-unknown || die "wasm32-unknown-unknown: rustup target add failed"
    fi

    # make test lints with clippy-driver (the Makefile's LINTED builds); minimal rustup
    # profiles leave clippy out.
    if ! rustup component list --installed | grep -q '^clippy'; then
        say "adding the clippy component"
        rustup component add clippy || die "clippy: rustup component add failed"
    fi

    if ! wasm-bindgen --version 2>/dev/null | grep -q " $WASM_BINDGEN_VERSION\$"; then
        install_from_source wasm-bindgen-cli "$WASM_BINDGEN_VERSION" webpki-roots 1.0.10 wasm-bindgen
    fi

    if ! cargo-leptos --version 2>/dev/null | grep -q " $CARGO_LEPTOS_VERSION\$"; then
        install_from_source cargo-leptos "$CARGO_LEPTOS_VERSION" cargo-util-schemas 0.14.1 cargo-leptos
    fi

    # Debian's binaryen (wasm-opt 108) silently breaks the bundle; npm's binaryen works.
    if ! wasm-opt --version 2>/dev/null | grep -qE "version $BINARYEN_VERSION( |\$)"; then
        say "installing wasm-opt (binaryen $BINARYEN_VERSION) from npm into .tools/"
        mkdir -p "$TOOLS"
        [ -f "$TOOLS/package.json" ] || echo '{"private":true}' > "$TOOLS/package.json"
        npm install --prefix "$TOOLS" --no-audit --no-fund --silent "binaryen@$BINARYEN_VERSION" ||
            die "binaryen $BINARYEN_VERSION: npm install failed"
        wasm-opt --version 2>/dev/null | grep -qE "version $BINARYEN_VERSION( |\$)" ||
            die "binaryen $BINARYEN_VERSION: wasm-opt is still not version $BINARYEN_VERSION after npm install"
    fi
}

# Installs Debian's package $2 unless command $1 is there; $3 says what it is for. Only
# root can install; anyone else is told the command to run.
apt_tool() {
    if command -v "$1" >/dev/null || [ -x "/usr/sbin/$1" ]; then return 0; fi
    if [ "$(id -u)" -ne 0 ]; then
        say "$1 is missing: run 'sudo apt-get install -y $2', then make $4 again"
        exit 1
    fi
    say "installing Debian's $2 ($3)"
    # make runs the installers side by side: one apt-get at a time. DPkg::Lock::Timeout
    # waits for dpkg's lock only; `apt-get update`'s lists lock fails at once when held,
    # so our own lock serialises them (and the timeout covers an apt-get not ours).
    (
        flock 8
        apt-get -o DPkg::Lock::Timeout=300 update -qq
        DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 install -y -qq --no-install-recommends "$2" >/dev/null
    ) 8>/run/lock/chatpass-apt.lock
}

browser() {
    if [ -x /usr/bin/chromium ]; then return 0; fi
    apt_tool chromium chromium "the browser tests' browser" test
}

bench() {
    apt_tool wrk wrk "load generator" bench
}

# The checkers the deployment samples are tested with (tests/integration/deploy.rs):
# systemd-analyze (Debian's systemd) for deploy/chatpass.service, nginx (nginx-light) and
# openssl (a throw-away certificate) for deploy/nginx.conf.
deploy() {
    apt_tool systemd-analyze systemd "to check deploy/chatpass.service" test
    apt_tool openssl openssl "a throw-away certificate for nginx -t" test
    if command -v nginx >/dev/null || [ -x /usr/sbin/nginx ]; then return 0; fi
    apt_tool nginx nginx-light "to check deploy/nginx.conf" test
    # Only its "nginx -t" is wanted: no server of its own.
    if command -v systemctl >/dev/null; then systemctl disable --now nginx >/dev/null 2>&1 || true; fi
}

case "${1:-build}" in
    build) build_tools ;;
    browser) browser ;;
    bench) bench ;;
    deploy) deploy ;;
    *) say "usage: $0 build|browser|bench|deploy"; exit 2 ;;
esac
