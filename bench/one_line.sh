#!/usr/bin/env bash
# Files of one long line (generated seeds, minified dumps): splitting and the text report
# must stay linear in the file, not in the file times its statements (session 12).
#
#   bash bench/one_line.sh          # build, then time split and lint on two such files
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --locked --quiet
bin=$PWD/target/release/sqlrail
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
mkdir -p "$dir/ddl"
# 2 MB: 200,000 statements on one line.
python3 -c "import sys; sys.stdout.write('select 1; ' * 200000)" > "$dir/selects.sql"
# 520 kB: 20,000 INSERTs on one line, each a dml-in-ddl finding.
python3 -c "import sys; sys.stdout.write('insert into t values (1); ' * 20000)" > "$dir/ddl/V1__seed.sql"

timed() {
    local label=$1
    shift
    local start end
    start=$(date +%s.%N)
    "$@" > /dev/null 2>&1 || true
    end=$(date +%s.%N)
    printf '%-42s %6.2f s\n' "$label" "$(echo "$end - $start" | bc -l)"
}
timed "split (200,000 statements, one line)" "$bin" split --format json "$dir/selects.sql"
timed "lint --format gcc (20,000 findings)" "$bin" lint --format gcc "$dir/ddl"
timed "lint --format text (20,000 findings)" "$bin" lint --format text "$dir/ddl"
