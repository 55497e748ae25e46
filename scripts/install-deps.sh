#!/usr/bin/env bash
# Installs what building and testing rsttrace needs, only what is missing.
# Debian and Ubuntu (apt). Run as root (sudo make deps).
set -euo pipefail

packages=(clang llvm libbpf-dev libelf-dev zlib1g-dev pkg-config cmake make gcc g++ iproute2)
# bpftool: its own package on Debian; part of linux-tools on Ubuntu.
command -v bpftool >/dev/null 2>&1 || [ -x /usr/sbin/bpftool ] || packages+=(bpftool)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "install-deps: missing packages: ${missing[*]}; run as root: sudo make deps" >&2
    exit 1
  fi
  echo "install-deps: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  if ! apt-get install -y -qq "${missing[@]}" >/dev/null; then
    # Ubuntu has no bpftool package: it comes with linux-tools.
    rest=()
    for p in "${missing[@]}"; do [ "$p" = bpftool ] || rest+=("$p"); done
    apt-get install -y -qq "${rest[@]}" linux-tools-common "linux-tools-$(uname -r)" >/dev/null
  fi
fi

if ! command -v node >/dev/null 2>&1; then
  echo "install-deps: Node.js is missing; install Node.js 20.19 or later (with its headers) and run again" >&2
  exit 1
fi
node -e '
  const [maj, min] = process.versions.node.split(".").map(Number);
  if (maj < 20 || (maj === 20 && min < 19)) {
    console.error(`install-deps: Node.js ${process.versions.node} is too old; rsttrace needs 20.19 or later`);
    process.exit(1);
  }'
