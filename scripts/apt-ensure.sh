#!/usr/bin/env bash
# Install the Debian packages Leadflow needs, each only when it is missing.
# Usage: scripts/apt-ensure.sh gettext chromium postgresql libpango-1.0-0
set -euo pipefail

export DEBIAN_FRONTEND=noninteractive
# Wait for another apt/dpkg run (for example a background install) instead of failing.
APT=(apt-get -o DPkg::Lock::Timeout=900 -y -q)

present() {
  case "$1" in
    gettext) command -v msgfmt >/dev/null ;;
    chromium) command -v chromium >/dev/null ;;
    postgresql) [ -x /usr/lib/postgresql/15/bin/postgres ] ;;
    nodejs) command -v node >/dev/null ;;
    npm) command -v npm >/dev/null ;;
    # A real IMAP server for the e-mail intake tests (they start their own on loopback).
    dovecot-imapd) [ -x /usr/sbin/dovecot ] ;;
    # WeasyPrint (quote PDFs): Pango through cffi, and the DejaVu fonts it embeds.
    libpango-1.0-0 | libpangoft2-1.0-0 | fonts-dejavu-core)
      [ "$(dpkg-query -W -f='${Status}' "$1" 2>/dev/null)" = "install ok installed" ] ;;
    *) echo "apt-ensure: unknown package $1" >&2; exit 2 ;;
  esac
}

missing=()
for pkg in "$@"; do
  present "$pkg" || missing+=("$pkg")
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -eq 0 ]; then
  sudo=()
elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then
  sudo=(sudo -n)
else
  echo "Missing Debian packages: ${missing[*]}. Install them as root:" >&2
  echo "  apt-get update && apt-get install -y ${missing[*]}" >&2
  exit 1
fi

echo "Installing Debian packages: ${missing[*]}"
"${sudo[@]}" "${APT[@]}" update
"${sudo[@]}" "${APT[@]}" install --no-install-recommends "${missing[@]}"
for pkg in "${missing[@]}"; do
  present "$pkg" || { echo "apt-ensure: $pkg still missing after install" >&2; exit 1; }
done
