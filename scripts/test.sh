#!/usr/bin/env bash
# The test command: installs what is missing, then runs the C++ kernel tests, the JUnit suite
# (the CUDA-only tests run with -Pgpu on a GPU machine; spinekit-gdcm's where libgdcm-java is)
# with the jars, sources and Javadoc built (Javadoc errors fail it), and last the example
# application, built against those jars from a clean local repository.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
scripts/setup.sh
# Two threads, pinned, whatever the machine: libtorch's default threading is
# slow on small machines and results must not depend on it.
export OMP_NUM_THREADS=2 MKL_NUM_THREADS=2
cppbuild/cppbuild.sh --test
mvn -B -ntp verify "$@"
examples/run.sh
