#!/usr/bin/env bash
# Checks the CUDA kernels on a GPU machine that has nvcc, CMake and PyTorch
# (CUDA): builds native/ with the CUDA kernels into a temporary directory, runs
# the C++ CPU tests (spinekit_test), the CUDA tests and benchmark
# (spinekit_cuda_test), then the comparison with the PyTorch composites and the
# stream-order check (scripts/gpu_compare.py), and, where Java and Maven are
# installed, the JUnit GPU tests (mvn -Pgpu: CUDA kernels on libtorch's current
# stream, against the CPU ones).
#   scripts/gpu-check.sh [--java auto|yes|no] [--sanitize]
#     --java auto (default) runs the JUnit GPU tests when java and mvn are on the
#     PATH and lists them as not run otherwise; yes requires them; no skips them.
#     --sanitize also runs the three CUDA test programs (their checks, without
#     their timings) under compute-sanitizer's memcheck (out-of-bounds and
#     misaligned accesses, leaks), racecheck (shared-memory hazards), synccheck
#     (barriers) and initcheck (reads of uninitialised device memory), each run
#     bounded by SANITIZE_TIMEOUT seconds (default 300); a finding, or a missing
#     compute-sanitizer, fails the check.
# Exit status 0 when every check that ran passed (the last lines name any that
# did not run: the JUnit tests under --java auto without java or mvn); 1 when
# one failed, or when no GPU is usable: then it says why and stops (a GPU check
# without a GPU fails, it does not pass by skipping).
# Everything printed also goes to $OUT/gpu-check.log when OUT is set.
# SPINEKIT_CUDA_ARCHS (default "80;90") picks the architectures built; PYTHON
# (default python3) the interpreter with PyTorch.
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
java_mode=auto
sanitize=no
while [ $# -gt 0 ]; do
  case "$1" in
    --java) java_mode=${2:-}; shift 2 ;;
    --sanitize) sanitize=yes; shift ;;
    *) echo "gpu-check.sh: unknown argument $1 (usage: gpu-check.sh [--java auto|yes|no] [--sanitize])" >&2
       exit 2 ;;
  esac
done
case "$java_mode" in auto|yes|no) ;; *)
  echo "gpu-check.sh: --java: expected auto, yes or no, got '$java_mode'" >&2; exit 2 ;;
esac
python=${PYTHON:-python3}
# The CUDA tests and gpu_compare.py skip without a GPU when run on their own; here that
# is a failure.
export SPINEKIT_REQUIRE_GPU=1
tee_pid=
if [ -n "${OUT:-}" ]; then
  mkdir -p "$OUT"
  exec > >(tee "$OUT/gpu-check.log") 2>&1
  tee_pid=$!
fi

build=
finish() {
  [ -n "$build" ] && rm -rf "$build"
  if [ -n "$tee_pid" ]; then  # let tee write the end of the log
    exec >&- 2>&-
    wait "$tee_pid" 2>/dev/null || true
  fi
}
trap finish EXIT

if ! command -v nvcc >/dev/null && [ -x /usr/local/cuda/bin/nvcc ]; then
  export PATH=/usr/local/cuda/bin:$PATH
fi
echo "== gpu-check: $(date -u '+%Y-%m-%d %H:%M:%S UTC') on $(hostname)"

# A usable GPU first: without one nothing here can pass, so say so and stop before
# building for minutes. (The CUDA tests then probe the device through the runtime.)
no_gpu() {
  echo "gpu-check: FAILED: no usable GPU: $*"
  echo "gpu-check: nothing was checked"
  exit 1
}
if command -v nvidia-smi >/dev/null; then
  if ! gpus=$(nvidia-smi -L 2>&1); then
    no_gpu "nvidia-smi -L failed: $gpus"
  elif ! grep -q '^GPU [0-9]' <<<"$gpus"; then
    no_gpu "nvidia-smi -L lists no GPU${gpus:+: $gpus}"
  fi
  nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader
elif ! compgen -G '/dev/nvidia[0-9]*' >/dev/null; then
  no_gpu "neither nvidia-smi nor a /dev/nvidia* device is present"
fi
if ! command -v nvcc >/dev/null; then
  echo "gpu-check: FAILED: nvcc not found (the CUDA toolkit builds the kernels)"
  exit 1
fi
echo "nvcc: $(nvcc --version 2>/dev/null | tail -n 1)"
echo "cmake: $(cmake --version | head -n 1)"

build=$(mktemp -d "${TMPDIR:-/tmp}/spinekit-gpu-check.XXXXXX")
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
run "C++ allocator test" "$build/spinekit_test_malloc"
run "CUDA kernel tests and benchmark" "$build/spinekit_cuda_test"
run "CUDA stacking tests and timing" "$build/spinekit_cuda_test_stack"
run "CUDA warp tests and timing" "$build/spinekit_cuda_test_warp"
run "PyTorch comparison and stream order" "$python" "$root/scripts/gpu_compare.py" \
  --lib "$build/libspinekit.so"

if [ "$sanitize" = yes ]; then
  sanitizer=$(command -v compute-sanitizer || true)
  if [ -z "$sanitizer" ]; then
    for c in /usr/local/cuda/bin/compute-sanitizer /usr/local/cuda/compute-sanitizer/compute-sanitizer; do
      [ -x "$c" ] && sanitizer=$c && break
    done
  fi
  if [ -z "$sanitizer" ]; then
    echo
    echo "== compute-sanitizer: FAILED (not found on the PATH or under /usr/local/cuda)"
    failed+=("compute-sanitizer")
  else
    echo
    echo "compute-sanitizer: $("$sanitizer" --version | tail -n 1)"
    for tool in memcheck racecheck synccheck initcheck; do
      extra=()
      [ "$tool" = memcheck ] && extra=(--leak-check full)
      for prog in spinekit_cuda_test spinekit_cuda_test_stack spinekit_cuda_test_warp; do
        run "compute-sanitizer $tool: $prog" timeout "${SANITIZE_TIMEOUT:-300}" \
          "$sanitizer" --tool "$tool" "${extra[@]}" --error-exitcode 1 "$build/$prog" --no-bench
      done
    done
  fi
fi

not_run=()
java_tests='CudaStreamTest,CudaKernelsTest,StackCudaTest'
if [ "$java_mode" != no ]; then
  if command -v java >/dev/null && command -v mvn >/dev/null; then
    run "JUnit GPU tests ($java_tests)" bash -c "cd '$root' && mvn -B -ntp -Pgpu -pl java \
      test -Dtest='$java_tests' -Dsurefire.failIfNoSpecifiedTests=false"
  elif [ "$java_mode" = yes ]; then
    echo
    echo "== JUnit GPU tests: FAILED (java or mvn is not on the PATH)"
    failed+=("JUnit GPU tests")
  else
    not_run+=("JUnit GPU tests ($java_tests: java or mvn is not on the PATH)")
  fi
fi

echo
for n in "${not_run[@]}"; do echo "gpu-check: not run: $n"; done
if [ ${#failed[@]} -gt 0 ]; then
  echo "gpu-check: FAILED: $(printf '%s; ' "${failed[@]}" | sed 's/; $//')"
  exit 1
fi
if [ ${#not_run[@]} -gt 0 ]; then
  echo "gpu-check: everything that ran passed"
else
  echo "gpu-check: all passed"
fi
