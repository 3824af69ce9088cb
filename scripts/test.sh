#!/usr/bin/env bash
# The test command: installs what is missing, then runs the C++ kernel tests
# and the JUnit suite (the CUDA-only tests run with -Pgpu on a GPU machine).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
scripts/setup.sh
# Two threads, pinned, whatever the machine: libtorch's default threading is
# slow on small machines and results must not depend on it.
export OMP_NUM_THREADS=2 MKL_NUM_THREADS=2
cppbuild/cppbuild.sh --test
mvn -B -ntp test "$@"
