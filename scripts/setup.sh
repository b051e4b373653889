#!/usr/bin/env bash
# One-time (idempotent) set-up of a fresh Debian 12 machine for openshell: system packages,
# Node headers, pnpm, dependencies, build. Needs root for apt-get and npm -g.
#
#   bash scripts/setup.sh              what `openshell` itself needs (local driver)
#   bash scripts/setup.sh --podman     also Podman and its Docker-API socket (gateway --driver docker)
#   bash scripts/setup.sh --for-tests  everything `pnpm test` runs: --podman, tmux, and the real
#                                      agents (Claude Code, Codex) the e2e tests start in sandboxes
set -euo pipefail
cd "$(dirname "$0")/.."

with_podman=false
for_tests=false
for arg in "$@"; do
  case $arg in
    --podman) with_podman=true ;;
    --for-tests) with_podman=true for_tests=true ;;
    -h | --help)
      sed -n '2,8p' "$0" | sed 's/^# \{0,1\}//'
      exit 0
      ;;
    *)
      printf 'setup.sh: unknown option %s (known: --podman, --for-tests)\n' "$arg" >&2
      exit 2
      ;;
  esac
done

PNPM_VERSION=10.34.9
# bubblewrap/nftables/iproute2/uidmap: the local sandbox driver; gcc/libc6-dev/make: the static
# native launcher and the proxy's addon; libseccomp-dev: seccomp headers; curl/git: the README's
# main job and real clients in the proxy tests.
APT_PACKAGES=(bubblewrap nftables iproute2 uidmap libseccomp-dev gcc libc6-dev make curl git ca-certificates)
# tmux: the `openshell term` e2e test drives a real terminal.
$for_tests && APT_PACKAGES+=(tmux)
# Podman as the container engine, Docker-API socket. As root: no rootless networking
# (slirp4netns/passt); netavark/aardvark-dns are its bridge networking, catatonit its --init.
$with_podman && APT_PACKAGES+=(podman runc netavark aardvark-dns catatonit conmon)

log() { printf '\033[1m[setup]\033[0m %s\n' "$*" >&2; }
need_root() {
  if [[ $(id -u) -ne 0 ]]; then
    log "$1 — run this script as root${2:+ (or: sudo $2)}"
    exit 1
  fi
}

