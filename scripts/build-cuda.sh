#!/usr/bin/env bash
# Build greenbench with its `cuda` feature (candle's CUDA backend) on a machine without a system
# CUDA toolkit: nvcc, the CUDA headers and the CUDA libraries come from NVIDIA's PyPI wheels,
# installed into a local venv (.venv-cuda/, git-ignored). The binary goes to a separate target
# folder, so the default (CUDA-free) build in target/ is untouched:
#
#   scripts/build-cuda.sh            # compute capability from nvidia-smi, else 90 (H100/H200)
#   scripts/build-cuda.sh 80         # build for another GPU generation (A100 = 80, RTX 30xx = 86,
#                                    # L4/RTX 40xx = 89, H100/H200 = 90); CUDA_COMPUTE_CAP=80 also works
#   scripts/build-cuda.sh --bundle   # also write .gpu-bundle/greenbench.xz (stripped, xz) + BUILD,
#                                    # small enough to carry to an offline GPU machine (gpu-check.sh uses it)
#   scripts/build-cuda.sh --test [CARGO TEST ARGS]   # cargo test --release --features cuda instead
#   scripts/build-cuda.sh --env      # print the LD_LIBRARY_PATH line the binary needs, build nothing
#
# Output: target/cuda/release/greenbench. It is linked (not dlopen'ed) against the driver
# (libcuda.so.1, from the NVIDIA driver) and CUDA 13 libcudart/libcublas/libcublasLt/libcurand/
# libnvrtc: run it with those on the library path (`eval "$(scripts/build-cuda.sh --env)"`), on a
# driver >= 580 (CUDA 13.0; `nvidia-smi` prints "CUDA Version: 13.0" or newer).
#
# Why each step (candle-core 0.11.1 as patched in vendor/, candle-kernels 0.11.1 via cudaforge,
# cudarc 0.19.10):
# - candle-kernels' build.rs runs nvcc (found through $NVCC, then PATH, then $CUDA_HOME/bin) to make
#   PTX for the elementwise kernels and a static libmoe.a; it needs CUDA_COMPUTE_CAP when there is
#   no nvidia-smi, and the CCCL headers (cub/thrust/cuda/std) as well as cuda_runtime.h / cuda_fp8.h.
# - cudarc's build.rs reads the CUDA version from `nvcc --version` (feature
#   cuda-version-from-build-system) and, with candle's `dynamic-linking` feature, emits
#   -lcuda -lnvrtc -lcurand -lcublas -lcublasLt (and candle-kernels adds -lcudart), searched in
#   $CUDA_HOME/lib and $CUDA_HOME/lib/stubs. The wheels ship only versioned sonames
#   (libcublas.so.13), so unversioned links are made beside them; libcuda.so comes from the driver,
#   which no wheel ships, so a link-time stub (SONAME libcuda.so.1, every cu* symbol cudarc
#   declares) is built into lib/stubs/. The stub is never on the run-time path: the real driver is.
#
# Idempotent: the venv is reused when its pinned versions are present; cargo rebuilds only what
# changed. Heavy steps run under `nice -n 19`; set CARGO_BUILD_JOBS / CUDAFORGE_THREADS to cap them.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
venv="$root/.venv-cuda"
target="$root/target/cuda"

# CUDA 13.0: the newest toolkit the H200 machines' driver (580.x) runs PTX from, and the CUDA major
# of their PyTorch (cu130) libraries, which the binary links against there.
PINS=(
    nvidia-cuda-nvcc==13.0.88     # nvcc, ptxas, fatbinary, nvlink, cudafe++
    nvidia-cuda-crt==13.0.88      # include/crt/* (host_config.h, …) that nvcc needs
    nvidia-nvvm==13.0.88          # cicc and libdevice
    nvidia-cuda-runtime==13.0.96  # cuda.h, cuda_runtime.h, cuda_fp16/bf16/fp8.h, libcudart.so.13
    nvidia-cuda-cccl==13.0.85     # cub, thrust, cuda/std (candle's sort kernels)
    nvidia-cuda-nvrtc==13.0.88    # libnvrtc.so.13
    nvidia-cublas==13.0.2.14      # libcublas.so.13, libcublasLt.so.13
    nvidia-curand==10.4.0.35      # libcurand.so.10
)
CUDARC_VERSION="0.19.10"  # keep in sync with Cargo.lock (its driver bindings list the stub's symbols)

