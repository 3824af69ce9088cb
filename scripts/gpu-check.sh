#!/usr/bin/env bash
# Checks the CUDA kernels on a GPU machine that has nvcc, CMake and PyTorch
# (CUDA) but neither Java nor a network: builds native/ with the CUDA kernels
# into a temporary directory, runs the C++ CPU tests (spinekit_test), the CUDA
# tests and benchmark (spinekit_cuda_test), then the comparison with the
# PyTorch composites (scripts/gpu_compare.py).
#   scripts/gpu-check.sh
# Everything printed also goes to $OUT/gpu-check.log when OUT is set.
# SPINEKIT_CUDA_ARCHS (default "80;90") picks the architectures built.
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
tee_pid=
if [ -n "${OUT:-}" ]; then
  mkdir -p "$OUT"
  exec > >(tee "$OUT/gpu-check.log") 2>&1
  tee_pid=$!
fi

if ! command -v nvcc >/dev/null && [ -x /usr/local/cuda/bin/nvcc ]; then
  export PATH=/usr/local/cuda/bin:$PATH
fi
build=$(mktemp -d "${TMPDIR:-/tmp}/spinekit-gpu-check.XXXXXX")
finish() {
  rm -rf "$build"
  if [ -n "$tee_pid" ]; then  # let tee write the end of the log
    exec >&- 2>&-
    wait "$tee_pid" 2>/dev/null || true
  fi
}
trap finish EXIT

echo "== gpu-check: $(date -u '+%Y-%m-%d %H:%M:%S UTC') on $(hostname)"
command -v nvidia-smi >/dev/null && nvidia-smi --query-gpu=name,driver_version,memory.total \
  --format=csv,noheader
echo "nvcc: $(nvcc --version 2>/dev/null | tail -n 1)"
echo "cmake: $(cmake --version | head -n 1)"

echo "== build (CMake, SPINEKIT_CUDA=ON) in $build"
if ! cmake -S "$root/native" -B "$build" -DCMAKE_BUILD_TYPE=Release -DSPINEKIT_CUDA=ON \
    -DSPINEKIT_TESTS=ON -DSPINEKIT_CUDA_ARCHS="${SPINEKIT_CUDA_ARCHS:-80;90}" ||
   ! cmake --build "$build" -j"$(nproc)"; then
  echo "gpu-check: FAILED (build)"
  exit 1
fi

failed=()
run() {
  local name=$1
  shift
  echo
  echo "== $name"
  if "$@"; then
    echo "== $name: ok"
  else
    echo "== $name: FAILED (exit $?)"
    failed+=("$name")
  fi
}

run "C++ CPU kernel tests" "$build/spinekit_test"
run "C++ CPU stacking tests" "$build/spinekit_test_stack"
run "C++ CPU warp tests" "$build/spinekit_test_warp"
run "CUDA kernel tests and benchmark" "$build/spinekit_cuda_test"
run "CUDA stacking tests and timing" "$build/spinekit_cuda_test_stack"
run "CUDA warp tests and timing" "$build/spinekit_cuda_test_warp"
run "PyTorch comparison" python3 "$root/scripts/gpu_compare.py" --lib "$build/libspinekit.so"

echo
if [ ${#failed[@]} -gt 0 ]; then
  echo "gpu-check: FAILED: ${failed[*]}"
  exit 1
fi
echo "gpu-check: all passed"
