#!/usr/bin/env bash
# Sets up a fresh machine and runs the main job on an embedded default store:
# generates a municipality's sample case log, imports it, verifies it and prints
# what it holds. Usage: Tools/scripts/demo.sh [cases] (default 2000).
set -euo pipefail
cd "$(dirname "$0")/../.."
Tools/scripts/setup.sh
swift build -c release >&2
iplog=.build/release/iplog
cases=${1:-2000}
export IPLOG_STORE=${IPLOG_STORE:-./iplog-store}
sample=$(mktemp "${TMPDIR:-/tmp}/iplog-sample-XXXXXX.jsonl")
trap 'rm -f "$sample"' EXIT

echo "== Sample data: $cases cases over two years (2024–2025)"
$iplog sample --cases "$cases" --out "$sample"
echo "== Import into $IPLOG_STORE (a second run finds every event already there)"
time $iplog import "$sample"
echo "== Verify the hash chain and the indexes"
$iplog verify
echo "== The store"
$iplog stats
echo "== One case's events (export --stream case-000001)"
$iplog export --stream case-000001 | cut -c1-160
