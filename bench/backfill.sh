#!/usr/bin/env bash
# Backfill throughput on origin.md's data set: LEADS leads over 100 tenants (default
# 1,000,000) and 2 calls per lead, the example project's schema, and its
# `last_call_direction` backfill (backfills/V1). One run measures, on the same data:
#   1. one UPDATE of everything (the ceiling; it locks every row until it commits),
#   2. sqlrail, sleep 0, adaptive batch size (target 200 ms, 200..20000 rows),
#   3. sqlrail, sleep 0, a fixed 200 rows per batch,
#   4. the `WHERE col IS NULL ORDER BY id LIMIT 200` loop (time-boxed to LIMIT_SECONDS),
#   5. a pgbench workload of single-lead updates (CLIENTS clients, PGBENCH_SECONDS each):
#      alone, then while sqlrail runs the backfill with default settings, then alone again;
#      TPS and p99 latency of the concurrent run against the better baseline,
# and prints rows/s for each plus sqlrail's batch durations (p50, p99, max).
# Usage: bash bench/backfill.sh            (LEADS=200000 bash bench/backfill.sh for a quick run)
set -euo pipefail
cd "$(dirname "$0")/.."
LEADS=${LEADS:-1000000}
LIMIT_SECONDS=${LIMIT_SECONDS:-20}
PGBENCH_SECONDS=${PGBENCH_SECONDS:-30}
CLIENTS=${CLIENTS:-4}
DB=sqlrail_bench_backfill
PSQL=(psql -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -U postgres)
cargo build --release --quiet
BIN=$PWD/target/release/sqlrail
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"; "${PSQL[@]}" -d postgres -c "DROP DATABASE IF EXISTS $DB WITH (FORCE)" >/dev/null' EXIT

# The example project with only the backfill under test; settings are rewritten per run.
cp -r manifest.yaml sql "$WORK/"
find "$WORK/sql/backfills" -name '*.sql' ! -name 'V1__last_call_direction.sql' -delete
mv "$WORK/manifest.yaml" "$WORK/manifest.orig.yaml"
project() { # $1: the backfill settings (YAML flow map) -> $WORK/manifest.yaml
  python3 - "$WORK/manifest.orig.yaml" "$1" "$WORK/manifest.yaml" <<'PY'
import re, sys
path, settings, out = sys.argv[1], sys.argv[2], sys.argv[3]
text = open(path).read()
head, _, rest = text.partition("  # --- data changes")
entry = next(e for e in rest.split("\n  - id: ")[1:] if e.startswith("backfills/V1__"))
checksum = re.search(r'checksum: "(\d+)"', entry).group(1)
open(out, "w").write(head + f'  - id: backfills/V1__last_call_direction\n    checksum: "{checksum}"\n    backfill: {settings}\n')
PY
}
project "{ table: leads, key: id }"

"${PSQL[@]}" -d postgres -c "DROP DATABASE IF EXISTS $DB WITH (FORCE)" -c "CREATE DATABASE $DB"
URL="postgres://postgres@127.0.0.1:5432/$DB?sslmode=disable"
(cd "$WORK" && "$BIN" apply --database-url "$URL" --phase ddl >/dev/null 2>&1 && "$BIN" apply --database-url "$URL" --phase indexes >/dev/null 2>&1)
echo "generating $LEADS leads over 100 tenants and $((LEADS * 2)) calls"
"${PSQL[@]}" -d "$DB" <<SQL
INSERT INTO business (name, slug) SELECT 'Tenant ' || g, 'tenant-' || g FROM generate_series(1, 100) g;
ALTER TABLE leads DISABLE TRIGGER USER;
INSERT INTO leads (tenant_id, first_name, phone_whatsapp)
  SELECT 1 + g % 100, 'Lead ' || g, '+49' || (1000000 + g) FROM generate_series(1, $LEADS) g;
ALTER TABLE leads ENABLE TRIGGER USER;
INSERT INTO call_log (tenant_id, lead_id, direction, created_at)
  SELECT l.tenant_id, l.id, CASE WHEN c = 1 THEN 'inbound' ELSE 'outbound' END::call_direction, now() - make_interval(days => c)
  FROM leads l, generate_series(1, 2) c;
VACUUM ANALYZE leads; VACUUM ANALYZE call_log;
SQL

reset_column() {
  "${PSQL[@]}" -d "$DB" -c "UPDATE leads SET last_call_direction = NULL WHERE last_call_direction IS NOT NULL" \
    -c "DELETE FROM sqlrail.sqlrail_backfills" -c "DELETE FROM sqlrail.sqlrail_backfill_skipped" -c "VACUUM leads" -c "CHECKPOINT" >/dev/null 2>&1 || true
}
filled() { "${PSQL[@]}" -d "$DB" -Atc "SELECT count(*) FROM leads WHERE last_call_direction IS NOT NULL"; }
now() { date +%s.%N; }
rate() { python3 -c "print(f'{$1 / ($3 - $2):,.0f}')"; }

reset_column
t0=$(now)
"${PSQL[@]}" -d "$DB" -f - <<'SQL'
UPDATE leads AS l SET last_call_direction = f.direction
  FROM (SELECT DISTINCT ON (lead_id) lead_id, direction FROM call_log ORDER BY lead_id, created_at, id) AS f
 WHERE l.id = f.lead_id AND l.last_call_direction IS NULL;
