#!/usr/bin/env bash
# Every check `make test` runs, in order. It keeps going after a failure so one run shows
# everything that is wrong, then exits non-zero if any step failed.
# Expects the venv and Debian packages in place (make test sees to that).
set -uo pipefail
cd "$(dirname "$0")/.."

PY=.venv/bin/python
failed=()
started=$SECONDS

step() {
  local name=$1
  shift
  printf '\n==> %s\n' "$name"
  local t0=$SECONDS
  "$@"
  local status=$?
  if [ "$status" -eq 0 ]; then
    printf -- '--- ok: %s (%ss)\n' "$name" $((SECONDS - t0))
  else
    printf -- '--- FAILED (exit %s): %s\n' "$status" "$name"
    failed+=("$name")
  fi
}

step "ruff format --check" .venv/bin/ruff format --check --output-format concise .
step "ruff check" .venv/bin/ruff check --output-format concise .
step "migrations are up to date" \
  env DJANGO_SETTINGS_MODULE=config.settings.test DATABASE_URL= \
  "$PY" manage.py makemigrations --check --dry-run
step "compilemessages" make --no-print-directory messages
step "check --deploy (prod settings)" make --no-print-directory check-deploy
step "collectstatic (prod storage)" make --no-print-directory collectstatic-check
step "pytest on SQLite" env DATABASE_URL= scripts/pytest.sh ${PYTEST_ARGS:-}
step "pytest on PostgreSQL 15" scripts/with-postgres.sh scripts/pytest.sh ${PYTEST_ARGS:-}
# The production commands of docs/deployment.md: two gunicorn processes, a worker and
# the scheduler on a throwaway PostgreSQL, requests as the reverse proxy sends them.
step "deployment smoke (gunicorn + PostgreSQL + worker)" scripts/deploy-smoke.sh

printf '\n'
if [ ${#failed[@]} -gt 0 ]; then
  printf 'make test FAILED after %ss:\n' $((SECONDS - started))
  printf '  - %s\n' "${failed[@]}"
  exit 1
fi
printf 'make test passed in %ss.\n' $((SECONDS - started))