die() { echo "build-cuda: $*" >&2; exit 1; }
note() { echo "build-cuda: $*" >&2; }

# --- where the wheels put the toolkit (CUDA 13 wheels share one tree: nvidia/cu13/{bin,include,lib,nvvm})
cuda_home() {
    local d
    for d in "$venv"/lib/python3*/site-packages/nvidia/cu13; do
        [ -x "$d/bin/nvcc" ] && { echo "$d"; return 0; }
    done
    return 1
}

cap_arg="" bundle=0 test_args=() mode=build
while [ $# -gt 0 ]; do
    case "$1" in
        --env)
            home="$(cuda_home)" || die "no .venv-cuda yet: run scripts/build-cuda.sh first"
            echo "export LD_LIBRARY_PATH=\"$home/lib\${LD_LIBRARY_PATH:+:\$LD_LIBRARY_PATH}\""
            exit 0 ;;
        --bundle) bundle=1; shift ;;
        --test) mode=test; shift; test_args=("$@"); break ;;
        -h|--help) sed -n '2,18p' "${BASH_SOURCE[0]}"; exit 0 ;;
        [0-9]*) cap_arg="$1"; shift ;;
        *) die "unknown argument '$1' (see --help)" ;;
    esac
done

# --- compute capability: argument, then $CUDA_COMPUTE_CAP, then nvidia-smi, then 90
cap="${cap_arg:-${CUDA_COMPUTE_CAP:-}}"
if [ -z "$cap" ] && command -v nvidia-smi >/dev/null 2>&1; then
    cap="$(nvidia-smi --query-gpu=compute_cap --format=csv,noheader 2>/dev/null | head -n1 | tr -d ' .' || true)"
    [ -n "$cap" ] && note "compute capability $cap (from nvidia-smi)"
fi
if [ -z "$cap" ]; then
    cap=90
    note "no GPU here (no nvidia-smi answer): building for compute capability 90 (H100/H200);" \
        "pass another as the first argument, e.g. scripts/build-cuda.sh 86"
fi
[[ "$cap" =~ ^[0-9]{2,3}a?$ ]] || die "compute capability '$cap' is not like 90, 86 or 90a"

# --- tools
command -v cargo >/dev/null 2>&1 || die "cargo not found: install Rust (https://rustup.rs)"
command -v cc >/dev/null 2>&1 || die "no C compiler (cc): install gcc (apt-get install build-essential); nvcc needs it as host compiler"
py="${PYTHON:-python3}"
command -v "$py" >/dev/null 2>&1 || die "python3 not found: it is needed to install the CUDA wheels"

# --- venv with the pinned wheels
if [ ! -x "$venv/bin/pip" ]; then
    note "creating $venv"
    "$py" -m venv "$venv" || die "python3 -m venv failed: install python3-venv (apt-get install python3-venv)"
fi
missing=()
for pin in "${PINS[@]}"; do
    name="${pin%%==*}" want="${pin##*==}"
    have="$("$venv/bin/pip" show "$name" 2>/dev/null | sed -n 's/^Version: //p')"
    [ "$have" = "$want" ] || missing+=("$pin")
done
if [ "${#missing[@]}" -gt 0 ]; then
    note "installing ${missing[*]} (about 1.2 GB, from PyPI)"
    nice -n 19 "$venv/bin/pip" install --quiet --disable-pip-version-check --no-deps "${missing[@]}" \
        || die "pip install failed (no network to PyPI?). On an offline machine, build elsewhere and carry target/cuda/release/greenbench"
fi
home="$(cuda_home)" || die "the wheels did not give $venv/lib/python3*/site-packages/nvidia/cu13/bin/nvcc"

