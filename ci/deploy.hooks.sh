# Hooks for ci/deploy.sh (SQLRAIL_HOOKS=ci/deploy.hooks.sh). Replace the bodies with what
# stops and starts your application; a non-zero return fails the deploy with exit 4.

stop_services() {
  echo "deploy: stop the application here (e.g. kubectl scale deploy/crm --replicas=0)"
}

start_services() {
  echo "deploy: start the new release here (e.g. kubectl rollout restart deploy/crm)"
}

# $1: the DDL phase's exit code. Services are stopped at this point.
on_ddl_failure() {
  echo "deploy: DDL failed with exit $1; start the previous release here" >&2
}
