# shellcheck shell=bash
# Give Testcontainers a container runtime on a machine without a Docker engine: Podman's
# Docker-compatible API. Source it (it exports variables into the caller):
#
#   source scripts/podman-setup.sh
#   trap kafkatune_podman_stop EXIT
#
# - A Docker engine already answers (DOCKER_HOST or /var/run/docker.sock): nothing to do.
# - Otherwise installs podman + runc from apt when podman is missing (needs root or sudo),
#   writes /etc/containers/containers.conf (runc, nofile ulimit within this machine's hard limit),
#   starts `podman system service` on a private unix socket and exports
#   DOCKER_HOST, TESTCONTAINERS_RYUK_DISABLED=true, TESTCONTAINERS_HOST_OVERRIDE=127.0.0.1,
#   KAFKATUNE_PODMAN_PID. `kafkatune_podman_stop` removes kafkatune's leftover containers and
#   stops the service by its pid.
# Tests reach containers only through ports published on 127.0.0.1.

_kt_log() { printf '[podman-setup] %s\n' "$*" >&2; }

_kt_sudo() {
  if [ "$(id -u)" = 0 ]; then "$@"; elif command -v sudo >/dev/null 2>&1; then sudo -n "$@"; else
    _kt_log "needs root (or sudo) for: $*"
    return 1
  fi
}

# Answers when a Docker-API socket/host says OK to /_ping within 3 s.
_kt_docker_answers() {
  local host="$1"
  case "$host" in
    unix://*) [ -S "${host#unix://}" ] && curl -sf --max-time 3 --unix-socket "${host#unix://}" http://d/_ping >/dev/null 2>&1 ;;
    tcp://*) curl -sf --max-time 3 "http://${host#tcp://}/_ping" >/dev/null 2>&1 ;;
    *) return 1 ;;
  esac
}

_kt_podman_setup() {
  if [ -n "${DOCKER_HOST:-}" ] && _kt_docker_answers "$DOCKER_HOST"; then
    _kt_log "a container engine already answers at DOCKER_HOST=$DOCKER_HOST: nothing to do"
    return 0
  fi
  if [ -z "${DOCKER_HOST:-}" ] && _kt_docker_answers unix:///var/run/docker.sock; then
    _kt_log "a Docker engine answers at /var/run/docker.sock: nothing to do"
    return 0
  fi

  if ! command -v podman >/dev/null 2>&1; then
    _kt_log "installing podman and runc (apt)"
    _kt_sudo env DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null || return 1
    _kt_sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
      podman runc >/dev/null || return 1
  fi
  if ! command -v runc >/dev/null 2>&1; then
    _kt_sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq runc >/dev/null || return 1
  fi

  # crun fails on this machine class (hybrid cgroups); podman's default RLIMIT_NOFILE (1048576)
  # is above the hard limit here, so containers would not start.
  local hard nofile conf=/etc/containers/containers.conf
  hard="$(ulimit -Hn)"
  if [ "$hard" = unlimited ] || [ "$hard" -gt 1048576 ]; then nofile=1048576; else nofile="$hard"; fi
  local wanted
  wanted="# Written by kafkatune scripts/podman-setup.sh
[containers]
default_ulimits = [\"nofile=${nofile}:${nofile}\", \"nproc=1024:1024\"]

[engine]
runtime = \"runc\""
  if [ ! -f "$conf" ] || grep -q '^# Written by kafkatune' "$conf"; then
    if [ "$(cat "$conf" 2>/dev/null)" != "$wanted" ]; then
      _kt_sudo mkdir -p /etc/containers || return 1
      printf '%s\n' "$wanted" | _kt_sudo tee "$conf" >/dev/null || return 1
    fi
  else
    _kt_log "keeping the existing $conf (not written by kafkatune); it needs: runtime=\"runc\", nofile <= $hard"
  fi

  local dir
  dir="$(mktemp -d "${TMPDIR:-/tmp}/kafkatune-podman.XXXXXX")" || return 1
  podman system service --time=0 "unix://$dir/podman.sock" >"$dir/service.log" 2>&1 &
  KAFKATUNE_PODMAN_PID=$!
  KAFKATUNE_PODMAN_DIR="$dir"
  export KAFKATUNE_PODMAN_PID KAFKATUNE_PODMAN_DIR
  echo "$KAFKATUNE_PODMAN_PID" >"$dir/podman.pid"

  local i
  for i in $(seq 1 300); do
    if _kt_docker_answers "unix://$dir/podman.sock"; then break; fi
    if ! kill -0 "$KAFKATUNE_PODMAN_PID" 2>/dev/null; then
      _kt_log "podman system service exited:"; cat "$dir/service.log" >&2
      return 1
    fi
    sleep 0.1
  done
  if ! _kt_docker_answers "unix://$dir/podman.sock"; then
    _kt_log "podman system service did not answer within 30 s"
    kafkatune_podman_stop
    return 1
  fi

  export DOCKER_HOST="unix://$dir/podman.sock"
  export TESTCONTAINERS_RYUK_DISABLED=true
  export TESTCONTAINERS_HOST_OVERRIDE=127.0.0.1
  _kt_log "podman $(podman --version | awk '{print $3}') serving the Docker API at $DOCKER_HOST (pid $KAFKATUNE_PODMAN_PID)"
}

# Remove containers/networks kafkatune left behind and stop the podman service started above, by pid.
kafkatune_podman_stop() {
  [ -n "${KAFKATUNE_PODMAN_PID:-}" ] || return 0
  local ids
  ids="$(podman ps -aq --filter label=dev.kafkatune.managed=true 2>/dev/null || true)"
  if [ -n "$ids" ]; then
    _kt_log "removing leftover kafkatune containers: $(echo "$ids" | tr '\n' ' ')"
    # shellcheck disable=SC2086
    podman rm -f -t 0 $ids >/dev/null 2>&1 || true
  fi
  ids="$(podman network ls -q --filter label=dev.kafkatune.managed=true 2>/dev/null || true)"
  # shellcheck disable=SC2086
  [ -z "$ids" ] || podman network rm -f $ids >/dev/null 2>&1 || true
  if kill -0 "$KAFKATUNE_PODMAN_PID" 2>/dev/null; then
    kill -TERM "$KAFKATUNE_PODMAN_PID" 2>/dev/null || true
    local i
    for i in $(seq 1 100); do kill -0 "$KAFKATUNE_PODMAN_PID" 2>/dev/null || break; sleep 0.1; done
    if kill -0 "$KAFKATUNE_PODMAN_PID" 2>/dev/null; then kill -KILL "$KAFKATUNE_PODMAN_PID" 2>/dev/null || true; fi
    wait "$KAFKATUNE_PODMAN_PID" 2>/dev/null || true
    _kt_log "stopped podman system service (pid $KAFKATUNE_PODMAN_PID)"
  fi
  if [ -n "${KAFKATUNE_PODMAN_DIR:-}" ]; then rm -rf "$KAFKATUNE_PODMAN_DIR"; fi
  unset KAFKATUNE_PODMAN_PID KAFKATUNE_PODMAN_DIR
}

_kt_podman_setup || _kt_log "no container runtime: container tests need one (see docs/testing.md)"
