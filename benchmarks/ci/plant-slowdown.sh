#!/usr/bin/env bash
# Shows that the CI guards catch a slowdown of one kernel: clones the committed tree into a
# temporary directory, makes the CPU DSNT forward kernel run FACTOR times per call (default 3),
# builds, and runs the quick guard set there (what .ci/run runs after the tests). Exits 0 when
# the guards FAIL as they should (naming the guard), 1 when they pass.
#   benchmarks/ci/plant-slowdown.sh [FACTOR]
set -euo pipefail
factor=${1:-3}
root=$(cd "$(dirname "$0")/../.." && pwd)
tmp=$(mktemp -d /tmp/spinekit-plant.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
git clone -q --local "$root" "$tmp/tree"
cd "$tmp/tree"
src=native/src/cpu/dsnt.cpp
grep -q '^extern "C" int spinekit_dsnt_forward_cpu(' "$src"
sed -i 's/^extern "C" int spinekit_dsnt_forward_cpu(/static int planted_dsnt_forward(/' "$src"
cat >> "$src" <<CPP
// Planted slowdown: the forward runs $factor times.
extern "C" int spinekit_dsnt_forward_cpu(const float* logits, int64_t rows, int64_t D,
                                         int64_t H, int64_t W, int ndim, float* probs,
                                         float* coords_px, float* coords_norm, int64_t* info) {
  int rc = 0;
  for (int i = 0; i < $factor; ++i)
    rc = planted_dsnt_forward(logits, rows, D, H, W, ndim, probs, coords_px, coords_norm, info);
  return rc;
}
CPP
echo "planted: $src runs its forward $factor times; building in $tmp/tree" >&2
mvn -B -q -ntp -o -DskipTests -Dmaven.javadoc.skip=true package -pl java,benchmarks >&2
set +e
./spinekit bench ci --quick --out "$tmp/bench-ci"
rc=$?
set -e
if [ "$rc" = 1 ]; then
  echo "plant-slowdown: the guards failed on the planted slowdown, as they must" >&2
  exit 0
fi
echo "plant-slowdown: the guards did NOT catch the planted slowdown (exit $rc)" >&2
exit 1
