#!/usr/bin/env bash
# Installs what SpineKit needs on Debian 12 when it is missing (apt-get, when run as root):
#  - build: a JDK (17+), Maven, CMake, a C++ compiler, pkg-config and OpenJPEG's headers,
#    CharLS's (our JPEG 2000 and JPEG-LS decoders) and libdeflate's (the server's unzipping);
#  - DICOM: GDCM's Java binding (libgdcm-java), for the optional spinekit-gdcm codec (12-bit
#    lossy JPEG, compressed DICOM output); SPINEKIT_GDCM=0 leaves it out, and the build then
#    skips that module (everything else builds and is tested without it);
#  - tests: dcmtk and GDCM's tools (reference encoders and decoders), Python with torch,
#    numpy and nibabel (reference implementations; /usr/bin/python3).
# nvcc is optional: with it the CUDA kernels are built too.
set -euo pipefail
missing=()
command -v javac >/dev/null || missing+=(openjdk-17-jdk-headless)
command -v mvn >/dev/null || missing+=(maven)
command -v cmake >/dev/null || missing+=(cmake)
command -v g++ >/dev/null || missing+=(g++)
command -v make >/dev/null || missing+=(make)
gdcm=libgdcm-java
[ "${SPINEKIT_GDCM:-1}" = 0 ] && gdcm=
for pkg in pkg-config libopenjp2-7-dev libcharls-dev libdeflate-dev $gdcm libgdcm-tools dcmtk python3-numpy \
    python3-nibabel python3-torch python3-torchvision python3-opencv; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "ok installed" || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then
    echo "setup: installing ${missing[*]}" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  else
    echo "setup: missing ${missing[*]}; install them (sudo apt-get install ${missing[*]})" >&2
    exit 1
  fi
fi
