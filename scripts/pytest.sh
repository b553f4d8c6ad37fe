#!/usr/bin/env bash
# Run pytest with what the browser tests need; the exit code is pytest's.
# Usage: scripts/pytest.sh [PYTEST ARGS...]  (DATABASE_URL unset or empty: SQLite)
set -euo pipefail
cd "$(dirname "$0")/.."

# Sync Playwright runs an event loop beside live_server's ORM calls.
export DJANGO_ALLOW_ASYNC_UNSAFE=true
export DJANGO_SETTINGS_MODULE=config.settings.test
# Chromium writes its profile and caches here, not into the home folder.
scratch=$(mktemp -d -t leadflow-pytest.XXXXXX)
trap 'rm -rf "$scratch"' EXIT
export XDG_CONFIG_HOME="$scratch/config" XDG_CACHE_HOME="$scratch/cache"
mkdir -p "$XDG_CONFIG_HOME" "$XDG_CACHE_HOME"

# An empty DATABASE_URL wins over one in .env, so "unset" really means SQLite.
export DATABASE_URL="${DATABASE_URL:-}"
set +e
.venv/bin/pytest "$@"
status=$?
set -e
exit "$status"
