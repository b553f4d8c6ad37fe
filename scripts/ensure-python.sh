#!/usr/bin/env bash
# Print the path of a Python >= 3.12 (Django 6 needs it), or say plainly what to install.
# pyenv picks 3.12 through .python-version; python3.13/python3.12 on PATH are tried next.
set -euo pipefail

for candidate in "${PYTHON:-python3}" python3.13 python3.12; do
  path=$(command -v "$candidate" 2>/dev/null) || continue
  if "$path" -c 'import sys; assert sys.version_info >= (3, 12)' 2>/dev/null; then
    printf '%s\n' "$path"
    exit 0
  fi
done

found=$("${PYTHON:-python3}" --version 2>&1 || echo "no python3")
cat >&2 <<MSG
Leadflow needs Python 3.12 or newer (Django 6); found: ${found}.
Install it, then run make again, for example:
  pyenv install 3.12        # pyenv then picks it up through .python-version
  apt-get install python3.12 python3.12-venv   # or your system's package
Or point make at one: make PYTHON=/path/to/python3.12 ...
MSG
exit 1
