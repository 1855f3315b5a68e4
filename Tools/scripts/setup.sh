#!/usr/bin/env bash
# Installs what iplog needs to build on a fresh Debian/Ubuntu machine: LMDB's
# headers and library (liblmdb-dev), found through pkg-config. Idempotent.
set -euo pipefail

as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

if ! command -v pkg-config >/dev/null 2>&1 || ! pkg-config --exists lmdb; then
  echo "setup: installing liblmdb-dev and pkg-config" >&2
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq liblmdb-dev pkg-config >/dev/null
fi
# curl: the demo calls the service with it.
if ! command -v curl >/dev/null 2>&1; then
  echo "setup: installing curl" >&2
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq curl >/dev/null
fi
command -v swift >/dev/null 2>&1 || { echo "setup: Swift 6 is required (swift not on PATH)" >&2; exit 1; }
