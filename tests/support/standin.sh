#!/bin/sh
# A stand-in for an official image in end-to-end tests, where no registry is reachable and the
# only base image is capstan-test/busybox. It behaves like the image on the wire, as far as the
# built-in templates need, driven by ENV baked into its Dockerfile (tests/support/template_standins.ts):
#
#   STANDIN_NAME         what it stands in for ("mariadb"), in logs and pages
#   STANDIN_ROLE         db:   listen on STANDIN_PORT after STANDIN_DELAY seconds (default 3)
#                        site: wait until every database named in STANDIN_WAIT_ENV answers, then
#                              serve a page on $PORT (else STANDIN_PORT) saying what it saw
#                        exec: run the command given, as the official entrypoint does (nginx)
#   STANDIN_PORT         the image's port
#   STANDIN_DB_PORT      the port of a database named without one (WORDPRESS_DB_HOST=db)
#   STANDIN_WAIT_ENV     names of variables holding host[:port] or a URL of a database
#   STANDIN_REPORT_ENV   names of variables to report as set (names only)
#   STANDIN_REQUIRE_ENV  groups like A|B: at least one of each group must be set, or it exits 1
#                        naming them, as the official image refuses to start
#
# Values of the environment may be secrets: this script never prints one, only names and the
# host:port of a database.
set -u

name="${STANDIN_NAME:-image}"
log() { echo "$name stand-in: $*"; }

# The value of the variable named $1 (names come from the baked ENV, checked to be names).
value_of() {
  case "$1" in
    '' | [0-9]* | *[!A-Za-z0-9_]*) return 1 ;;
  esac
  eval "printf '%s' \"\${$1:-}\""
}

# host:port of a database setting: "db:3306", "db", or a URL with or without credentials.
host_port() {
  v=$1
  default=${STANDIN_DB_PORT:-}
  case "$v" in
    mongodb://* | mongodb+srv://*) default=27017 ;;
    postgres://* | postgresql://*) default=5432 ;;
    mysql://* | mariadb://*) default=3306 ;;
    redis://*) default=6379 ;;
  esac
  case "$v" in *://*) v=${v#*://} ;; esac
  # Path and query first (credentials cannot hold an unencoded /), then the credentials.
  v=${v%%/*}
  v=${v%%\?*}
  v=${v##*@}
  v=${v%%,*}
  case "$v" in
    *:*) printf '%s' "$v" ;;
    *) printf '%s:%s' "$v" "$default" ;;
  esac
}

reachable() {
  nc -w 2 "${1%:*}" "${1##*:}" </dev/null >/dev/null 2>&1
}

require_env() {
  for group in ${STANDIN_REQUIRE_ENV:-}; do
    found=""
    for n in $(echo "$group" | tr '|' ' '); do
      if [ -n "$(value_of "$n")" ]; then found=1; fi
    done
    if [ -z "$found" ]; then
      log "error: none of $(echo "$group" | sed 's/|/, /g') is set; the official image refuses to start too" >&2
      exit 1
    fi
  done
}

reported_env() {
  out=""
  for n in ${STANDIN_REPORT_ENV:-}; do
    if [ -n "$(value_of "$n")" ]; then out="$out $n"; fi
  done
  printf '%s' "${out# }"
}

# Runs a server in the background so this shell, PID 1, can honour SIGTERM (PID 1 ignores
# signals it has no handler for, and busybox's servers install none).
serve() {
  "$@" &
  child=$!
  trap 'kill "$child" 2>/dev/null; exit 0' TERM INT
  wait "$child"
}

trap 'exit 0' TERM INT

case "${1:-}" in
  --standin-probe)
    # The health-check programs (healthcheck.sh, pg_isready, mongosh): ready once the port listens.
    exec nc -w 2 127.0.0.1 "$STANDIN_PORT" </dev/null >/dev/null 2>&1
    ;;
  --standin-greet)
    echo "capstan stand-in for $name"
    exit 0
    ;;
  --standin-nginx)
    # `nginx -g 'daemon off;'` of the official image: serve its html directory on port 80.
    log "serving /usr/share/nginx/html on port 80"
    serve httpd -f -p 80 -h /usr/share/nginx/html
    ;;
esac

require_env
case "${STANDIN_ROLE:-site}" in
  exec)
    exec "$@"
    ;;
  db)
    delay=${STANDIN_DELAY:-3}
    log "starting; listening on port $STANDIN_PORT in $delay s (env: $(reported_env))"
    sleep "$delay" &
    wait $!
    log "listening on port $STANDIN_PORT"
    serve nc -ll -p "$STANDIN_PORT" -e /standin/standin.sh --standin-greet
    ;;
  site)
    port=${PORT:-$STANDIN_PORT}
    seen=""
    for n in ${STANDIN_WAIT_ENV:-}; do
      v=$(value_of "$n")
      [ -n "$v" ] || continue
      db=$(host_port "$v")
      log "waiting for the database at $db (from $n)"
      until reachable "$db"; do sleep 1; done
      log "$db answers"
      seen="$seen; db=$db reachable"
    done
    [ -n "$seen" ] || seen="; no database"
    mkdir -p /tmp/standin-www
    echo "$name stand-in$seen; env: $(reported_env)" >/tmp/standin-www/index.html
    log "serving on port $port"
    serve httpd -f -p "$port" -h /tmp/standin-www
    ;;
  *)
    log "error: unknown STANDIN_ROLE" >&2
    exit 1
    ;;
esac
