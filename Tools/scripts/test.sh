#!/usr/bin/env bash
# Sets up a fresh machine and runs the whole test suite: the README's test command.
set -euo pipefail
cd "$(dirname "$0")/../.."
Tools/scripts/setup.sh
# The fault-injection tests use strace to fail a read with EIO (skipped without it).
if ! command -v strace >/dev/null 2>&1; then
  if [ "$(id -u)" -eq 0 ]; then apt-get install -y -qq strace >/dev/null 2>&1 || (apt-get update -qq && apt-get install -y -qq strace >/dev/null) || true
  else sudo apt-get install -y -qq strace >/dev/null 2>&1 || true; fi
fi
swift build
swift test
