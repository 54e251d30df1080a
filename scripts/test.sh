#!/usr/bin/env bash
# Runs sqlrail's test suite on a machine of this project's kind (Debian, Rust, PostgreSQL 15):
# starts the local PostgreSQL cluster if it is down, installs PgBouncer if it is missing,
# then runs every test against them.
# Tests create and drop their own databases; set SQLRAIL_TEST_ADMIN_URL to use another server.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ -z "${SQLRAIL_TEST_ADMIN_URL:-}" ] && ! pg_isready -q -h 127.0.0.1 -p 5432; then
  version=$(ls /etc/postgresql | sort -V | tail -n 1)
  echo "PostgreSQL is down; starting cluster ${version}/main"
  pg_ctlcluster --skip-systemctl-redirect "$version" main start
  for _ in $(seq 1 30); do pg_isready -q -h 127.0.0.1 -p 5432 && break; sleep 1; done
  pg_isready -h 127.0.0.1 -p 5432
fi

# The pooler tests start their own PgBouncer (Debian package) on a free loopback port.
if ! command -v pgbouncer >/dev/null && [ ! -x /usr/sbin/pgbouncer ]; then
  echo "installing pgbouncer (Debian package) for the pooler tests"
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq || echo "apt-get update failed; trying the install with the package lists there are"
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends pgbouncer >/dev/null
  # Debian starts the packaged service; the tests run their own instances.
  $sudo service pgbouncer stop >/dev/null 2>&1 || true
fi

if [ ! -d ../shared/corpus ]; then
  echo "note: ../shared/corpus is missing; the conformance tests will say SKIPPED"
fi

cargo test --locked "$@"
