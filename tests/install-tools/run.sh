#!/usr/bin/env bash
# Tests scripts/install-tools.sh in a few seconds, with no real builds: cargo, rustup and
# npm are the stand-ins in tests/install-tools/bin/, which record every call and fake the
# installs. Each case runs a copy of the script (so its .tools/ is a temporary one) in a
# fresh HOME, CARGO_HOME, RUSTUP_HOME and TMPDIR, with a PATH of the stand-ins plus
# /usr/bin:/bin only, so the real toolchain in ~/.cargo/bin is never reached.
#
#   tests/install-tools/run.sh                                   the script in this repo
#   INSTALL_TOOLS_SCRIPT=/path/to/install-tools.sh tests/install-tools/run.sh
#
# Prints TAP (ok - / not ok - per case) and exits non-zero if any case fails.
set -euo pipefail

HERE="$(cd "$(dirname "$0")" && pwd)"
REPO="$(cd "$HERE/../.." && pwd)"
SCRIPT="${INSTALL_TOOLS_SCRIPT:-$REPO/scripts/install-tools.sh}"
[ -f "$SCRIPT" ] || { echo "no such script: $SCRIPT" >&2; exit 2; }
STANDINS="$HERE/bin"
SYS_PATH=/usr/bin:/bin

# The pins, read from the script under test.
pin() {
    local v
    v=$(sed -n "s/^$1=//p" "$SCRIPT" | head -n1)
    [ -n "$v" ] || { echo "$SCRIPT sets no $1" >&2; exit 2; }
    echo "$v"
}
LEPTOS_V=$(pin CARGO_LEPTOS_VERSION)
BINDGEN_V=$(pin WASM_BINDGEN_VERSION)
BINARYEN_V=$(pin BINARYEN_VERSION)

# --- helpers; they run inside a case's subshell, where $C is the case's directory -----

fail() { echo "# $*"; exit 1; }

# Makes $C: repo/scripts/install-tools.sh (a copy), home/, cargo/ (CARGO_HOME), rustup/
# (RUSTUP_HOME) and tmp/ (TMPDIR), all removed when the case ends.
setup() {
    C=$(mktemp -d)
    trap 'rm -rf "$C"' EXIT
    mkdir -p "$C/repo/scripts" "$C/home" "$C/cargo" "$C/rustup" "$C/tmp"
    cp "$SCRIPT" "$C/repo/scripts/install-tools.sh"
    chmod +x "$C/repo/scripts/install-tools.sh"
}

