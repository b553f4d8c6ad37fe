#!/usr/bin/env bash
# Make .venv (Python >= 3.12) and install Leadflow with its test extras into it, but only
# when pyproject.toml is newer than the stamp .venv/.installed.
set -euo pipefail
cd "$(dirname "$0")/.."

venv=.venv
stamp=$venv/.installed
interpreter=$(scripts/ensure-python.sh)

if [ -x "$venv/bin/python" ] && ! "$venv/bin/python" -c 'import sys; assert sys.version_info >= (3, 12)' 2>/dev/null; then
  echo "Replacing $venv: it was made with $("$venv/bin/python" --version 2>&1)."
  rm -rf "$venv"
fi
if [ ! -x "$venv/bin/python" ]; then
  echo "Creating $venv with $("$interpreter" --version)"
  "$interpreter" -m venv "$venv"
fi
if [ ! "$stamp" -nt pyproject.toml ]; then
  echo "Installing Leadflow and its test dependencies into $venv"
  "$venv/bin/python" -m pip install --disable-pip-version-check -q -e '.[test]'
  touch "$stamp"
fi
