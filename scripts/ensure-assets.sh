#!/usr/bin/env bash
# Install the front-end files Leadflow serves itself (Chart.js, pinned in package.json and
# package-lock.json) from the npm registry, and copy what the pages load into
# static_vendor/ (a STATICFILES_DIRS entry). Runs npm only when the lock file is newer
# than the stamp; nothing is fetched at run time and no page loads from a CDN.
set -euo pipefail
cd "$(dirname "$0")/.."

stamp=static_vendor/.installed
if [ -f "$stamp" ] && [ "$stamp" -nt package-lock.json ] && [ -f static_vendor/chart.umd.min.js ] \
  && [ -f static_vendor/chart.umd.min.js.map ]; then
  exit 0
fi
command -v npm >/dev/null || scripts/apt-ensure.sh nodejs npm
echo "Installing front-end assets (npm ci: chart.js)"
npm ci --no-audit --no-fund --loglevel=error
mkdir -p static_vendor
cp node_modules/chart.js/dist/chart.umd.min.js static_vendor/chart.umd.min.js
# The file names its source map; collectstatic's manifest storage follows that reference.
cp node_modules/chart.js/dist/chart.umd.min.js.map static_vendor/chart.umd.min.js.map
cp node_modules/chart.js/LICENSE.md static_vendor/chart.js-LICENSE.md
touch "$stamp"
