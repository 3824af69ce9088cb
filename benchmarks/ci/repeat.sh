#!/usr/bin/env bash
# Runs CI again and again on the committed tree, to show it does not flap: each run in a fresh
# clone of HEAD, one line per run (exit status, minutes, the quick guards' figures), and at the
# end the longest streak of passing runs. Exits 0 when every run passed.
#   benchmarks/ci/repeat.sh N                 N whole .ci/run runs (tests, then the quick guards)
#   benchmarks/ci/repeat.sh --guards-only N   build one clone, then N runs of the quick guards
# Each run's bench-ci/ directory and log are kept under OUT (default /tmp/spinekit-repeat).
set -euo pipefail
guards_only=0
if [ "${1:-}" = --guards-only ]; then guards_only=1; shift; fi
n=${1:?usage: repeat.sh [--guards-only] N}
case "$n" in '' | *[!0-9]*) echo "repeat.sh: N must be a positive integer, got '$n'" >&2; exit 2 ;; esac
root=$(cd "$(dirname "$0")/../.." && pwd)
out=${OUT:-/tmp/spinekit-repeat}
mkdir -p "$out"
head=$(git -C "$root" rev-parse --short HEAD)
if [ -n "$(git -C "$root" status --porcelain --untracked-files=no)" ]; then
  echo "repeat.sh: uncommitted changes in $root are not run (HEAD $head is)" >&2
fi
# One line of figures from a run's ci.json: name=value for each guard, and the verdict.
figures() {
  python3 - "$1" <<'PY'
import json, sys
try:
    ci = json.load(open(sys.argv[1]))
except (OSError, ValueError):
    print("no ci.json")
    sys.exit(0)
print(" ".join("%s=%.3g" % (g["name"].split("[")[0], g["value"]) if g.get("value") is not None
               else "%s=-" % g["name"].split("[")[0] for g in ci["guards"]),
      "|", "passed" if ci["passed"] else "FAILED")
PY
}
tree="$out/tree"
if [ "$guards_only" = 1 ]; then
  rm -rf "$tree"
  git clone -q --local "$root" "$tree"
  echo "repeat.sh: building $head in $tree" >&2
  (cd "$tree" && scripts/setup.sh && cppbuild/cppbuild.sh \
    && mvn -B -q -ntp -DskipTests -Dmaven.javadoc.skip=true package) > "$out/build.log" 2>&1
fi
streak=0 best=0 failed=0
for i in $(seq 1 "$n"); do
  start=$(date +%s)
  set +e
  if [ "$guards_only" = 1 ]; then
    rm -rf "$out/run-$i"
    (cd "$tree" && ./spinekit bench ci --quick --out "$out/run-$i") > "$out/run-$i.log" 2>&1
    rc=$?
    ci="$out/run-$i/ci.json"
  else
    rm -rf "$tree"
    git clone -q --local "$root" "$tree"
    (cd "$tree" && .ci/run) > "$out/run-$i.log" 2>&1
    rc=$?
    rm -rf "$out/run-$i"
    if [ -d "$tree/bench-ci" ]; then cp -r "$tree/bench-ci" "$out/run-$i"; fi
    ci="$out/run-$i/ci.json"
  fi
  set -e
  minutes=$(( ($(date +%s) - start + 30) / 60 ))
  if [ "$rc" = 0 ]; then
    streak=$((streak + 1))
    if [ "$streak" -gt "$best" ]; then best=$streak; fi
  else
    streak=0 failed=$((failed + 1))
  fi
  echo "run $i/$n  $head  $(date -u +%H:%M)  exit $rc  ${minutes} min  $(figures "$ci")"
done
echo "repeat.sh: $((n - failed)) of $n runs passed; longest streak $best; logs in $out"
[ "$failed" = 0 ]
