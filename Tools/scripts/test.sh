#!/usr/bin/env bash
# Sets up a fresh machine and runs the whole test suite: the README's test command.
set -euo pipefail
cd "$(dirname "$0")/../.."
Tools/scripts/setup.sh
swift build
swift test
