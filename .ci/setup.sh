#!/usr/bin/env bash
# Set up a fresh Debian machine for Proxima's tests: the real peers the tests use (gRPC C-core xDS
# client, protobuf for an independent ext_proc encoder, protoc, Prometheus/promtool, Chromium for the
# UI checks, iproute2 for network namespaces), then the npm dependencies.
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(python3-grpcio python3-protobuf protobuf-compiler prometheus chromium iproute2)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  SUDO=""
  [[ $(id -u) -ne 0 ]] && SUDO="sudo"
  echo "installing Debian packages: ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
npm ci --no-audit --no-fund
