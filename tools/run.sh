#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# One entry point for developers and CI, on a fresh Debian 12 or a ready machine:
#   tools/run.sh main   build the release preset, run every example and benchmark
#   tools/run.sh test   run the workflow presets (configure, build, test) one by one,
#                       the last one (fuzz) the libFuzzer harnesses, about 20 s each
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

# CI's configurations: every test binary runs every tier the CPU has
# (tests/tiers.hpp), so a build per instruction set would repeat that. Both
# compilers build without -march too, each reaching the tiers above the
# baseline its own way (GCC's target pragmas, clang's target attributes);
# the sanitizers run on clang's, whose ASan build compiles in about half
# GCC's time. The clang (-march=native), sanitize (GCC, -march=native) and
# avx2 presets stay for local use; fuzz builds with clang and -march=native.
PRESETS=(release portable portable-gcc fuzz)
PACKAGES=(cmake ninja-build g++ clang libxsimd-dev catch2 libbenchmark-dev pkg-config
          libopenblas-dev libdnnl-dev ocl-icd-opencl-dev  # oneDNN's CMake config needs OpenCL
          libclang-rt-14-dev)  # libFuzzer and clang's sanitizer runtimes (only recommended by clang)
export CMAKE_BUILD_PARALLEL_LEVEL=2 CTEST_PARALLEL_LEVEL=2

# Installs only what is missing, so a ready machine never touches apt.
install_packages() {
  local missing=() p
  for p in "${PACKAGES[@]}"; do
    dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
  done
  [[ ${#missing[@]} -eq 0 ]] && return
  echo "== installing ${missing[*]}"
  local sudo=()
  if [[ $(id -u) -ne 0 ]]; then
    command -v sudo >/dev/null || { echo "error: not root and no sudo; install: ${missing[*]}" >&2; exit 1; }
    sudo=(sudo)
  fi
  "${sudo[@]}" apt-get update -q
  DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}"
}

# The executable files directly in a build directory (not CMake's own files).
binaries() { find "$1" -maxdepth 1 -type f -executable 2>/dev/null | sort; }

run_main() {
  cmake --preset release
  cmake --build --preset release
  local b
  for b in $(binaries build/release/examples); do
    echo; echo "== example: ${b##*/}"
    "$b"
  done
  for b in $(binaries build/release/bench); do
    echo; echo "== benchmark: ${b##*/}"
    "$b" --benchmark_min_time=0.05 --benchmark_format=console
  done
}

run_test() {
  local preset failed=0 start summary=()
  for preset in "${PRESETS[@]}"; do
    echo; echo "== workflow preset: $preset"
    start=$SECONDS
    if cmake --workflow --preset "$preset"; then
      summary+=("$preset: passed ($((SECONDS - start)) s)")
    else
      summary+=("$preset: FAILED ($((SECONDS - start)) s)")
      failed=1
    fi
  done
  echo; echo "== summary"
  printf '%s\n' "${summary[@]}"
  return "$failed"
}

case "${1:-}" in
  main) install_packages; run_main ;;
  test) install_packages; run_test ;;
  *) echo "usage: $0 main|test" >&2; exit 2 ;;
esac
