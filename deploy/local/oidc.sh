#!/usr/bin/env bash
# NAV's mock-oauth2-server: a real OpenID Connect provider (discovery, login page,
# authorization code flow with PKCE, JWKS, end-session) for development and tests.
# No Docker: the server and its dependencies come from Maven Central via
# deploy/local/oidc/pom.xml, cached in .cache/oidc, like deploy/local/kafka.sh.
#
# Every path is an issuer: http://127.0.0.1:$OIDC_PORT/<issuer>. deploy/local/oidc/config.json
# gives the `citizen` issuer the mailbox's audience and scope, and `citizen-expired` the same
# with tokens that are expired when issued (for tests); any other issuer (e.g. `elsewhere`)
# is a second provider whose tokens the mailbox must refuse.
#
# Usage: deploy/local/oidc.sh {up|down|restart|status|url}
#   OIDC_PORT           port (default 8090)
#   OIDC_START_TIMEOUT  seconds to wait for the server (default 60)
set -euo pipefail

LOG_TAG=oidc
# shellcheck source=deploy/local/_common.sh
. "$(dirname "${BASH_SOURCE[0]}")/_common.sh"

POM=$LOCAL_DIR/oidc/pom.xml
CONFIG=$LOCAL_DIR/oidc/config.json
CACHE=$ROOT/.cache/oidc
LIBS=$CACHE/libs
STATE=$ROOT/var/oidc
LOGFILE=$STATE/oidc.log
PIDFILE=$STATE/oidc.pid
PORT=${OIDC_PORT:-8090}
START_TIMEOUT=${OIDC_START_TIMEOUT:-60}
MAIN_CLASS=no.nav.security.mock.oauth2.StandaloneMockOAuth2ServerKt

# Two shared cores: a small serial-GC, C1-only JVM starts fast and stays out of the tests' way.
JVM_OPTS=(
  -Xms64m -Xmx256m
  -XX:+UseSerialGC -XX:ActiveProcessorCount=2 -XX:TieredStopAtLevel=1
  -XX:+ExitOnOutOfMemoryError
  -Djava.awt.headless=true
)

# The marker is keyed by the pom's hash so a version bump refetches.
fetch_libs() {
  local sum marker
  sum=$(sha256sum "$POM" | cut -c1-16)
  marker=$CACHE/libs.$sum.ok
  [[ -f $marker && -d $LIBS ]] && return 0
  ensure_cmd mvn maven
  log "fetching mock-oauth2-server jars with Maven into $LIBS"
  mkdir -p "$CACHE"
  rm -rf "$LIBS.tmp"
  if ! mvn -B -q -f "$POM" dependency:copy-dependencies -DincludeScope=runtime \
    -DoutputDirectory="$LIBS.tmp" >"$CACHE/mvn.log" 2>&1; then
    cat "$CACHE/mvn.log" >&2
    die "mvn could not fetch mock-oauth2-server (log: $CACHE/mvn.log)"
  fi
  compgen -G "$LIBS.tmp/mock-oauth2-server-*.jar" >/dev/null || die "mvn ran but no mock-oauth2-server jar in $LIBS.tmp"
  rm -rf "$LIBS" "$CACHE"/libs.*.ok
  mv "$LIBS.tmp" "$LIBS"
  touch "$marker"
}

config_sum() {
  sha256sum "$CONFIG" | cut -c1-16
}

our_pid() {
  local pid cmdline
  [[ -f $PIDFILE ]] || return 1
  pid=$(<"$PIDFILE")
  [[ $pid =~ ^[0-9]+$ ]] || return 1
  # A recycled pid must not pass for our server.
  cmdline=$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null) || return 1
  [[ $cmdline == *"$MAIN_CLASS"* ]] || return 1
  printf '%s\n' "$pid"
}

running_port() {
  cat "$STATE/oidc.port" 2>/dev/null || echo "$PORT"
}

discovery_ok() {
  curl -fsS -o /dev/null "http://127.0.0.1:$1/citizen/.well-known/openid-configuration" 2>/dev/null
}

is_running() {
  our_pid >/dev/null && discovery_ok "$(running_port)"
}

fail_start() {
  log "ERROR: $*"
  [[ -f $LOGFILE ]] && tail -n 40 "$LOGFILE" >&2
  exit 1
}

cmd_up() {
  if our_pid >/dev/null && [[ $(running_port) != "$PORT" ]]; then
    die "the provider already runs on port $(running_port); run '$0 down' first to move it to $PORT"
  fi
  if our_pid >/dev/null && [[ $(cat "$STATE/oidc.config" 2>/dev/null) != "$(config_sum)" ]]; then
    log "deploy/local/oidc/config.json changed since the provider started: restarting it"
    cmd_down
  fi
  if is_running; then
    log "provider already running (pid $(our_pid)) at http://127.0.0.1:$PORT"
    return 0
  fi
  if ! our_pid >/dev/null; then
    port_open "$PORT" && die "port $PORT is taken by another process; stop it or set OIDC_PORT"
    ensure_cmd java openjdk-17-jre-headless
    ensure_cmd curl curl
    fetch_libs
    mkdir -p "$STATE"
    [[ -f $LOGFILE ]] && mv -f "$LOGFILE" "$LOGFILE.1"
    log "starting mock-oauth2-server on 127.0.0.1:$PORT"
    # setsid+nohup: the server outlives this script and the caller's process group.
    SERVER_HOSTNAME=127.0.0.1 SERVER_PORT=$PORT JSON_CONFIG=$(<"$CONFIG") \
      setsid nohup java "${JVM_OPTS[@]}" -cp "$LIBS/*" "$MAIN_CLASS" >>"$LOGFILE" 2>&1 </dev/null &
    echo $! >"$PIDFILE"
    echo "$PORT" >"$STATE/oidc.port"
    config_sum >"$STATE/oidc.config"
  fi
  local deadline=$((SECONDS + START_TIMEOUT))
  while ((SECONDS < deadline)); do
    kill -0 "$(<"$PIDFILE")" 2>/dev/null || fail_start "provider exited during startup"
    if discovery_ok "$PORT"; then
      log "provider up (pid $(our_pid)); citizens log in at http://127.0.0.1:$PORT/citizen"
      return 0
    fi
    sleep 0.5
  done
  fail_start "provider not ready after ${START_TIMEOUT}s"
}

cmd_down() {
  local pid i
  if ! pid=$(our_pid); then
    rm -f "$PIDFILE" "$STATE/oidc.port" "$STATE/oidc.config"
    log "provider not running"
    return 0
  fi
  log "stopping provider (pid $pid)"
  kill -TERM "$pid" 2>/dev/null || true
  for ((i = 0; i < 40; i++)); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.25
  done
  kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null || true
  rm -f "$PIDFILE" "$STATE/oidc.port" "$STATE/oidc.config"
  log "provider stopped"
}

cmd_status() {
  if is_running; then
    echo "oidc provider running (pid $(our_pid)) at http://127.0.0.1:$(running_port)"
    return 0
  fi
  echo "oidc provider not running"
  return 1
}

case ${1:-} in
  up | start) cmd_up ;;
  down | stop) cmd_down ;;
  restart) cmd_down && cmd_up ;;
  status) cmd_status ;;
  # The citizen issuer's URL, for settings and scripts.
  url) echo "http://127.0.0.1:$(running_port)/citizen" ;;
  *)
    echo "usage: $0 {up|down|restart|status|url}" >&2
    exit 2
    ;;
esac
