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
# The pages' tests drive a real headless Chromium through Selenium.
if ! command -v chromium >/dev/null 2>&1 || ! command -v chromedriver >/dev/null 2>&1; then
  echo "test: installing chromium and chromium-driver" >&2
  if [ "$(id -u)" -eq 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null
  else sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null; fi
fi
# The mirror's tests start a throwaway PostgreSQL server (Tools/scripts/postgres.sh) from Debian's package.
if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
  echo "test: installing postgresql" >&2
  if [ "$(id -u)" -eq 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
  else sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null; fi
fi
python3 -c "import selenium, axe_selenium_python" 2>/dev/null || python3 -m pip install -q selenium axe-selenium-python
swift build
swift test
