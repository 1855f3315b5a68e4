#!/usr/bin/env bash
# The long, randomised version of the fault-injection tests (StoreFaultTests):
# flipped bytes, cut files, lost key files, killed imports and erasures, full
# disks. Every command must answer with an exit code (never a signal), a
# damaged store must be refused, and a repaired one must verify.
#   Tools/scripts/faults.sh [ROUNDS]   (default 200; a full disk needs root for a tmpfs)
set -euo pipefail
cd "$(dirname "$0")/../.."
ROUNDS=${1:-200}
swift build >/dev/null
IPLOG=$PWD/.build/debug/iplog
WORK=$(mktemp -d)
trap 'umount -l "$WORK/full" 2>/dev/null || true; rm -rf "$WORK"' EXIT
export IPLOG_TODAY=2026-11-23
fail() { echo "FAULT: $*" >&2; exit 1; }
# Runs iplog; a death by signal (exit >= 128) is a failure whatever the command.
run() { set +e; "$IPLOG" "$@" >/dev/null 2>"$WORK/err"; local rc=$?; set -e; [ $rc -lt 128 ] || fail "signal $((rc - 128)) from: iplog $*"; return $rc; }

"$IPLOG" sample --cases 200 --out "$WORK/sample.jsonl" >/dev/null
"$IPLOG" import "$WORK/sample.jsonl" --store "$WORK/good" >/dev/null
size=$(stat -c %s "$WORK/good/log/data.mdb")
echo "store: $(wc -l < "$WORK/sample.jsonl") events, data.mdb $size bytes; $ROUNDS rounds"

for round in $(seq "$ROUNDS"); do
  rm -rf "$WORK/s" && cp -r "$WORK/good" "$WORK/s"
  case $((RANDOM % 5)) in
    0) # flip a byte
       offset=$(( (RANDOM * 32768 + RANDOM) % size ))
       printf "\\x$(printf %02x $((RANDOM % 255 + 1)))" | dd of="$WORK/s/log/data.mdb" bs=1 seek=$offset conv=notrunc status=none
       for c in verify stats export deviations; do run $c --store "$WORK/s" || true; done ;;
    1) # cut the log
       truncate -s $(( (RANDOM * 32768 + RANDOM) % size )) "$WORK/s/log/data.mdb"
       run verify --store "$WORK/s" && fail "a cut log verified"
       grep -q '^\[damaged\]' "$WORK/err" || fail "cut log: $(cat "$WORK/err")" ;;
    2) # lose or cut the key file
       if (( RANDOM % 2 )); then rm "$WORK/s/keys/person.keys"; else truncate -s $((64 + 32 * (RANDOM % 100))) "$WORK/s/keys/person.keys"; fi
       run import "$WORK/sample.jsonl" --store "$WORK/s" && fail "import over a lost key file"
       run verify --store "$WORK/s" && fail "verify passed with keys lost"
       cp "$WORK/good/keys/person.keys" "$WORK/s/keys/person.keys"
       run verify --store "$WORK/s" || fail "repaired store does not verify" ;;
    3) # kill an import at a random moment
       rm -rf "$WORK/k"; "$IPLOG" import "$WORK/sample.jsonl" --store "$WORK/k" --batch-size 50 >/dev/null 2>&1 & pid=$!
       sleep "0.$((RANDOM % 9))$((RANDOM % 10))"; kill -9 $pid 2>/dev/null || true; wait $pid 2>/dev/null || true
       if [ -s "$WORK/k/log/data.mdb" ]; then run verify --store "$WORK/k" || fail "killed import left a store that does not verify"; fi ;;
    4) # kill an erasure at one of its points, then finish it
       person=$(grep -o '"personId":"[0-9]*"' "$WORK/sample.jsonl" | sed -n "$((RANDOM % 50 + 1))p" | cut -d'"' -f4)
       point=$( (( RANDOM % 2 )) && echo erase.afterCommit || echo erase.beforeAccessLog )
       IPLOG_FAULT_POINT=$point "$IPLOG" erase --person "$person" --reason r --store "$WORK/s" >/dev/null 2>&1 || true
       run erase --person "$person" --reason r --store "$WORK/s" || grep -q 'personHasOpenCase\|unknownPerson' "$WORK/err" || fail "erase: $(cat "$WORK/err")"
       run verify --store "$WORK/s" || fail "store does not verify after a finished erasure" ;;
  esac
done

if [ "$(id -u)" -eq 0 ] && mkdir -p "$WORK/full" && mount -t tmpfs -o size=32m tmpfs "$WORK/full" 2>/dev/null; then
  cp -r "$WORK/good" "$WORK/full/s"; rm -f "$WORK/full/s"/*/lock.mdb
  dd if=/dev/zero of="$WORK/full/filler" bs=4k status=none 2>/dev/null || true
  for c in cases deviations workload stats verify "projections rebuild"; do
    run $c --store "$WORK/full/s" && fail "$c succeeded on a full disk"
    grep -q '^\[diskFull\]' "$WORK/err" || fail "$c on a full disk: $(cat "$WORK/err")"
  done
  run import "$WORK/sample.jsonl" --store "$WORK/full/s" || true
  rm "$WORK/full/filler"; run verify --store "$WORK/full/s" || fail "store on a freed disk does not verify"
fi
echo "faults: $ROUNDS rounds, no signal, every damaged store refused, every repaired store verified"