# --- unversioned .so links for the linker, and the libcuda.so link stub
lib="$home/lib"
for so in cudart.so.13 cublas.so.13 cublasLt.so.13 curand.so.10 nvrtc.so.13; do
    [ -e "$lib/lib$so" ] || die "$lib/lib$so missing: reinstall with rm -rf $venv && $0"
    ln -sfn "lib$so" "$lib/lib${so%.so.*}.so"
done
stub="$lib/stubs/libcuda.so"
if [ ! -e "$stub" ]; then
    (cd "$root" && cargo fetch --quiet) || die "cargo fetch failed (no network to crates.io?)"
    bindings=""
    for d in "${CARGO_HOME:-$HOME/.cargo}"/registry/src/*/cudarc-"$CUDARC_VERSION"; do
        [ -f "$d/src/driver/sys/mod.rs" ] && bindings="$d/src/driver/sys/mod.rs"
    done
    [ -n "$bindings" ] || die "cudarc $CUDARC_VERSION sources not found under ~/.cargo/registry/src (is Cargo.lock's cudarc still $CUDARC_VERSION? update CUDARC_VERSION here)"
    mkdir -p "$lib/stubs"
    gen="$(mktemp -d)"
    trap 'rm -rf "$gen"' EXIT
    sed -n 's/^pub unsafe fn \(cu[A-Za-z0-9_]*\)(.*/int \1(void) { return 999; }/p' "$bindings" | sort -u >"$gen/stub.c"
    [ "$(wc -l <"$gen/stub.c")" -gt 100 ] || die "found too few cu* functions in $bindings: its layout changed"
    cc -shared -fPIC -Wl,-soname,libcuda.so.1 -o "$stub" "$gen/stub.c" || die "could not build the libcuda.so stub"
    note "built link-time stub $stub ($(wc -l <"$gen/stub.c") symbols; never used at run time)"
fi

# --- build
export CUDA_HOME="$home" CUDA_PATH="$home" CUDA_ROOT="$home" NVCC="$home/bin/nvcc" CUDA_COMPUTE_CAP="$cap"
export PATH="$home/bin:$PATH"
export CARGO_TARGET_DIR="$target"
nvcc_version="$("$NVCC" --version | sed -n 's/.*release \([0-9.]*\),.*/\1/p')"
note "nvcc $nvcc_version ($NVCC), compute capability $cap, target dir $target"
export LD_LIBRARY_PATH="$lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"  # build scripts/tests that run CUDA code
if [ "$mode" = test ]; then
    cd "$root"
    exec nice -n 19 cargo test --release --locked --features cuda "${test_args[@]}"
fi
start=$(date +%s)
(cd "$root" && nice -n 19 cargo build --release --locked -p greenbench --features cuda) \
    || die "cargo build --features cuda failed (see above)"
end=$(date +%s)
bin="$target/release/greenbench"
[ -x "$bin" ] || die "build finished but $bin is missing"
note "built $bin in $((end - start)) s (CUDA $nvcc_version, sm_$cap)"
if [ "$bundle" = 1 ]; then
    mkdir -p "$root/.gpu-bundle"
    strip -o "$root/.gpu-bundle/greenbench" "$bin"
    xz -T1 -6 -f "$root/.gpu-bundle/greenbench"
    echo "greenbench $(git -C "$root" describe --always --dirty 2>/dev/null || echo '?'), cuda feature, CUDA $nvcc_version wheels, sm_$cap, built $(date -u +%Y-%m-%d) on $(uname -m)" \
        >"$root/.gpu-bundle/BUILD"
    note "bundle: $root/.gpu-bundle/greenbench.xz ($(du -h "$root/.gpu-bundle/greenbench.xz" | cut -f1)); carry .gpu-bundle/ and datasets/cache/ to the GPU machine"
fi
note "run it with the CUDA libraries on the path:  eval \"\$(scripts/build-cuda.sh --env)\"; $bin meters"
