#!/usr/bin/env bash
# Slow-link apply (issue 30): 100 pending DDL migrations applied through a proxy that adds
# DELAY_MS each way (default 5: a 10 ms round trip, a CI runner or a pooler in another
# zone), with the round trips counted. Side by side, in the same run and through the same
# proxy: what connecting costs (`psql -X -c 'SELECT 1'`), and the psql way a shell-script
# runner (dbmate-like) applies the same files: one session, each file in its own
# transaction with its version row.
#
#   bash bench/slow_link.sh [MIGRATIONS] [DELAY_MS]
#
# Needs a release build (`cargo build --release`, or SQLRAIL=path) and the test suite's
# PostgreSQL (127.0.0.1:5432, trust).
set -euo pipefail
cd "$(dirname "$0")/.."
SQLRAIL=${SQLRAIL:-$PWD/target/release/sqlrail}
N=${1:-100}
DELAY=${2:-5}
[ -x "$SQLRAIL" ] || { echo "no release build at $SQLRAIL: run cargo build --release" >&2; exit 2; }

work=$(mktemp -d)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
python3 bench/slowlink.py "$port" 5432 "$DELAY" "$work/turns" &
proxy=$!
dbs=()
cleanup() {
  kill "$proxy" 2>/dev/null || true
  for db in "${dbs[@]}"; do psql -X -q -h 127.0.0.1 -U postgres -d postgres -c "DROP DATABASE IF EXISTS $db" >/dev/null 2>&1 || true; done
  rm -rf "$work"
}
trap cleanup EXIT
for _ in $(seq 1 50); do [ -s "$work/turns" ] && break; sleep 0.1; done

mkdir -p "$work/p/sql/ddl"
for i in $(seq 1 "$N"); do
  printf 'CREATE TABLE t_%d (id bigint PRIMARY KEY, name text);\nALTER TABLE t_%d ADD COLUMN created_at timestamptz NOT NULL DEFAULT now();\n' "$i" "$i" >"$work/p/sql/ddl/V${i}__table_${i}.sql"
done
(cd "$work/p" && "$SQLRAIL" manifest sync >/dev/null 2>&1)

# Creates database bench_slow_<label>_<pid> and sets `db` to its name. Not `$(newdb …)`:
# in a subshell the name would not reach `dbs`, and the EXIT trap would not drop it.
newdb() {
  db="bench_slow_$1_$$"
  dbs+=("$db")
  psql -X -q -h 127.0.0.1 -U postgres -d postgres -c "CREATE DATABASE $db" >/dev/null
}
# Runs a command; prints its wall time and the round trips it made through the proxy.
trips() {
  local label=$1; shift
  local before after start end
  before=$(cat "$work/turns")
  start=$(date +%s.%N)
  "$@" >/dev/null 2>"$work/stderr" || { echo "$label: FAILED"; cat "$work/stderr"; exit 1; }
  end=$(date +%s.%N)
  sleep 0.2 # late turns (a lease released after exit) land in this command's count
  after=$(cat "$work/turns")
  printf '%-44s %7.3f s %6d round trips\n' "$label" "$(awk "BEGIN { print $end - $start }")" $((after - before))
}

url() { echo "postgres://postgres@127.0.0.1:$port/$1?sslmode=disable"; }

echo "$N migrations, ${DELAY} ms each way ($((2 * DELAY)) ms round trip)"
newdb connect
trips "psql -X -c 'SELECT 1' (connecting)" psql -X -q -d "$(url "$db")" -c 'SELECT 1'

newdb sqlrail
cd "$work/p"
trips "sqlrail apply ($N pending)" "$SQLRAIL" apply --database-url "$(url "$db")"
trips "sqlrail apply (no-op)" "$SQLRAIL" apply --database-url "$(url "$db")"
cd - >/dev/null

newdb psql
{
  echo 'CREATE TABLE schema_migrations (version bigint PRIMARY KEY);'
  for i in $(seq 1 "$N"); do
    echo 'BEGIN;'
    echo "\\i $work/p/sql/ddl/V${i}__table_${i}.sql"
    echo "INSERT INTO schema_migrations VALUES ($i);"
    echo 'COMMIT;'
  done
} >"$work/psql_runner.sql"
trips "psql, one session, a transaction per file" psql -X -q -v ON_ERROR_STOP=1 -d "$(url "$db")" -f "$work/psql_runner.sql"
