#!/usr/bin/env bash
# Checks a sweep folder's report.html in a real browser: headless Chromium (Debian's `chromium`,
# installed here if missing; needs root or sudo for that) driven by playwright-core (pinned in
# scripts/browser/package-lock.json, installed from npm into scripts/browser/node_modules).
#
#   scripts/browser-check.sh [SWEEP_DIR] [SCREENSHOT.png]
#
# SWEEP_DIR defaults to a copy of the committed quick sweep (crates/analysis/tests/data/quick),
# reported with target/release/greenbench (built if missing) at --figure-width 3.5in.
# Prints ok/FAIL lines and "browser check PASSED" or exits non-zero.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

if ! command -v chromium >/dev/null 2>&1; then
    echo "== installing chromium (Debian package)"
    sudo_cmd=""
    [ "$(id -u)" = 0 ] || sudo_cmd="sudo"
    $sudo_cmd apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq chromium >/dev/null
fi
if [ ! -d scripts/browser/node_modules/playwright-core ]; then
    echo "== npm ci (playwright-core, pinned)"
    (cd scripts/browser && npm ci --no-audit --no-fund --loglevel=error)
fi

dir=${1:-}
shot=${2:-}
tmp=""
if [ -z "$dir" ]; then
    cargo build --release --locked -p greenbench
    tmp=$(mktemp -d)
    trap 'rm -rf "$tmp"' EXIT
    cp crates/analysis/tests/data/quick/runs.jsonl crates/analysis/tests/data/quick/manifest.json "$tmp"/
    target/release/greenbench report "$tmp" --figure-width 3.5in >/dev/null
    dir=$tmp
fi
shot=${shot:-$dir/report-screenshot.png}
[ -f "$dir/report.html" ] || { echo "no $dir/report.html: run greenbench report $dir first" >&2; exit 1; }
node scripts/browser/check.mjs "$dir/report.html" "$dir/runs.jsonl" "$shot"
if [ -n "$tmp" ] && [ -z "${2:-}" ]; then
    cp "$shot" "$root/target/report-screenshot.png" 2>/dev/null && echo "screenshot kept in target/report-screenshot.png"
fi
