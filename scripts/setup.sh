#!/usr/bin/env bash
# Installs what SpineKit needs to build on Debian 12 when it is missing:
# a JDK (17+), Maven, CMake and a C++ compiler (apt-get, when run as root).
# nvcc is optional: with it the CUDA kernels are built too.
set -euo pipefail
missing=()
command -v javac >/dev/null || missing+=(openjdk-17-jdk-headless)
command -v mvn >/dev/null || missing+=(maven)
command -v cmake >/dev/null || missing+=(cmake)
command -v g++ >/dev/null || missing+=(g++)
command -v make >/dev/null || missing+=(make)
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
