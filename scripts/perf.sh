#!/usr/bin/env bash
# scripts/perf.sh — ubgo's performance harness (docs/performance.md).
#
#   scripts/perf.sh [--quick] [--out DIR] [--no-pg] [--no-startup] [-- <perfctl run flags>]
#
# Installs wrk (and PostgreSQL when no server answers on 127.0.0.1:5432), builds ubgo with
# the perf tag and the perfctl driver, then lets `perfctl run` load the perf databases,
# start the server on 127.0.0.1, run every scenario interleaved with its baseline (after
# waiting for a quiet machine, retrying disturbed runs), measure startup and memory of
# generated domains, and write summary.tsv, runs.tsv, ratios.md and machine.txt to DIR
# (default perf/results/<UTC date-time>). Whatever it starts it stops, also on Ctrl-C.
#
#   --quick        smoke check: 1 round of 3 s per scenario, short waits for quiet
#   --no-pg        SQLite only
#   --no-startup   skip the generated-domain startup and memory measurement
#   after --        more flags for perfctl run, e.g. -- -only byid,list20 -profile raw_byid,ubql_byid
#
# Environment: PERF_PG_URL (the perf database URL, default
# postgres://postgres@127.0.0.1:5432/ubgo_perf?sslmode=disable&search_path=perf; its schema
# is dropped and recreated), PERF_PG_ADMIN_URL (where CREATE DATABASE runs, default the same
# server's "postgres" database), PERF_GATE=1 (exit 1 when a "must" goal fails), PERF_KEEP=1
# (keep the scratch folder with the binaries, databases and generated domains).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"

QUICK=0 OUT="" PG=1 STARTUP=1
EXTRA=()
while [ $# -gt 0 ]; do
  case "$1" in
    --quick) QUICK=1 ;;
    --out) OUT=${2:?--out needs a folder}; shift ;;
    --out=*) OUT=${1#--out=} ;;
    --no-pg) PG=0 ;;
    --no-startup) STARTUP=0 ;;
    --) shift; EXTRA=("$@"); break ;;
    -h|--help) sed -n '2,24p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "perf.sh: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
  shift
done
[ -n "$OUT" ] || OUT="perf/results/$(date -u +%Y-%m-%dT%H%M%SZ)"
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)

say() { echo "perf.sh: $*" >&2; }

