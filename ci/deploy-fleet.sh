#!/usr/bin/env bash
# sqlrail fleet deploy: the phase order of docs/deploying.md, across every database of
# a --targets file (docs/fleets.md).
#
#   1. sqlrail apply --targets FILE --phase ddl         canary first; a failure ABORTS
#   2. sqlrail apply --targets FILE --phase indexes     failures WARN
#   3. sqlrail apply --targets FILE --phase backfills   failures WARN; resumed next deploy
#
# Exit status: step 1's (0 every target migrated, 1 a target failed or was not started,
# 2 the targets file is wrong, 3 a lock wait ran out); 0 when steps 2 and 3 only warn.
#
# Environment:
#   SQLRAIL_TARGETS    the targets file                 [fleet.yaml]
#   SQLRAIL            the sqlrail binary               [sqlrail]
#   SQLRAIL_LOCK_WAIT  how long each target waits for another runner's lock   [10m]
#   and the url_env variables the targets file names
set -uo pipefail

sqlrail=${SQLRAIL:-sqlrail}
targets=${SQLRAIL_TARGETS:-fleet.yaml}
lock_wait=${SQLRAIL_LOCK_WAIT:-10m}

"$sqlrail" apply --targets "$targets" --phase ddl --lock-wait "$lock_wait"
code=$?
if [ "$code" -ne 0 ]; then
    echo "fleet deploy: the DDL phase ended $code; indexes and backfills not run" >&2
    exit "$code"
fi
"$sqlrail" apply --targets "$targets" --phase indexes --lock-wait "$lock_wait" ||
    echo "fleet deploy: index builds warned (see above); the deploy goes on" >&2
"$sqlrail" apply --targets "$targets" --phase backfills --lock-wait "$lock_wait" ||
    echo "fleet deploy: backfills warned (see above); they resume next deploy" >&2
exit 0
