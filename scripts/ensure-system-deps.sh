#!/usr/bin/env bash
# Installs the Debian/Ubuntu packages the local stack and the tests need, when missing.
# As root it uses apt-get; otherwise it names what to install and fails.
# Usage: scripts/ensure-system-deps.sh [run|test]
set -euo pipefail

want=(redis-server unixodbc libsqliteodbc)
# Browser tests drive Debian's chromium, or the browser CHROMIUM_PATH names (CI runners).
if [ "${1:-run}" = "test" ] && [ ! -x "${CHROMIUM_PATH:-/nonexistent}" ]; then
  want+=(chromium)
fi

missing=()
for pkg in "${want[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$pkg")
  fi
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null; then
  echo "installing system packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
else
  echo "missing system packages: ${missing[*]}" >&2
  echo "install them with: sudo apt-get install ${missing[*]}" >&2
  exit 1
fi
