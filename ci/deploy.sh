#!/usr/bin/env bash
# sqlrail deploy: the phase order of docs/deploying.md.
#
#   1. stop_services                     your hook (below, or in $SQLRAIL_HOOKS)
#   2. sqlrail apply --phase ddl         a failure ABORTS the deploy: services stay
#                                        stopped, on_ddl_failure runs, the exit code says why
#   3. sqlrail apply --phase indexes     a failure WARNS; the deploy goes on
#   4. sqlrail apply --phase backfills   a failure WARNS; unfinished work resumes next deploy
#   5. start_services                    your hook
#
# With SQLRAIL_START_AFTER=ddl, services start right after step 2 instead (index builds
# and backfills are online-safe: CONCURRENTLY, small batches, SKIP LOCKED).
#
# Exit status:
#   0  deployed (index or backfill warnings, if any, are printed)
#   1  a DDL migration failed or drift was found: deploy aborted
#   2  DDL phase: usage, configuration or connection error: deploy aborted
#   3  DDL phase: another runner held the migration lock past --lock-wait: deploy aborted
#   4  a hook failed (stop_services: nothing was migrated; start_services: migrated)
#
# Environment:
#   DATABASE_URL, or DATABASE_URL_DIRECT + DATABASE_URL_POOLER   where to migrate
#   SQLRAIL             the sqlrail binary            [sqlrail]
#   SQLRAIL_PROJECT     the project directory         [the current directory]
#   SQLRAIL_HOOKS       a bash file defining stop_services, start_services and
#                       on_ddl_failure; sourced after the defaults below
#   SQLRAIL_LOCK_WAIT   how long DDL waits for another runner's lock   [10m]
#   SQLRAIL_START_AFTER all (default) or ddl
set -uo pipefail

SQLRAIL=${SQLRAIL:-sqlrail}
LOCK_WAIT=${SQLRAIL_LOCK_WAIT:-10m}
START_AFTER=${SQLRAIL_START_AFTER:-all}

# --- hooks: fill these in, or define them in $SQLRAIL_HOOKS ----------------------------
stop_services() {
  echo "deploy: stop_services is not configured (set SQLRAIL_HOOKS); nothing stopped"
}
start_services() {
  echo "deploy: start_services is not configured (set SQLRAIL_HOOKS); nothing started"
}
on_ddl_failure() { # $1: sqlrail's exit code
  echo "deploy: services are still stopped; fix the migration, or start the previous release" >&2
}
# -----------------------------------------------------------------------------------------

if [[ -n ${SQLRAIL_HOOKS:-} ]]; then
  # shellcheck source=/dev/null
  source "$SQLRAIL_HOOKS" || { echo "deploy: cannot read SQLRAIL_HOOKS=$SQLRAIL_HOOKS" >&2; exit 4; }
fi
case $START_AFTER in all | ddl) ;; *) echo "deploy: SQLRAIL_START_AFTER must be all or ddl, not '$START_AFTER'" >&2; exit 2 ;; esac
if [[ -n ${SQLRAIL_PROJECT:-} ]]; then
  cd "$SQLRAIL_PROJECT" || { echo "deploy: cannot enter SQLRAIL_PROJECT=$SQLRAIL_PROJECT" >&2; exit 2; }
fi

started=false
start() {
  $started && return 0
  started=true
  start_services || { echo "deploy: start_services failed; the database is migrated" >&2; exit 4; }
}

echo "deploy: stopping services"
stop_services || { echo "deploy: stop_services failed; nothing was migrated" >&2; exit 4; }

echo "deploy: schema changes (sql/ddl)"
"$SQLRAIL" apply --phase ddl --lock-wait "$LOCK_WAIT"
ddl=$?
if ((ddl != 0)); then
  echo "deploy: ABORTED: the DDL phase exited $ddl (1 migration failed or drift, 2 configuration or connection, 3 lock busy)" >&2
  on_ddl_failure "$ddl"
  exit "$ddl"
fi
[[ $START_AFTER == ddl ]] && start

warnings=0
for phase in indexes backfills; do
  echo "deploy: $phase (sql/$phase)"
  "$SQLRAIL" apply --phase "$phase" --strict --lock-wait "$LOCK_WAIT"
  code=$?
  if ((code != 0)); then
    warnings=$((warnings + 1))
    echo "deploy: WARNING: the $phase phase exited $code; the deploy goes on and the next deploy retries it" >&2
  fi
done

start
if ((warnings > 0)); then
  echo "deploy: done with $warnings phase warning(s); see above"
else
  echo "deploy: done"
fi
exit 0
