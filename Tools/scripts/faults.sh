#!/usr/bin/env bash
# The longer fault run (the suite's fault tests are the bounded version):
#  1. SIGKILL an import at random moments, ROUNDS times: after each, the store
#     must verify and hold whole batches; the last run must complete the file
#     with every event once.
#  2. WRITERS processes append and READERS processes read at once for a while:
#     every acknowledged event must be in the log once, in stream order.
# Usage: Tools/scripts/faults.sh [ROUNDS=50] [WRITERS=4] [APPENDS=50]
set -euo pipefail
cd "$(dirname "$0")/../.."
rounds=${1:-50} writers=${2:-4} appends=${3:-50}
iplog=.build/release/iplog
[ -x "$iplog" ] || { Tools/scripts/setup.sh; swift build -c release >&2; }
work=$(mktemp -d "${TMPDIR:-/tmp}/iplog-faults-XXXXXX")
trap 'rm -rf "$work"' EXIT
export IPLOG_STORE="$work/store"

echo "== 1. SIGKILL during imports, $rounds rounds"
$iplog sample --cases 1500 --out "$work/sample.jsonl"
total=$(wc -l < "$work/sample.jsonl")
killed=0 verified=0
for r in $(seq 1 "$rounds"); do
  $iplog import "$work/sample.jsonl" --batch-size 250 >/dev/null 2>&1 &
  pid=$!
  sleep "0.$(( RANDOM % 900 + 50 ))"
  if kill -9 "$pid" 2>/dev/null; then killed=$((killed + 1)); fi
  wait "$pid" 2>/dev/null || true
  [ -f "$IPLOG_STORE/log/data.mdb" ] || continue
  $iplog verify >/dev/null || { echo "round $r: the store does not verify"; exit 1; }
  verified=$((verified + 1))
  events=$($iplog stats --json | sed 's/.*"events":\([0-9]*\).*/\1/')
  if [ $((events % 250)) -ne 0 ] && [ "$events" -ne "$total" ]; then echo "round $r: $events events is not whole batches"; exit 1; fi
done
$iplog import "$work/sample.jsonl" >/dev/null
events=$($iplog stats --json | sed 's/.*"events":\([0-9]*\).*/\1/')
ids=$($iplog export | sed 's/.*"eventId":"\([^"]*\)".*/\1/' | sort -u | wc -l)
echo "rounds $rounds, killed mid-import $killed, verified after a kill $verified, events $events of $total, distinct ids $ids"
[ "$events" -eq "$total" ] && [ "$ids" -eq "$total" ] || { echo "FAILED"; exit 1; }

echo "== 2. $writers writers × $appends appends with 2 readers at once"
rm -rf "$IPLOG_STORE"
start=$(date +%s)
for w in $(seq 1 "$writers"); do
  (
    for i in $(seq 1 "$appends"); do
      id="w${w}x${i}"
      $iplog append --stream "coordinator-$id" --type CoordinatorRegistered \
        --data "{\"coordinatorId\":\"$id\",\"name\":\"A B\",\"unit\":\"U\",\"profession\":\"P\",\"registeredOn\":\"2025-01-02\"}" \
        >/dev/null && echo "$id"
      $iplog append --stream "coordinator-$id" --type CoordinatorTrained --expected-version 1 \
        --data "{\"trainedOn\":\"2025-02-01\",\"course\":\"Grunnkurs\"}" >/dev/null && echo "$id/2"
    done
  ) > "$work/acks-$w" &
done
for r in 1 2; do ( while sleep 0.2; do $iplog export >/dev/null 2>&1 || true; $iplog stats >/dev/null 2>&1 || true; done ) & done
wait $(jobs -p | head -n "$writers") 2>/dev/null || true
kill $(jobs -p) 2>/dev/null || true
acked=$(cat "$work"/acks-* | wc -l)
$iplog verify >/dev/null || { echo "the store does not verify"; exit 1; }
stored=$($iplog stats --json | sed 's/.*"events":\([0-9]*\).*/\1/')
echo "acknowledged $acked, stored $stored, verified, $(( $(date +%s) - start )) s"
[ "$acked" -eq "$stored" ] || { echo "FAILED: acknowledged and stored differ"; exit 1; }
echo "OK"
