#!/usr/bin/env bash
# Browser tests drive Debian's Chromium (a browser download by a test tool fails on our machines).
set -euo pipefail
if [[ -x /usr/bin/chromium ]]; then
  exit 0
fi
if [[ $EUID -eq 0 ]] && command -v apt-get >/dev/null 2>&1; then
  echo "browser: installing Debian packages chromium and chromium-driver" >&2
  DEBIAN_FRONTEND=noninteractive apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null
else
  echo "browser: /usr/bin/chromium missing; install it with: sudo apt-get install -y chromium chromium-driver" >&2
  exit 1
fi
