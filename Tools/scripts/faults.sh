#!/usr/bin/env bash
# The longer fault run (the suite's fault tests are the bounded version):
#  1. SIGKILL an import at random moments, ROUNDS times: after each, the store
#     must verify and hold whole batches; the last run must complete the file
#     with every event once.
#  2. WRITERS processes append and READERS processes read at once for a while:
#     every acknowledged event must be in the log once, in stream order.
#  3. DAMAGE rounds of a damaged copy of a store, one fault chosen at random
#     each: a flipped byte in an LMDB node's sizes or anywhere, a cut log, a
#     lost or cut key file, an erasure killed at one of its crash points. No
#     command may die by a signal; a damaged store is refused ([damaged]); a
#     repaired one verifies; a killed erasure is finished by the next.
#  4. (as root) a full disk (tmpfs) under a store whose lock files are gone:
#     every command answers [diskFull], and the store verifies once there is room.
# Usage: Tools/scripts/faults.sh [ROUNDS=50] [WRITERS=4] [APPENDS=50] [DAMAGE=200]
set -euo pipefail
cd "$(dirname "$0")/../.."
rounds=${1:-50} writers=${2:-4} appends=${3:-50} damage=${4:-200}
iplog=.build/release/iplog
[ -x "$iplog" ] || { Tools/scripts/setup.sh; swift build -c release >&2; }
work=$(mktemp -d "${TMPDIR:-/tmp}/iplog-faults-XXXXXX")
trap 'umount -l "$work/full" 2>/dev/null || true; rm -rf "$work"' EXIT
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
  if ! $iplog verify >/dev/null 2>"$work/err"; then
    # Killed before the store's first commit: refused as not a store, never taken for an empty one.
    grep -q 'cut short' "$work/err" || { echo "round $r: the store does not verify: $(cat "$work/err")"; exit 1; }
    continue
  fi
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
      $iplog append --create --stream "coordinator-$id" --type CoordinatorRegistered \
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

echo "== 3. $damage rounds of a damaged store"
export IPLOG_TODAY=2026-11-23
fault() { echo "FAILED: $*"; exit 1; }
# Runs iplog; a death by signal (exit >= 128) fails whatever the command.
run() { set +e; $iplog "$@" >/dev/null 2>"$work/err"; local rc=$?; set -e; [ $rc -lt 128 ] || fault "signal $((rc - 128)) from: iplog $*"; return $rc; }
# Flips one byte of data.mdb: in an LMDB leaf node's sizes, or (1 in 3) anywhere.
flip() {
  python3 - "$1" "$RANDOM" <<'PY'
import random, struct, sys
path, seed = sys.argv[1], int(sys.argv[2])
random.seed(seed)
data = bytearray(open(path, 'rb').read())
nodes = []
for base in range(2 * 4096, len(data) - 4095, 4096):
    flags, lower = struct.unpack_from('<HH', data, base + 10)
    if flags & 2 and 16 <= lower <= 4096:
        nodes += [base + o for o in struct.unpack_from('<%dH' % ((lower - 16) // 2), data, base + 16) if 16 <= o < 4088]
at = random.randrange(len(data)) if seed % 3 == 0 or not nodes else random.choice(nodes) + random.choice([0, 1, 2, 3, 6])
data[at] ^= random.choice([1, 0x10, 0x7f, 0xff])
open(path, 'wb').write(data)
PY
}
unset IPLOG_STORE
$iplog sample --cases 200 --out "$work/damage.jsonl"
$iplog import "$work/damage.jsonl" --store "$work/good" >/dev/null
size=$(stat -c %s "$work/good/log/data.mdb")
declare -A seen
for r in $(seq 1 "$damage"); do
  s="$work/d"; rm -rf "$s"; cp -r "$work/good" "$s"
  kind=$((RANDOM % 5)); seen[$kind]=$(( ${seen[$kind]:-0} + 1 ))
  case $kind in
    0) flip "$s/log/data.mdb"
       for c in verify stats export deviations; do run $c --store "$s" || true; done ;;
    1) truncate -s $(( (RANDOM * 32768 + RANDOM) % size )) "$s/log/data.mdb"
       run verify --store "$s" && fault "round $r: a cut log verified"
       grep -q '^\[damaged\]' "$work/err" || fault "round $r: cut log: $(cat "$work/err")" ;;
    2) if (( RANDOM % 2 )); then rm "$s/keys/person.keys"; else truncate -s $((64 + 32 * (RANDOM % 100))) "$s/keys/person.keys"; fi
       run import "$work/damage.jsonl" --store "$s" && fault "round $r: an import over a lost key file"
       run verify --store "$s" && fault "round $r: verify passed with keys lost"
       cp "$work/good/keys/person.keys" "$s/keys/person.keys"
       run verify --store "$s" || fault "round $r: the repaired store does not verify" ;;
    3) rm -rf "$s/log/lock.mdb"; flip "$s/log/data.mdb"; run history case-000001 --store "$s" || true ;;
    4) person=$(grep -o '"personId":"[0-9]*"' "$work/damage.jsonl" | sed -n "$((RANDOM % 50 + 1))p" | cut -d'"' -f4)
       point=$( (( RANDOM % 2 )) && echo erase.afterCommit || echo erase.beforeAccessLog )
       (IPLOG_FAULT_POINT=$point $iplog erase --yes --person "$person" --reason r --store "$s" >/dev/null 2>&1 || true) 2>/dev/null
       run erase --yes --person "$person" --reason r --store "$s" || grep -q 'personHasOpenCase\|unknownPerson' "$work/err" || fault "round $r: erase: $(cat "$work/err")"
       run verify --store "$s" || fault "round $r: the store does not verify after a finished erasure" ;;
  esac
done
echo "rounds by fault (flip, cut log, keys, flip without lock, killed erasure): ${seen[0]:-0} ${seen[1]:-0} ${seen[2]:-0} ${seen[3]:-0} ${seen[4]:-0}; no signal"

if [ "$(id -u)" -eq 0 ] && mkdir -p "$work/full" && mount -t tmpfs -o size=32m tmpfs "$work/full" 2>/dev/null; then
  echo "== 4. a full disk"
  cp -r "$work/good" "$work/full/s"; rm -f "$work/full/s"/*/lock.mdb
  dd if=/dev/zero of="$work/full/filler" bs=4k status=none 2>/dev/null || true
  for c in cases deviations workload stats verify "projections rebuild"; do
    run $c --store "$work/full/s" && fault "$c succeeded on a full disk"
    grep -q '^\[diskFull\]' "$work/err" || fault "$c on a full disk: $(cat "$work/err")"
  done
  run import "$work/damage.jsonl" --store "$work/full/s" || true
  rm "$work/full/filler"; run verify --store "$work/full/s" || fault "the store on a freed disk does not verify"
  echo "every command said [diskFull]; verified with room again"
fi
echo "OK"
