#!/bin/sh
# Start a local Docker Engine for tests, build the test image and make the engine a single-node
# swarm manager, idempotently.
#
# Why this exists: CI starts on a clean machine with docker.io installed but no daemon running,
# and no registry is reachable, so the only usable image is one built FROM scratch out of the
# statically linked busybox from busybox-static.
#
# Usage: scripts/ci/start_docker.sh            (as root)
# Env:   DOCKER_SOCK (default /var/run/docker.sock), DOCKERD_LOG (default /tmp/dockerd.log),
#        TEST_IMAGE (default capstan-test/busybox:latest)
set -eu

SOCK="${DOCKER_SOCK:-/var/run/docker.sock}"
LOG="${DOCKERD_LOG:-/tmp/dockerd.log}"
IMAGE="${TEST_IMAGE:-capstan-test/busybox:latest}"
WAIT_SECONDS=60

# Debian's CLI lives in /usr/bin; some machines also carry a newer CLI in /usr/local/bin. Either
# negotiates the API version down to the engine's, so take whatever is first on PATH.
DOCKER="$(command -v docker || true)"
if [ -z "$DOCKER" ]; then
  echo "start_docker: docker CLI not found (apt-get install -y docker.io)" >&2
  exit 1
fi

engine_up() {
  # _ping answers "OK" as soon as the API is served; cheaper than `docker info`.
  curl -sf --max-time 2 --unix-socket "$SOCK" http://localhost/_ping >/dev/null 2>&1
}

# Try one flag combination: start dockerd, wait for the socket, and prove a container can run
# (overlay2 or iptables can fail only when the first container starts, not at daemon start).
try_dockerd() {
  echo "start_docker: starting dockerd $*" >&2
  echo "=== $(date -u +%FT%TZ) dockerd $*" >>"$LOG"
  # setsid detaches dockerd from this shell's process group so CI step teardown does not kill it.
  setsid dockerd -H "unix://$SOCK" "$@" >>"$LOG" 2>&1 </dev/null &
  pid=$!
  i=0
  while [ "$i" -lt "$WAIT_SECONDS" ]; do
    if engine_up; then
      echo "start_docker: engine up after ${i}s (pid $pid)" >&2
      return 0
    fi
    if ! kill -0 "$pid" 2>/dev/null; then
      echo "start_docker: dockerd exited early; see $LOG" >&2
      return 1
    fi
    sleep 1
    i=$((i + 1))
  done
  echo "start_docker: socket did not answer within ${WAIT_SECONDS}s; stopping pid $pid" >&2
  stop_pid "$pid"
  return 1
}

stop_pid() {
  # Never signal pid 0 or 1: `kill 0` would hit our own process group.
  case "$1" in '' | 0 | 1) return 0 ;; esac
  kill "$1" 2>/dev/null || true
  j=0
  while kill -0 "$1" 2>/dev/null && [ "$j" -lt 20 ]; do
    sleep 1
    j=$((j + 1))
  done
  kill -9 "$1" 2>/dev/null || true
  rm -f "$SOCK" /var/run/docker.pid
}

build_image() {
  ctx="$(mktemp -d /tmp/capstan-busybox.XXXXXX)"
  mkdir -p "$ctx/bin"
  # busybox-static installs a statically linked /bin/busybox; a dynamically linked one would not
  # run in a FROM scratch image (the smoke test below would catch that).
  bb=/bin/busybox
  if [ ! -x "$bb" ]; then
    echo "start_docker: need $bb (apt-get install -y busybox-static)" >&2
    rm -rf "$ctx"
    return 1
  fi
  cp "$bb" "$ctx/bin/busybox"
  for applet in $("$ctx/bin/busybox" --list); do
    [ "$applet" = busybox ] || ln -s busybox "$ctx/bin/$applet"
  done
  printf 'FROM scratch\nCOPY bin /bin\nCMD ["sh"]\n' >"$ctx/Dockerfile"
  # The legacy builder needs no buildkit/buildx plugin and never contacts a registry for scratch.
  DOCKER_BUILDKIT=0 "$DOCKER" build -q -t "$IMAGE" "$ctx" >/dev/null
  rm -rf "$ctx"
  echo "start_docker: built $IMAGE" >&2
}

smoke_test() {
  out="$("$DOCKER" run --rm --label capstan.test=1 "$IMAGE" echo capstan-ok 2>&1 || true)"
  [ "$out" = "capstan-ok" ]
}

if engine_up; then
  echo "start_docker: engine already answering on $SOCK" >&2
  started=0
else
  if [ -S "$SOCK" ] || [ -f /var/run/docker.pid ]; then
    # A stale socket or pid file from a killed daemon makes dockerd refuse to start.
    oldpid="$(cat /var/run/docker.pid 2>/dev/null || true)"
    if [ -n "$oldpid" ] && kill -0 "$oldpid" 2>/dev/null; then
      echo "start_docker: dockerd pid $oldpid exists but does not answer; see $LOG" >&2
      exit 1
    fi
    rm -f "$SOCK" /var/run/docker.pid
  fi
  started=1
fi

if [ "$started" = 1 ]; then
  # Plain first (overlay2 + iptables works on the CI VM); the fallbacks are for sandboxes
  # without overlayfs or without netfilter.
  ok=0
  for flags in "" "--storage-driver=vfs" "--iptables=false" "--storage-driver=vfs --iptables=false"; do
    # shellcheck disable=SC2086 # word splitting of the flag list is intended
    if try_dockerd $flags; then
      if ! "$DOCKER" image inspect "$IMAGE" >/dev/null 2>&1; then
        build_image || exit 1
      fi
      if smoke_test; then
        ok=1
        echo "start_docker: containers run with flags: ${flags:-(none)}" >&2
        break
      fi
      echo "start_docker: daemon up but a container failed to run with flags '${flags}'" >&2
      stop_pid "$(cat /var/run/docker.pid 2>/dev/null || echo 0)"
    fi
  done
  if [ "$ok" != 1 ]; then
    echo "start_docker: no dockerd flag combination worked; see $LOG" >&2
    exit 1
  fi
fi

if ! "$DOCKER" image inspect "$IMAGE" >/dev/null 2>&1; then
  build_image
fi
# Apps run as Swarm services, so the test engine is a single-node swarm manager. This machine's
# kernel has no IPVS: the routing mesh (ingress-mode ports, VIPs) does not work here, overlay
# networks and DNS round-robin do (see the README's note on Swarm networking).
if [ "$("$DOCKER" info --format '{{.Swarm.LocalNodeState}}')" != "active" ]; then
  "$DOCKER" swarm init --advertise-addr 127.0.0.1 >/dev/null
  echo "start_docker: swarm initialised" >&2
fi
echo "start_docker: ready ($IMAGE)" >&2
