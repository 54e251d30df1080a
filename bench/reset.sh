#!/usr/bin/env bash
# `sqlrail reset` on the example project against `dropdb && createdb && psql -f` of the
# same SQL (its DDL files in version order, then its index builds; the backfills have no
# rows to change on an empty database, and psql cannot run their :lo/:hi templates).
# ROUNDS rounds (default 5), the two alternating; prints each median and the ratio.
# Usage: bash bench/reset.sh
set -euo pipefail
cd "$(dirname "$0")/.."
ROUNDS=${ROUNDS:-5}
DB=sqlrail_bench_reset
HOST=(-h 127.0.0.1 -U postgres)
cargo build --release --quiet
BIN=$PWD/target/release/sqlrail
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"; dropdb "${HOST[@]}" --if-exists --force "$DB" 2>/dev/null || true' EXIT

# The same SQL as one file: DDL by version, then the index builds by version.
python3 - "$WORK/all.sql" <<'PY'
import pathlib, re, sys
out = []
for phase in ("ddl", "indexes"):
    files = sorted(pathlib.Path("sql", phase).glob("V*__*.sql"), key=lambda p: int(re.match(r"V(\d+)__", p.name).group(1)))
    out += [f.read_text() for f in files]
pathlib.Path(sys.argv[1]).write_text("\n".join(out))
PY
createdb "${HOST[@]}" "$DB" 2>/dev/null || true
URL="postgres://postgres@127.0.0.1:5432/$DB?sslmode=disable"

now() { date +%s.%N; }
sqlrail_reset() { "$BIN" reset --yes --database-url "$URL" >/dev/null 2>"$WORK/reset.log" || { cat "$WORK/reset.log"; exit 1; }; }
psql_reset() {
  dropdb "${HOST[@]}" --if-exists --force "$DB" && createdb "${HOST[@]}" "$DB" &&
    psql -X -q "${HOST[@]}" -v ON_ERROR_STOP=1 -d "$DB" -f "$WORK/all.sql" >/dev/null
}
sqlrail_times=()
psql_times=()
for round in $(seq "$ROUNDS"); do
  for tool in sqlrail psql; do
    if (( round % 2 == 0 )); then tool=$([[ $tool == sqlrail ]] && echo psql || echo sqlrail); fi
    t0=$(now)
    "${tool}_reset"
    t1=$(now)
    ms=$(python3 -c "print(round(($t1 - $t0) * 1000))")
    if [[ $tool == sqlrail ]]; then sqlrail_times+=("$ms"); else psql_times+=("$ms"); fi
  done
done
python3 - "${sqlrail_times[*]}" "${psql_times[*]}" <<'PY'
import statistics, sys
s = [int(x) for x in sys.argv[1].split()]
p = [int(x) for x in sys.argv[2].split()]
ms, mp = statistics.median(s), statistics.median(p)
print(f"sqlrail reset (35 DDL + 14 indexes + 8 backfills): median {ms:.0f} ms  runs {s}")
print(f"dropdb && createdb && psql -f (same DDL + indexes): median {mp:.0f} ms  runs {p}")
print(f"ratio: {ms / mp:.2f}x (target: within 1.5x)")
PY
