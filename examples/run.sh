#!/usr/bin/env bash
# Builds and runs the example application against the SpineKit artifacts just built in this
# checkout (mvn package/verify first), the way an application would get them: installed into a
# clean local repository that holds nothing of SpineKit's but them. Third-party artifacts are
# shared with the user's repository through links (nothing is copied or downloaded twice).
# Usage: examples/run.sh [extra mvn options]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
version=0.1.0-SNAPSHOT
user_repo=${SPINEKIT_M2:-$HOME/.m2/repository}
repo="$root/examples/target/m2"
for f in java/target/spinekit-$version.jar java/target/spinekit-$version-sources.jar \
  java/target/spinekit-$version-javadoc.jar; do
  if [ ! -f "$f" ]; then
    echo "examples/run.sh: $f is missing; build first (mvn -B verify)" >&2
    exit 1
  fi
done
rm -rf "$repo"
mkdir -p "$repo/org" "$user_repo"
# A clean repository: links to every group of the user's repository except org.spinekit.
for d in "$user_repo"/*; do
  [ -e "$d" ] || continue
  [ "$(basename "$d")" = org ] || ln -s "$d" "$repo/"
done
for d in "$user_repo"/org/*; do
  [ -e "$d" ] || continue
  [ "$(basename "$d")" = spinekit ] || ln -s "$d" "$repo/org/"
done
mvn_repo=(mvn -B -q -ntp "-Dmaven.repo.local=$repo" "$@")
install() { "${mvn_repo[@]}" install:install-file "$@"; }
# What `mvn install` would publish: the parent POM, the library with its sources and Javadoc,
# the GPU coordinate, and the GDCM codec where it was built.
install -Dfile=pom.xml -DpomFile=pom.xml -Dpackaging=pom
install -Dfile=java/target/spinekit-$version.jar -DpomFile=java/pom.xml \
  -Dsources=java/target/spinekit-$version-sources.jar \
  -Djavadoc=java/target/spinekit-$version-javadoc.jar
install -Dfile=gpu/pom.xml -DpomFile=gpu/pom.xml -Dpackaging=pom
if [ -f gdcm/target/spinekit-gdcm-$version.jar ]; then
  install -Dfile=gdcm/target/spinekit-gdcm-$version.jar -DpomFile=gdcm/pom.xml
fi
echo "examples/run.sh: SpineKit $version installed into a clean repository ($repo)"
cd examples/read-and-predict
rm -rf target
"${mvn_repo[@]}" package exec:exec
