#!/usr/bin/env bash
# Installs what the dashboard's browser test (cmd/parity/dashboard_test.go) drives:
# Debian's headless-capable Chromium at /usr/bin/chromium. Idempotent: does nothing
# when it is already there. Uses apt only; needs root (or sudo) on Debian or Ubuntu.
set -euo pipefail

if [ -x /usr/bin/chromium ]; then
  echo "== chromium: $(/usr/bin/chromium --version 2>/dev/null | head -n1)"
  exit 0
fi
if ! command -v apt-get >/dev/null; then
  echo "browser.sh: apt-get not found; install Chromium so that /usr/bin/chromium exists" >&2
  exit 1
fi
sudo=""
if [ "$(id -u)" -ne 0 ]; then
  if ! command -v sudo >/dev/null; then
    echo "browser.sh: installing chromium needs root (or sudo)" >&2
    exit 1
  fi
  sudo=sudo
fi

echo "== chromium: apt-get install"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq chromium >/dev/null
if [ ! -x /usr/bin/chromium ]; then
  echo "browser.sh: apt installed chromium but /usr/bin/chromium is missing" >&2
  exit 1
fi
echo "== chromium: $(/usr/bin/chromium --version 2>/dev/null | head -n1)"
