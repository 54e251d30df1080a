#!/usr/bin/env bash
# `sqlrail lint` against `grep -rcE` on the same tree, in the same run (issue 3).
#
# The tree replicates PostgreSQL's regression SQL (../shared/corpus/pg_regress_sql, 232
# files) COPIES times, each copy under a ddl/, indexes/ or backfills/ directory in turn, so
# that every phase's rules run. Defaults: 87 copies = 20,184 files, 391 MB. Both tools read
# the same files from a warm page cache; each is timed RUNS times and the median reported.
#
#   bash bench/lint.sh                 # build, make the tree (once), measure
#   COPIES=87 RUNS=7 TREE=/tmp/t bash bench/lint.sh
set -euo pipefail
cd "$(dirname "$0")/.."
corpus=${CORPUS:-../shared/corpus/pg_regress_sql}
copies=${COPIES:-87}
tree=${TREE:-/tmp/sqlrail-lint-bench-$copies}
runs=${RUNS:-5}

[ -d "$corpus" ] || { echo "no corpus at $corpus" >&2; exit 2; }
cargo build --release --locked --quiet
bin=$PWD/target/release/sqlrail

if [ ! -f "$tree/.complete" ]; then
    rm -rf "$tree"
    phases=(ddl indexes backfills)
    for ((i = 0; i < copies; i++)); do
        dir="$tree/${phases[i % 3]}/copy$i"
        mkdir -p "$dir"
        cp "$corpus"/*.sql "$dir/"
    done
    touch "$tree/.complete"
fi
files=$(find "$tree" -name '*.sql' | wc -l)
bytes=$(find "$tree" -name '*.sql' -print0 | du -cb --files0-from=- | tail -1 | cut -f1)
echo "tree: $tree: $files files, $((bytes / 1000000)) MB"
cat "$tree"/*/*/*.sql > /dev/null   # warm the page cache

# Median wall time, in seconds, of running "$@" $runs times (output discarded).
median() {
    local times=()
    for ((r = 0; r < runs; r++)); do
        local start end
        start=$(date +%s.%N)
        "$@" > /dev/null 2>&1 || true
        end=$(date +%s.%N)
        times+=("$(echo "$end - $start" | bc -l)")
    done
    printf '%s\n' "${times[@]}" | sort -n | sed -n "$(((runs + 1) / 2))p"
}

grep_s=$(median grep -rcE '\b(INSERT|UPDATE|DELETE)\b' "$tree")
lint_s=$(median "$bin" lint --format gcc "$tree")
lint1_s=$(median env RAYON_NUM_THREADS=1 "$bin" lint --format gcc "$tree")
findings=$("$bin" lint --format gcc "$tree" 2>/dev/null | wc -l || true)

printf 'grep -rcE (1 core)         %6.3f s\n' "$grep_s"
printf 'sqlrail lint (%s cores)     %6.3f s   %.2fx grep   %s findings\n' "$(nproc)" "$lint_s" "$(echo "$lint_s / $grep_s" | bc -l)" "$findings"
printf 'sqlrail lint (1 core)      %6.3f s   %.2fx grep\n' "$lint1_s" "$(echo "$lint1_s / $grep_s" | bc -l)"