# run NAME [VAR=value...] [-- ARGS...]  runs the script (ARGS default: build) in a clean
# environment; leaves NAME.log (stand-in calls), NAME.out, NAME.err and NAME.rc in $C.
run() {
    local name=$1; shift
    local envs=() args=(build)
    while [ $# -gt 0 ] && [ "$1" != -- ]; do envs+=("$1"); shift; done
    if [ $# -gt 0 ]; then shift; args=("$@"); fi
    : > "$C/$name.log"
    local rc=0
    env -i HOME="$C/home" CARGO_HOME="$C/cargo" RUSTUP_HOME="$C/rustup" TMPDIR="$C/tmp" \
        PATH="$STANDINS:$SYS_PATH" STANDIN_LOG="$C/$name.log" LC_ALL=C "${envs[@]}" \
        bash "$C/repo/scripts/install-tools.sh" "${args[@]}" \
        > "$C/$name.out" 2> "$C/$name.err" || rc=$?
    echo "$rc" > "$C/$name.rc"
}
rc() { cat "$C/$1.rc"; }

# Shows a run's stderr and stand-in calls as TAP comments.
show() {
    local n
    for n in "$@"; do
        echo "# --- $n: exit $(rc "$n"), stderr:"
        sed 's/^/#   /' "$C/$n.err"
        echo "# --- $n: stand-in calls:"
        sed 's/^/#   /' "$C/$n.log"
    done
}

# count REGEX LOG...  how many stand-in calls in those logs match REGEX
count() { local re=$1; shift; cat "$@" | grep -cE "$re" || true; }
RE_TARGET_ADD='^rustup target add( .*)? wasm32-unknown-unknown( |$)'
RE_BINDGEN='^cargo install .*--bin wasm-bindgen( |$)'
RE_LEPTOS='^cargo install .*--bin cargo-leptos( |$)'
RE_BINARYEN='^npm install .*binaryen@'
RE_ANY_INSTALL='^(cargo install|rustup target add|rustup component add|npm install)( |$)'
RE_CLIPPY_ADD='^rustup component add( .*)? clippy( |$)'

expect_exit_0() {
    local n
    for n in "$@"; do
        [ "$(rc "$n")" = 0 ] || { show "$n"; fail "$n: exit $(rc "$n"), wanted 0"; }
    done
}

# expect_count WANT REGEX WHAT LOG...
expect_count() {
    local want=$1 re=$2 what=$3; shift 3
    local got
    got=$(count "$re" "$@")
    [ "$got" = "$want" ] || fail "$what: $got calls, wanted $want"
}

# The PATH a user (or make) has afterwards: the script's own additions, then ours.
user_path() { echo "$C/repo/.tools/node_modules/.bin:$C/cargo/bin:$STANDINS:$SYS_PATH"; }

# expect_version TOOL WANTED-LINE-REGEX: TOOL resolves, inside $C, to that version.
expect_version() {
    local tool=$1 want=$2 where got
    where=$(env -i PATH="$(user_path)" HOME="$C/home" bash -c "command -v $tool" || true)
    [ -n "$where" ] || fail "$tool: not on PATH afterwards"
    case $where in "$C"/*) ;; *) fail "$tool resolves to $where, outside the test's dirs" ;; esac
    got=$(env -i PATH="$(user_path)" HOME="$C/home" "$tool" --version 2>&1 || true)
    echo "$got" | grep -qE "$want" || fail "$tool --version says '$got', wanted /$want/"
}

expect_all_versions() {
    expect_version wasm-bindgen "^wasm-bindgen ${BINDGEN_V//./\\.}\$"
    expect_version cargo-leptos "^cargo-leptos ${LEPTOS_V//./\\.}\$"
    expect_version wasm-opt "^wasm-opt version $BINARYEN_V \\(version_$BINARYEN_V\\)\$"
}

# The script's mktemp work directories are gone.
expect_tmpdir_empty() {
    local left
    left=$(ls -A "$C/tmp")
    [ -z "$left" ] || fail "left behind in TMPDIR: $(echo $left)"
}

# A machine where everything but cargo-leptos is already at the pinned version.
seed_all_but_leptos() {
    printf 'wasm32-unknown-unknown\n' > "$C/rustup/standin-targets"
    printf 'clippy\n' > "$C/rustup/standin-components"
    mkdir -p "$C/cargo/bin" "$C/repo/.tools/node_modules/.bin"
    printf '#!/bin/sh\necho "wasm-bindgen %s"\n' "$BINDGEN_V" > "$C/cargo/bin/wasm-bindgen"
    printf '#!/bin/sh\necho "wasm-opt version %s (version_%s)"\n' "$BINARYEN_V" "$BINARYEN_V" \
        > "$C/repo/.tools/node_modules/.bin/wasm-opt"
    chmod +x "$C/cargo/bin/wasm-bindgen" "$C/repo/.tools/node_modules/.bin/wasm-opt"
}

# --- cases ----------------------------------------------------------------------------

bare_machine_installs_everything() {
    setup
    run first
    expect_exit_0 first
    expect_count 1 "$RE_TARGET_ADD" "rustup target add wasm32-unknown-unknown" "$C/first.log"
    expect_count 1 "$RE_CLIPPY_ADD" "rustup component add clippy" "$C/first.log"
    expect_count 1 "$RE_BINDGEN" "cargo install of wasm-bindgen-cli" "$C/first.log"
    expect_count 1 "$RE_LEPTOS" "cargo install of cargo-leptos" "$C/first.log"
    expect_count 2 '^cargo install( |$)' "cargo install (all)" "$C/first.log"
    expect_count 1 "$RE_BINARYEN" "npm install of binaryen" "$C/first.log"
    expect_all_versions
    expect_tmpdir_empty
}

second_run_installs_nothing() {
    setup
    run first
    expect_exit_0 first
    run second
    expect_exit_0 second
    if [ "$(count "$RE_ANY_INSTALL" "$C/second.log")" != 0 ]; then
        show second; fail "the second run installed something"
    fi
    expect_all_versions
    expect_tmpdir_empty
}

wrong_version_is_replaced_once() {
    setup
    seed_all_but_leptos
    printf '#!/bin/sh\necho "cargo-leptos 0.2.0"\n' > "$C/cargo/bin/cargo-leptos"
    chmod +x "$C/cargo/bin/cargo-leptos"
    run upgrade
    expect_exit_0 upgrade
    expect_count 1 "$RE_LEPTOS" "cargo install of cargo-leptos" "$C/upgrade.log"
    expect_count 1 "$RE_ANY_INSTALL" "installs of anything" "$C/upgrade.log"
    expect_all_versions
    expect_tmpdir_empty
}

failed_install_leaves_nothing() {
    setup
    run broken STANDIN_FAIL_INSTALL=cargo-leptos
    [ "$(rc broken)" != 0 ] || { show broken; fail "exit 0 although cargo install of cargo-leptos failed"; }
    grep -q '^\[install-tools\].*cargo-leptos' "$C/broken.err" ||
        { show broken; fail "no [install-tools] line on stderr names cargo-leptos"; }
    local left
    left=$(ls -A "$C/cargo/bin" | grep cargo-leptos || true)
    [ -z "$left" ] || fail "CARGO_HOME/bin holds $(echo $left) after the failed install"
    if env -i PATH="$(user_path)" bash -c 'command -v cargo-leptos' >/dev/null; then
        fail "a cargo-leptos is on PATH after the failed install"
    fi
    expect_tmpdir_empty
}

no_rustup_one_clear_line() {
    setup
    mkdir "$C/bin-no-rustup"
    local f
    for f in "$STANDINS"/*; do
        [ "$(basename "$f")" = rustup ] || ln -s "$f" "$C/bin-no-rustup/"
    done
    run norustup PATH="$C/bin-no-rustup:$SYS_PATH"
    [ "$(rc norustup)" != 0 ] || { show norustup; fail "exit 0 without rustup"; }
    local lines
    lines=$(wc -l < "$C/norustup.err")
    [ "$lines" = 1 ] || { show norustup; fail "$lines stderr lines, wanted exactly 1"; }
    grep -q rustup "$C/norustup.err" || { show norustup; fail "stderr does not mention rustup"; }
    expect_count 0 "$RE_ANY_INSTALL" "installs without rustup" "$C/norustup.log"
}

parallel_runs_install_once() {
    setup
    run a STANDIN_INSTALL_DELAY=0.3 &
    local pa=$!
    run b STANDIN_INSTALL_DELAY=0.3 &
    local pb=$!
    wait "$pa" "$pb"
    expect_exit_0 a b
    local logs=("$C/a.log" "$C/b.log")
    expect_count 1 "$RE_TARGET_ADD" "rustup target add, both runs" "${logs[@]}"
    expect_count 1 "$RE_CLIPPY_ADD" "rustup component add clippy, both runs" "${logs[@]}"
    expect_count 1 "$RE_BINDGEN" "cargo install of wasm-bindgen-cli, both runs" "${logs[@]}"
    expect_count 1 "$RE_LEPTOS" "cargo install of cargo-leptos, both runs" "${logs[@]}"
    expect_count 1 "$RE_BINARYEN" "npm install of binaryen, both runs" "${logs[@]}"
    expect_all_versions
    expect_tmpdir_empty
}

CASES=(
    bare_machine_installs_everything
    second_run_installs_nothing
    wrong_version_is_replaced_once
    failed_install_leaves_nothing
    no_rustup_one_clear_line
    parallel_runs_install_once
)

echo "# testing $SCRIPT (cargo-leptos $LEPTOS_V, wasm-bindgen $BINDGEN_V, binaryen $BINARYEN_V)"
echo "1..${#CASES[@]}"
failed=0 n=0
for c in "${CASES[@]}"; do
    n=$((n + 1))
    # A subshell outside any if/||, so that set -e holds inside the case; its EXIT trap
    # removes the case's directory.
    set +e
    out=$( set -e; "$c" 2>&1 )
    status=$?
    set -e
    if [ "$status" = 0 ]; then
        echo "ok $n - $c"
    else
        echo "not ok $n - $c"
        failed=$((failed + 1))
    fi
    [ -z "$out" ] || printf '%s\n' "$out"
done
[ "$failed" = 0 ] || { echo "# $failed of ${#CASES[@]} cases failed"; exit 1; }
