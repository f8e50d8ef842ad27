#!/usr/bin/env bash
# Install what the test suite needs on a fresh Debian machine: the reference Redis server
# (Debian's redis-server / redis-tools 7.0), tmux for the terminal test, and the Python
# package with its test extras.
set -euo pipefail
cd "$(dirname "$0")/.."
need_apt=()
command -v redis-server >/dev/null 2>&1 || need_apt+=(redis-server)
command -v redis-cli >/dev/null 2>&1 || need_apt+=(redis-tools)
command -v tmux >/dev/null 2>&1 || need_apt+=(tmux)
if [ ${#need_apt[@]} -gt 0 ]; then
  SUDO=""
  [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need_apt[@]}"
  # The Debian package starts a system redis on 6379; tests use their own servers.
  if command -v systemctl >/dev/null 2>&1; then $SUDO systemctl stop redis-server 2>/dev/null || true; fi
fi
python -m pip install -q -e '.[test]'
