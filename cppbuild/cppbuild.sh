#!/usr/bin/env bash
# Builds native/ with CMake into cppbuild/<platform>[-gpu]/{lib,include}.
#   cppbuild/cppbuild.sh [--cuda AUTO|ON|OFF] [--test]
# AUTO (default) builds the CUDA kernels when nvcc is found. The result is a
# platform directory without "-gpu": the library runs its CPU path anywhere and
# its CUDA path wherever a driver and a GPU are present.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
cuda=${SPINEKIT_CUDA:-AUTO}
run_tests=0
while [ $# -gt 0 ]; do
  case "$1" in
    --cuda) cuda=$2; shift 2 ;;
    --test) run_tests=1; shift ;;
    *) echo "cppbuild.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done
platform=${JAVACPP_PLATFORM:-linux-x86_64}
build="$here/build-$platform"
prefix="$here/$platform"
if ! command -v cmake >/dev/null; then
  echo "cppbuild.sh: cmake is missing (apt-get install cmake g++)" >&2; exit 1
fi
if [ "$cuda" != OFF ] && ! command -v nvcc >/dev/null && [ -x /usr/local/cuda/bin/nvcc ]; then
  export PATH=/usr/local/cuda/bin:$PATH
fi
cmake -S "$root/native" -B "$build" -DCMAKE_BUILD_TYPE=Release -DSPINEKIT_CUDA="$cuda" \
  -DCMAKE_INSTALL_PREFIX="$prefix" -DSPINEKIT_TESTS="$([ "$run_tests" = 1 ] && echo ON || echo OFF)" >"$build.log" 2>&1 || { cat "$build.log" >&2; exit 1; }
grep -m1 'SpineKit CUDA kernels' "$build.log" || true
cmake --build "$build" -j"$(nproc)" 2>&1 | grep -E 'error|warning|Error' || true
cmake --build "$build" -j"$(nproc)" >/dev/null
cmake --install "$build" >/dev/null
if [ "$run_tests" = 1 ]; then
  # Every CPU test executable (spinekit_test, spinekit_test_<name>).
  for t in "$build"/spinekit_test "$build"/spinekit_test_*; do
    if [ -f "$t" ] && [ -x "$t" ]; then "$t"; fi
  done
fi
echo "cppbuild.sh: $prefix/lib/libspinekit.so"