missing=()
for pkg in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || missing+=("$pkg")
done
if ((${#missing[@]})); then
  need_root "missing system packages: ${missing[*]}" "apt-get install ${missing[*]}"
  log "installing system packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# packages/proxy builds native/build/openshell-caller.node against node_api.h from the running
# Node's prefix (<prefix>/include/node). NodeSource's nodejs ships it; Debian's own nodejs keeps
# it in libnode-dev. Skipped when the header is already there (or NODEDIR points elsewhere).
node_prefix=$(dirname "$(dirname "$(readlink -f "$(command -v node)")")")
if [[ -z ${NODEDIR:-} && ! -f $node_prefix/include/node/node_api.h ]]; then
  need_root "missing $node_prefix/include/node/node_api.h" "apt-get install libnode-dev"
  log "installing Node headers (libnode-dev) for the proxy's caller addon"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends libnode-dev >/dev/null
fi

if $with_podman; then
  need_root "configuring podman needs root"
  PODMAN_SOCKET=/run/podman/podman.sock
  mkdir -p /etc/containers/containers.conf.d /run/podman
  # A drop-in, so an operator's own containers.conf stays as it is. Explicit ulimits no higher
  # than this machine's hard limits: runc fails every start with "error setting rlimit type 7:
  # operation not permitted" when a default asks for more (raising a hard limit needs
  # CAP_SYS_RESOURCE, which a CI container may not have); podman lowers its own RLIMIT_NPROC to
  # 32768 when it starts, and a container cannot get more. No systemd here: cgroupfs, file events.
  nofile=$(ulimit -Hn) nproc=$(ulimit -Hu)
  [[ $nofile == unlimited ]] && nofile=1048576
  [[ $nproc == unlimited || $nproc -gt 32768 ]] && nproc=32768
  conf=/etc/containers/containers.conf.d/50-openshell.conf
  wanted="# openshell docker driver (scripts/setup.sh): runc, explicit ulimits, no systemd.
[containers]
default_ulimits = [\"nofile=$nofile:$nofile\", \"nproc=$nproc:$nproc\"]
[engine]
runtime = \"runc\"
cgroup_manager = \"cgroupfs\"
events_logger = \"file\""
  if [[ "$(cat "$conf" 2>/dev/null || true)" != "$wanted" ]]; then
    printf '%s\n' "$wanted" >"$conf"
    # A running service read the old configuration; the next check restarts it.
    pkill -f "podman system service --time=0 unix://$PODMAN_SOCKET" 2>/dev/null || true
    sleep 0.5
  fi
  if ! curl -sf --max-time 2 --unix-socket "$PODMAN_SOCKET" http://d/_ping >/dev/null 2>&1; then
    log "starting podman system service on $PODMAN_SOCKET"
    rm -f "$PODMAN_SOCKET"
    # From /: conmon writes an `oom` marker into its working directory when a container is
    # OOM-killed, which would otherwise land in this checkout. Descriptors above 2 are closed
    # first: the daemon outlives this script, and an inherited pipe (a CI runner's, a caller's
    # `| tail`) would keep whoever reads it waiting for the daemon to exit.
    (
      cd /
      for fd in /proc/$BASHPID/fd/*; do
        n=${fd##*/}
        ((n > 2)) && eval "exec $n>&-"
      done
      setsid podman system service --time=0 "unix://$PODMAN_SOCKET" </dev/null >>/var/log/podman-service.log 2>&1 &
    )
    for _ in $(seq 1 100); do
      curl -sf --max-time 2 --unix-socket "$PODMAN_SOCKET" http://d/_ping >/dev/null 2>&1 && break
      sleep 0.1
    done
    curl -sf --max-time 2 --unix-socket "$PODMAN_SOCKET" http://d/_ping >/dev/null || {
      log "podman service did not answer on $PODMAN_SOCKET; see /var/log/podman-service.log"
      exit 1
    }
  fi
fi

if [[ "$(pnpm --version 2>/dev/null || true)" != "$PNPM_VERSION" ]]; then
  need_root "pnpm $PNPM_VERSION is missing" "npm install -g pnpm@$PNPM_VERSION"
  log "installing pnpm $PNPM_VERSION"
  npm install -g --silent "pnpm@$PNPM_VERSION"
fi

if $for_tests; then
  # The real agents e2e/real-agents.test.ts runs in sandboxes. A global install lands under the
  # npm prefix (/usr or /usr/local), read-only inside a sandbox and matched by the built-in
  # presets' binary globs. Pinned so the scripted model conversations in the test meet the
  # clients they were checked against. Since 2.1.1xx Claude Code's package is a Bun-built
  # native executable: its postinstall copies the platform package's binary over
  # bin/claude.exe, a stub that exits 1 — so when npm skipped install scripts we run that step.
  CLAUDE_CODE_VERSION=2.1.332
  claude_bin="$(npm prefix -g)/bin/claude"
  if [[ "$("$claude_bin" --version 2>/dev/null || true)" != "$CLAUDE_CODE_VERSION (Claude Code)" ]]; then
    need_root "Claude Code $CLAUDE_CODE_VERSION is missing" "npm install -g @anthropic-ai/claude-code@$CLAUDE_CODE_VERSION"
    log "installing Claude Code $CLAUDE_CODE_VERSION"
    npm install -g --silent "@anthropic-ai/claude-code@$CLAUDE_CODE_VERSION"
    "$claude_bin" --version >/dev/null 2>&1 || node "$(npm root -g)/@anthropic-ai/claude-code/install.cjs"
    "$claude_bin" --version >/dev/null || {
      log "Claude Code $CLAUDE_CODE_VERSION installed but $claude_bin does not run"
      exit 1
    }
  fi
  # Codex: bin/codex.js launches the native binary of an optional platform dependency.
  CODEX_VERSION=0.171.0
  if [[ "$("$(npm prefix -g)/bin/codex" --version 2>/dev/null || true)" != "codex-cli $CODEX_VERSION" ]]; then
    need_root "Codex $CODEX_VERSION is missing" "npm install -g @openai/codex@$CODEX_VERSION"
    log "installing Codex $CODEX_VERSION"
    npm install -g --silent "@openai/codex@$CODEX_VERSION"
  fi
fi

log "installing dependencies"
pnpm install --frozen-lockfile --reporter=append-only >/dev/null
log "building"
pnpm run -s build --output-logs=errors-only
log "ready"
