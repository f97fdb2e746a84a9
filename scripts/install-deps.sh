#!/usr/bin/env bash
# Installs hgqc's build and test dependencies from Debian's packages (needs root or sudo).
# Skips apt entirely when everything is already installed.
set -euo pipefail

packages=(
  cmake g++ make              # build
  libprotobuf-dev protobuf-compiler libonnx-dev  # ONNX protobuf classes
  libcli11-dev libspdlog-dev  # command line, logging
  zlib1g-dev                  # .npz and .gz data files
  libeigen3-dev               # matrix kernels for training (header-only)
  doctest-dev                 # unit tests
  libonnx-testdata            # ONNX backend node tests (/usr/share/libonnx-testdata)
  dataset-fashion-mnist       # IDX data (/usr/share/datasets/fashion-mnist)
  nlohmann-json3-dev          # report.json
  verilator                   # hgqc verify: cycle-accurate co-simulation
  iverilog yosys              # second simulator and synthesis checks of emitted Verilog
  clang-format                # the format check of scripts/test.sh (scripts/check-format.sh)
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#packages[@]} packages already installed"
  exit 0
fi

sudo=""
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || { echo "install-deps: run as root (or install sudo)" >&2; exit 1; }
  sudo=sudo
fi
echo "install-deps: installing ${missing[*]}"
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
