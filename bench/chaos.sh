#!/usr/bin/env bash
# The chaos suite at full length: TRIALS trials (default 200) of the chaos project (the
# example project plus 50 generated DDL migrations, 5 index builds and 2 backfills over
# 200,000 rows), each with one fault at a random moment, every fault kind in turn; the
# invariants are checked after each (tests/chaos/). Writes the Markdown report to
# bench/out/chaos-<seed>.md (the per-trial lines to
# bench/out/chaos-<seed>.log) and prints it. CI runs the same test with 20 trials.
# Usage: bash bench/chaos.sh            (TRIALS=…, SEED=… to replay, FAULTS=a,b to narrow)
set -euo pipefail
cd "$(dirname "$0")/.."
TRIALS=${TRIALS:-200}
SEED=${SEED:-$(date +%s)}
mkdir -p bench/out
REPORT=$PWD/bench/out/chaos-$SEED.md
LOG=$PWD/bench/out/chaos-$SEED.log
status=0
SQLRAIL_CHAOS_TRIALS=$TRIALS SQLRAIL_CHAOS_SEED=$SEED SQLRAIL_CHAOS_FAULTS=${FAULTS:-} \
SQLRAIL_CHAOS_REPORT=$REPORT \
  cargo test --release --locked --test chaos -- --nocapture >"$LOG" 2>&1 || status=$?
if [ -f "$REPORT" ]; then cat "$REPORT"; else tail -n 40 "$LOG"; fi
exit "$status"
