#!/usr/bin/env bash
# History-size benchmark (issue 30): projects of N generated DDL migrations (two statements
# each, with the fingerprints `sqlrail manifest sync` proposes), timed for lint,
# `manifest sync --check`, plan, status, verify, a fresh apply, the no-op re-apply and a
# `reset` (drop, recreate, apply everything again), with peak
# memory; side by side with `psql -X -c 'SELECT 1'` against the same database, which is
# the floor of any command that starts a process, connects and asks one thing.
#
#   bash bench/history.sh 1000 10000 50000
#
# Needs a release build (`cargo build --release`, or SQLRAIL=path) and the PostgreSQL
# server of the test suite (127.0.0.1:5432, trust). Each size gets its own database,
# dropped at the end. Figures are medians of ROUNDS runs (default 5; 1 for fresh apply).
set -euo pipefail
cd "$(dirname "$0")/.."
SQLRAIL=${SQLRAIL:-$PWD/target/release/sqlrail}
ROUNDS=${ROUNDS:-5}
HOST=${PGHOST_BENCH:-127.0.0.1}
[ -x "$SQLRAIL" ] || { echo "no release build at $SQLRAIL: run cargo build --release" >&2; exit 2; }
[ $# -gt 0 ] || set -- 1000 10000

work=$(mktemp -d)
dbs=()
cleanup() {
  for db in "${dbs[@]}"; do psql -X -q -h "$HOST" -U postgres -d postgres -c "DROP DATABASE IF EXISTS $db" >/dev/null 2>&1 || true; done
  rm -rf "$work"
}
trap cleanup EXIT

# One project of $1 migrations in $2.
generate() {
  local n=$1 dir=$2
  mkdir -p "$dir/sql/ddl"
  python3 - "$n" "$dir/sql/ddl" <<'EOF'
import sys, os
n, out = int(sys.argv[1]), sys.argv[2]
for i in range(1, n + 1):
    with open(os.path.join(out, f"V{i}__table_{i}.sql"), "w") as f:
        f.write(f"CREATE TABLE t_{i} (id bigint PRIMARY KEY, name text);\n"
                f"ALTER TABLE t_{i} ADD COLUMN created_at timestamptz NOT NULL DEFAULT now();\n")
EOF
  (cd "$dir" && "$SQLRAIL" manifest sync >/dev/null 2>&1)
}

# Median wall seconds and the largest peak RSS (MiB) of ROUNDS runs of a command.
measure() {
  local rounds=$1; shift
  local times=() peak=0
  for _ in $(seq 1 "$rounds"); do
    local out code=0
    /usr/bin/time -o "$work/time" -f '%e %M' "$@" >/dev/null 2>"$work/stderr" || code=$?
    if [ "$code" -ne 0 ]; then
      printf 'FAILED (exit %d): %s' "$code" "$(grep -v '^Command exited' "$work/stderr" | head -n 3 | tr '\n' ' ')"
      return
    fi
    out=$(tail -n 1 "$work/time")
    times+=("${out% *}")
    local kib=${out#* }
    [ "$kib" -gt "$peak" ] && peak=$kib
  done
  local median
  median=$(printf '%s\n' "${times[@]}" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')
  printf '%8.3f s %6d MiB' "$median" $((peak / 1024))
}

printf '%-8s %-24s %s\n' size command "median time, peak memory"
for n in "$@"; do
  dir="$work/p$n"
  generate "$n" "$dir"
  db="bench_history_${n}_$$"
  dbs+=("$db")
  psql -X -q -h "$HOST" -U postgres -d postgres -c "CREATE DATABASE $db" >/dev/null
  url="postgres://postgres@$HOST:5432/$db?sslmode=disable"
  cd "$dir"
  printf '%-8s %-24s %s\n' "$n" "lint" "$(measure "$ROUNDS" "$SQLRAIL" lint --fail-on high)"
  printf '%-8s %-24s %s\n' "$n" "manifest sync --check" "$(measure "$ROUNDS" "$SQLRAIL" manifest sync --check)"
  printf '%-8s %-24s %s\n' "$n" "plan (fresh)" "$(measure "$ROUNDS" "$SQLRAIL" plan --database-url "$url")"
  printf '%-8s %-24s %s\n' "$n" "apply (fresh)" "$(measure 1 "$SQLRAIL" apply --database-url "$url")"
  printf '%-8s %-24s %s\n' "$n" "status" "$(measure "$ROUNDS" "$SQLRAIL" status --database-url "$url")"
  printf '%-8s %-24s %s\n' "$n" "verify" "$(measure "$ROUNDS" "$SQLRAIL" verify --database-url "$url")"
  printf '%-8s %-24s %s\n' "$n" "apply (no-op)" "$(measure "$ROUNDS" "$SQLRAIL" apply --database-url "$url")"
  printf '%-8s %-24s %s\n' "$n" "psql -X -c 'SELECT 1'" "$(measure "$ROUNDS" psql -X -q -d "$url" -c 'SELECT 1')"
  [ -n "${NO_RESET:-}" ] || printf '%-8s %-24s %s\n' "$n" "reset (drop, apply all)" "$(measure 1 "$SQLRAIL" reset --yes --database-url "$url")"
  cd - >/dev/null
done