SQL
t1=$(now); n=$(filled)
echo "single UPDATE            : $n rows, $(rate "$n" "$t0" "$t1") rows/s"
SINGLE=$(python3 -c "print($n / ($t1 - $t0))")

run_sqlrail() { # $1 label, $2 settings
  reset_column
  project "$2"
  local t0 t1 n
  t0=$(now)
  (cd "$WORK" && "$BIN" apply --phase backfills --format json --database-url "$URL" 2>/dev/null) > "$WORK/out.json"
  t1=$(now); n=$(filled)
  echo "$1: $n rows, $(rate "$n" "$t0" "$t1") rows/s ($(python3 -c "print(f'{$n / ($t1 - $t0) / $SINGLE:.0%}')") of the single UPDATE)"
  batch_stats "$WORK/out.json"
}
batch_stats() { # $1: apply's JSON report -> one line with the batch durations
  python3 - "$1" <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))["summary"].get("backfill_batches")
print(f"  {s['batches']} batches; duration p50 {s['p50_ms']} ms, p99 {s['p99_ms']} ms, max {s['max_ms']} ms" if s else "  no batches")
PY
}
run_sqlrail "sqlrail adaptive, sleep 0" "{ table: leads, key: id, batch_size: 200, sleep: 0ms, adaptive: { target: 200ms, min_batch: 200, max_batch: 20000 } }"
run_sqlrail "sqlrail 200 rows, sleep 0" "{ table: leads, key: id, batch_size: 200, sleep: 0ms }"
run_sqlrail "sqlrail 1000 rows, sleep 0" "{ table: leads, key: id, batch_size: 1000, sleep: 0ms }"

reset_column
t0=$(now); end=$(python3 -c "print($t0 + $LIMIT_SECONDS)")
while python3 -c "import sys; sys.exit(0 if $(now) < $end else 1)"; do
  "${PSQL[@]}" -d "$DB" -c "UPDATE leads AS l SET last_call_direction = f.direction FROM (SELECT DISTINCT ON (c.lead_id) c.lead_id, c.direction FROM call_log c WHERE c.lead_id IN (SELECT id FROM leads WHERE last_call_direction IS NULL ORDER BY id LIMIT 200) ORDER BY c.lead_id, c.created_at, c.id) AS f WHERE l.id = f.lead_id" >/dev/null
done
t1=$(now); n=$(filled)
echo "IS NULL ORDER BY id LIMIT 200 loop: $n rows in ${LIMIT_SECONDS}s, $(rate "$n" "$t0" "$t1") rows/s"

# 5. A concurrent workload: CLIENTS pgbench clients updating random leads. Baseline alone,
# then with sqlrail's backfill at default settings (200 rows, 50 ms sleep, no adaptive
# sizing) stopped by max_runtime at the end of the window, then a second baseline.
cat > "$WORK/touch.sql" <<SQL
\set id random(1, $LEADS)
UPDATE leads SET updated_at = now() WHERE id = :id;
SQL
workload() { # $1: label -> "tps p99_ms" from pgbench's per-transaction log
  rm -f "$WORK/$1".*
  pgbench -n -M prepared -h 127.0.0.1 -U postgres -c "$CLIENTS" -j 2 -T "$PGBENCH_SECONDS" \
    -f "$WORK/touch.sql" -l --log-prefix="$WORK/$1" "$DB" > "$WORK/$1.out" 2>&1
  python3 - "$WORK" "$1" <<'PY'
import glob, re, sys
work, label = sys.argv[1], sys.argv[2]
tps = float(re.search(r"tps = ([\d.]+) \(without initial", open(f"{work}/{label}.out").read()).group(1))
lat = sorted(int(line.split()[2]) for f in glob.glob(f"{work}/{label}.[0-9]*") for line in open(f))
p99 = lat[max(0, -(-99 * len(lat) // 100) - 1)] / 1000
print(f"{tps:.0f} {p99:.2f}")
PY
}
reset_column
read -r base1_tps base1_p99 < <(workload base1)
echo "pgbench alone            : $base1_tps TPS, p99 $base1_p99 ms"
reset_column
project "{ table: leads, key: id, max_runtime: ${PGBENCH_SECONDS}s }"
(cd "$WORK" && "$BIN" apply --phase backfills --format json --database-url "$URL" 2>/dev/null) > "$WORK/concurrent.json" &
apply_pid=$!
read -r mixed_tps mixed_p99 < <(workload mixed)
wait "$apply_pid"
n=$(filled)
echo "pgbench + sqlrail default: $mixed_tps TPS, p99 $mixed_p99 ms; backfill: $n rows, $(python3 -c "print(f'{$n / $PGBENCH_SECONDS:,.0f}')") rows/s"
batch_stats "$WORK/concurrent.json"
reset_column
read -r base2_tps base2_p99 < <(workload base2)
echo "pgbench alone again      : $base2_tps TPS, p99 $base2_p99 ms"
python3 - "$base1_tps" "$base1_p99" "$base2_tps" "$base2_p99" "$mixed_tps" "$mixed_p99" <<'PY'
import sys
b1t, b1p, b2t, b2p, mt, mp = map(float, sys.argv[1:])
base_tps, base_p99 = max(b1t, b2t), min(b1p, b2p)
print(f"workload under the backfill: {mt / base_tps:.0%} of its TPS (target >= 80%), "
      f"p99 {mp / base_p99:.2f}x its baseline (target < 3x)")
PY
