#!/usr/bin/env bash
# One-time (idempotent) set-up of a fresh Debian 12 machine for building and testing
# openshell: system packages, pnpm, dependencies, build. Needs root for apt-get.
set -euo pipefail
cd "$(dirname "$0")/.."

PNPM_VERSION=10.34.9
# bubblewrap/nftables/iproute2/uidmap: the local sandbox driver; gcc/libc6-dev: the static
# native launcher; libseccomp-dev: seccomp headers; curl/git: real clients in proxy tests; tmux: the `openshell term` e2e test.
APT_PACKAGES=(bubblewrap nftables iproute2 uidmap libseccomp-dev gcc libc6-dev make curl git ca-certificates tmux)

log() { printf '\033[1m[setup]\033[0m %s\n' "$*" >&2; }

missing=()
for pkg in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || missing+=("$pkg")
done
if ((${#missing[@]})); then
  if [[ $(id -u) -ne 0 ]]; then
    log "missing system packages: ${missing[*]} — run this script as root (or: sudo apt-get install ${missing[*]})"
    exit 1
  fi
  log "installing system packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if [[ "$(pnpm --version 2>/dev/null || true)" != "$PNPM_VERSION" ]]; then
  log "installing pnpm $PNPM_VERSION"
  npm install -g --silent "pnpm@$PNPM_VERSION"
fi

log "installing dependencies"
pnpm install --frozen-lockfile --reporter=append-only >/dev/null
log "building"
pnpm run -s build --output-logs=errors-only
log "ready"
