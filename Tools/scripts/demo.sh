#!/usr/bin/env bash
# Sets up a fresh machine and runs the main job on an embedded default store:
# generates a municipality's sample case log, imports it, verifies it and prints
# what it holds. Usage: Tools/scripts/demo.sh [cases] (default 2000).
set -euo pipefail
cd "$(dirname "$0")/../.."
Tools/scripts/setup.sh
swift build -c release --static-swift-stdlib >&2
iplog=.build/release/iplog
cases=${1:-2000}
export IPLOG_STORE=${IPLOG_STORE:-./iplog-store}
sample=$(mktemp "${TMPDIR:-/tmp}/iplog-sample-XXXXXX.jsonl")
trap 'rm -f "$sample"' EXIT

echo "== The event catalogue (iplog types; one type with an example line)"
$iplog types MeetingHeld
echo "== Sample data: $cases cases over two years (2024–2025)"
$iplog sample --cases "$cases" --out "$sample"
echo "== Import into $IPLOG_STORE (a second run finds every event already there)"
time $iplog import "$sample"
echo "== Verify the hash chain and the indexes"
$iplog verify
echo "== The store"
$iplog stats
report=$(mktemp "${TMPDIR:-/tmp}/iplog-report-XXXXXX")
trap 'rm -f "$sample" "$report"' EXIT
echo "== Deviation report (avvik) at the end of the sample period, 2025-12-31 (first 60 lines)"
$iplog deviations --as-of 2025-12-31 > "$report"
head -n 60 "$report"
echo "== Appeals received after the four weeks of pbrl §7-5 (for the case office to check; a flag, not a refusal)"
$iplog cases --appeal-late > "$report"
head -n 12 "$report"
echo "== The deviation report for Excel (--excel: ';' and a byte-order mark), saved as avvik-2025-12-31.csv"
$iplog deviations --as-of 2025-12-31 --excel > "${TMPDIR:-/tmp}/avvik-2025-12-31.csv"
echo "$(wc -l < "${TMPDIR:-/tmp}/avvik-2025-12-31.csv") lines in ${TMPDIR:-/tmp}/avvik-2025-12-31.csv"
echo "== A coordinator's agenda on 2025-12-01: overdue, and due in the next 30 days (iplog due; first 12 lines)"
$iplog due --coordinator 0041 --as-of 2025-12-01 > "$report"
head -n 12 "$report"
echo "== Coordinator workload on 2025-12-31 (first 25 lines)"
$iplog workload --as-of 2025-12-31 > "$report"
head -n 25 "$report"
echo "== Read models"
$iplog projections status
echo "== One case's status"
$iplog case case-000001
echo "== Audit replay of one case (person ids masked)"
$iplog history case-000001 --as-of 2025-12-31
echo "== A refused append: an application for a person whose case is open"
person=$($iplog export --stream case-000001 | head -1 | sed 's/.*"personId":"\([0-9]*\)".*/\1/')
$iplog append --stream case-999999 --type ApplicationReceived \
  --data "{\"personId\":\"$person\",\"receivedOn\":\"2025-12-01\",\"requested\":[\"coordinator\"],\"origin\":\"application\",\"unit\":\"Rehabilitering\"}" \
  || echo "(refused, exit $?, nothing written)"
echo "== Erasure when retention ends (crypto-shredding): the person of the first closed case"
closed=$($iplog cases --status closed --csv --reason "demo: erasure" | sed -n 2p | cut -d, -f1)
person=$($iplog export --stream "$closed" --reason "demo: erasure" | head -1 | sed -n 's/.*"personId":"\([0-9]\{11\}\)".*/\1/p')
if [ -n "$person" ]; then
  $iplog erase --yes --person "$person" --reason "Demo: oppbevaringstiden er ute"
else
  echo "($closed was erased by an earlier run)"
fi
$iplog history "$closed" | head -n 4
$iplog verify
