#!/usr/bin/env bash
# Sets up a fresh machine and runs the main job on an embedded default store:
# generates a municipality's sample case log, imports it, verifies it and prints
# what it holds. Usage: Tools/scripts/demo.sh [cases] (default 2000).
set -euo pipefail
# The first N lines, like head -n N, but read to the end: under pipefail, a writer
# that head cuts off (SIGPIPE) would end the demo, depending on timing.
take() { awk -v n="$1" 'NR <= n'; }
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
echo "== The dashboard as a file to mail to a unit manager (iplog report --html: charts, no person id), and one case's individual plan for the archive"
$iplog report --html --as-of 2025-12-31 --unit Rehabilitering --out "${TMPDIR:-/tmp}/fristbrudd-rehabilitering.html"
$iplog plan case-000001 --html --reason "demo: the plan as a document" --out "${TMPDIR:-/tmp}/plan-case-000001.html"
echo "Wrote ${TMPDIR:-/tmp}/fristbrudd-rehabilitering.html and ${TMPDIR:-/tmp}/plan-case-000001.html (open them in a browser; print the plan on A4)"
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
person=$($iplog export --stream case-000001 | take 1 | sed 's/.*"personId":"\([0-9]*\)".*/\1/')
$iplog append --stream case-999999 --type ApplicationReceived \
  --data "{\"personId\":\"$person\",\"receivedOn\":\"2025-12-01\",\"requested\":[\"coordinator\"],\"origin\":\"application\",\"unit\":\"Rehabilitering\"}" \
  || echo "(refused, exit $?, nothing written)"
echo "== Erasure when retention ends (crypto-shredding): the person of the first closed case"
closed=$($iplog cases --status closed --csv --reason "demo: erasure" | sed -n 2p | cut -d, -f1)
person=$($iplog export --stream "$closed" --reason "demo: erasure" | take 1 | sed -n 's/.*"personId":"\([0-9]\{11\}\)".*/\1/p')
if [ -n "$person" ]; then
  $iplog erase --yes --person "$person" --reason "Demo: oppbevaringstiden er ute"
else
  echo "($closed was erased by an earlier run)"
fi
$iplog history "$closed" | take 4
$iplog verify

echo "== The service: a user of every role (each token is shown once; the store keeps its hash)"
# The coordinator user is the coordinator of the first active case.
cid=$($iplog cases --status active --csv --reason "demo: users" | sed -n 2p | cut -d, -f5)
cid=${cid:-0041}
tokens="$IPLOG_STORE/../iplog-demo-tokens"
: > "$tokens"; chmod 600 "$tokens"
for user in "kontor caseOffice" "enhet coordinatingUnit" "koordinator coordinator --coordinator $cid" \
            "leder unitManager --unit Rehabilitering" "revisor auditor" "fagsystem integration"; do
  set -- $user
  name=$1 role=$2; shift 2
  $iplog users revoke "$name" >/dev/null 2>&1 || true   # a second run makes new tokens
  token=$($iplog users add "$name" --role "$role" "$@" --json | sed 's/.*"token":"\([^"]*\)".*/\1/')
  echo "$name=$token" >> "$tokens"
done
$iplog users list
echo "(the tokens are in $tokens)"
token() { sed -n "s/^$1=//p" "$tokens"; }
serve_log=$(mktemp "${TMPDIR:-/tmp}/iplog-serve-XXXXXX")
trap 'rm -f "$sample" "$report" "$serve_log"' EXIT
$iplog serve --port 0 2> "$serve_log" &
server=$!
# The address from its log line, once the service answers there (a line read while
# being written could end inside the port's digits).
url=
for _ in $(seq 1 300); do
  url=$(sed -n 's/.*listening on \(http[^ ]*\).*/\1/p' "$serve_log")
  [ -n "$url" ] && curl -sf "$url/healthz" >/dev/null 2>&1 && break
  sleep 0.1
done
echo "== iplog serve at $url"
call() { local who=$1 out; shift; echo "\$ curl $* (as $who)"; out=$(curl -sS -H "Authorization: Bearer $(token "$who")" "$@"); printf '%s\n' "${out:0:600}"; }
call kontor "$url/healthz"
echo "-- the coordinator $cid sees their own cases only (person ids masked):"
call koordinator "$url/v1/cases?status=active"
echo "-- another coordinator's case: 404, as for a case that does not exist:"
other=$(curl -sS -H "Authorization: Bearer $(token enhet)" "$url/v1/cases?status=active" | tr '{' '\n' | grep -v "\"coordinatorId\":\"$cid\"" | sed -n 's/.*"stream":"\(case-[0-9]*\)".*/\1/p' | take 1)
call koordinator "$url/v1/cases/$other" -w ' (HTTP %{http_code})'
echo "-- the unit manager's deviation report, their unit only:"
call leder "$url/v1/reports/deviations?asOf=2025-12-31"
echo "-- the auditor may not append: 403"
call revisor -X POST -H 'Content-Type: application/json' -d '{"type":"MeetingScheduled","data":{"meetingId":"m-9","scheduledFor":"2026-01-10"}}' \
  "$url/v1/streams/case-000001/events" -w ' (HTTP %{http_code})'
echo "-- who has read the first case's person (the access log, as the auditor):"
person=$($iplog export --stream case-000001 --reason "demo: access log" | take 1 | sed -n 's/.*"personId":"\([0-9]\{11\}\)".*/\1/p')
call revisor "$url/v1/access-log?person=$person"
echo "-- metrics (first lines):"
curl -sS "$url/metrics" | grep '^iplog_http_requests_total' | take 5
kill -TERM "$server"
wait "$server" && echo "== The service stopped on SIGTERM (exit 0). Its log, one line per request, no personal data:"
tail -n 5 "$serve_log"
echo "Run it yourself: $iplog serve, then open http://127.0.0.1:8080/ and sign in with a token from $tokens"
echo "(docs/SERVICE.md: roles, tokens, OIDC, the pages, behind a reverse proxy)"