RUNNER_PID=""
STARTED_PG=""
# Binaries, databases and generated domains go to a scratch folder, removed at the end
# (PERF_KEEP=1 keeps it); only reports, logs and profiles stay in $OUT.
WORK=$(mktemp -d "${TMPDIR:-/tmp}/ubgo-perf.XXXXXX")
cleanup() {
  local status=$?
  if [ -n "$RUNNER_PID" ] && kill -0 "$RUNNER_PID" 2>/dev/null; then
    say "stopping the runner (pid $RUNNER_PID) and its servers"
    kill -TERM "$RUNNER_PID" 2>/dev/null || true
    for _ in $(seq 1 60); do kill -0 "$RUNNER_PID" 2>/dev/null || break; sleep 0.5; done
    kill -KILL "$RUNNER_PID" 2>/dev/null || true
  fi
  if [ -n "$STARTED_PG" ]; then
    say "stopping the PostgreSQL cluster this script started ($STARTED_PG)"
    # shellcheck disable=SC2086
    pg_ctlcluster --skip-systemctl-redirect $STARTED_PG stop || true
  fi
  if [ "${PERF_KEEP:-0}" = 1 ]; then say "kept the scratch folder $WORK"; else rm -rf "$WORK"; fi
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

APT_UPDATED=0
apt_install() {
  command -v apt-get >/dev/null || { say "cannot install $* (no apt-get)"; return 1; }
  if [ "$APT_UPDATED" = 0 ]; then apt-get update -qq >/dev/null; APT_UPDATED=1; fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

if ! command -v wrk >/dev/null; then
  say "installing wrk"
  apt_install wrk
fi

DIALECTS=sqlite
PG_URL=${PERF_PG_URL:-postgres://postgres@127.0.0.1:5432/ubgo_perf?sslmode=disable&search_path=perf}
if [ "$PG" = 1 ]; then
  INSTALLED_PG=0
  if ! command -v pg_isready >/dev/null; then
    say "installing PostgreSQL"
    if apt_install postgresql postgresql-client; then INSTALLED_PG=1; else say "PostgreSQL could not be installed"; fi
  fi
  cluster=$(pg_lsclusters -h 2>/dev/null | awk 'NR == 1 { print $1 " " $2 }' || true)
  if command -v pg_isready >/dev/null && ! pg_isready -q -h 127.0.0.1 -p 5432 && [ -n "$cluster" ]; then
    say "starting PostgreSQL cluster $cluster"
    # shellcheck disable=SC2086
    pg_ctlcluster --skip-systemctl-redirect $cluster start && STARTED_PG=$cluster
    for _ in $(seq 1 30); do pg_isready -q -h 127.0.0.1 -p 5432 && break; sleep 1; done
  elif [ "$INSTALLED_PG" = 1 ] && [ -n "$cluster" ]; then
    STARTED_PG=$cluster # the package started it for us: stop it at the end all the same
  fi
  if [ -n "$STARTED_PG" ] && [ -z "${PERF_PG_URL:-}" ] &&
    ! psql "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable" -qtAc 'SELECT 1' >/dev/null 2>&1; then
    # A cluster this script installed or started asks for a password on TCP: give the
    # postgres role one for this run rather than weakening pg_hba.conf.
    pgpass=$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')
    runuser -u postgres -- psql -qc "ALTER USER postgres PASSWORD '$pgpass'" >/dev/null
    PG_URL="postgres://postgres:$pgpass@127.0.0.1:5432/ubgo_perf?sslmode=disable&search_path=perf"
    export PERF_PG_ADMIN_URL="postgres://postgres:$pgpass@127.0.0.1:5432/postgres?sslmode=disable"
  fi
  ADMIN_URL=${PERF_PG_ADMIN_URL:-$(echo "$PG_URL" | sed -E 's#/([A-Za-z0-9_]+)\?#/postgres?#; s#[?&]search_path=[^&]*##')}
  DB=$(echo "$PG_URL" | sed -E 's#^[a-z]+://[^/]*/([^?]*).*#\1#')
  if command -v psql >/dev/null && psql "$ADMIN_URL" -qtAc 'SELECT 1' >/dev/null 2>&1; then
    if [ "$(psql "$ADMIN_URL" -qtAc "SELECT 1 FROM pg_database WHERE datname = '$DB'")" != 1 ]; then
      say "creating database $DB"
      psql "$ADMIN_URL" -qc "CREATE DATABASE $DB" >/dev/null
    fi
    DIALECTS=sqlite,pg
  else
    say "NOTICE: no PostgreSQL reachable at $(echo "$ADMIN_URL" | sed -E 's#://([^:@/]*):[^@]*@#://\1:***@#'); measuring SQLite only"
  fi
fi

say "building ubgo (-tags perf) and perfctl"
go build -tags perf -o "$WORK/bin/ubgo" ./cmd/ubgo
go build -o "$WORK/bin/perfctl" ./internal/perfapp/cmd/perfctl

ARGS=(run -server "$WORK/bin/ubgo" -out "$OUT" -work "$WORK" -app perf -dialects "$DIALECTS" -pg-url "$PG_URL")
[ "$QUICK" = 1 ] && ARGS+=(-quick)
[ "$STARTUP" = 1 ] || ARGS+=(-startup "")
ARGS+=("${EXTRA[@]}")

say "measuring (${DIALECTS}; log in $OUT/perf.log)"
# In the background, so that the traps above can stop it; its own log goes to the terminal
# and to perf.log.
"$WORK/bin/perfctl" "${ARGS[@]}" > >(tee -a "$OUT/perf.log") 2> >(tee -a "$OUT/perf.log" >&2) &
RUNNER_PID=$!
status=0
wait "$RUNNER_PID" || status=$?
RUNNER_PID=""
[ -f "$OUT/ratios.md" ] && cat "$OUT/ratios.md"
exit "$status"
