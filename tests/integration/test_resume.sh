#!/bin/sh
# pfode run --resume after kill -9 at random moments computes only the missing cells, and the
# finished file holds the same numbers as an uninterrupted run.
# Usage: test_resume.sh PFODE_EXECUTABLE SOURCE_DIR FAULT_SHIM
set -eu
pfode=$1
src=$2
# The first two kills must land while the run is in a given state; a batch file's rename slowed by
# 50 ms (the fault shim) keeps that state long enough on a fast or a loaded machine alike.
slow_disk="env LD_PRELOAD=$3 PFODE_FAULT_SLOW_NAME=.partial/cells_"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# Same config text in two directories (the output path is relative), so the files must agree.
mkdir "$work/whole" "$work/killed"
sh "$src/tests/integration/sweep_config.sh" "$work/sweep.ini" results.h5
(cd "$work/whole" && "$pfode" run ../sweep.ini -q)
cd "$work/killed"

# First, kill as soon as the first cell is checkpointed (at once, alone in its batch file) and note
# its record, wall time included (wall times are not compared below, and no two runs measure the
# same). The finished file must carry that wall time, i.e. --resume reused the cell instead of
# computing it again.
$slow_disk "$pfode" run ../sweep.ini -q &
pid=$!
while [ ! -f results.h5.partial/cells_0+1.h5 ] && kill -0 "$pid" 2>/dev/null; do sleep 0.01; done
kill -9 "$pid" 2>/dev/null || true
wait "$pid" 2>/dev/null || true
[ -f results.h5.partial/cells_0+1.h5 ] && [ ! -f results.h5 ] || { echo "the run finished before it could be interrupted"; exit 1; }
mark=$(/usr/bin/python3 -c "
import h5py
print(h5py.File('results.h5.partial/cells_0+1.h5', 'r')['000000'][()].tobytes().hex())
")

# Cells checkpointed, from the names of the batch files (cells_<first id>+<count>.h5).
on_disk() {
  ls results.h5.partial | sed -n 's/^cells_[0-9]*+\([0-9]*\)\.h5$/\1/p' | awk '{ n += $1 } END { print n + 0 }'
}

# Then kill while finished cells wait for their batch to be written (a cell's progress line comes
# once it is queued; -q would turn it off): they are lost, and the next --resume computes them
# again.
# Each run's stderr file is emptied before it starts: the background shell opens (and truncates) it
# only some time after `&` returns, and until then the polls below would read the previous run's
# lines (its "resuming: " line included).
lost=0
for attempt in 1 2 3 4 5; do
  before=$(on_disk)
  : >"$work/cells.txt"
  $slow_disk "$pfode" run ../sweep.ini --resume --progress cells >/dev/null 2>"$work/cells.txt" &
  pid=$!
  while kill -0 "$pid" 2>/dev/null &&
    [ $((before + $(grep -c '^\[[0-9]*/[0-9]*\] ' "$work/cells.txt"))) -le "$(on_disk)" ]; do sleep 0.005; done
  kill -9 "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  [ ! -f results.h5 ] || { echo "the run finished before a batch was pending"; exit 1; }
  lost=$((before + $(grep -c '^\[[0-9]*/[0-9]*\] ' "$work/cells.txt") - $(on_disk)))
  [ "$lost" -gt 0 ] && break
done
[ "$lost" -gt 0 ] || { echo "no kill found cells waiting for their batch"; exit 1; }
kept=$(on_disk)
: >"$work/cells.txt"
"$pfode" run ../sweep.ini --resume --progress cells >/dev/null 2>"$work/cells.txt" &
pid=$!
while kill -0 "$pid" 2>/dev/null && ! grep -q "^resuming: " "$work/cells.txt"; do sleep 0.01; done
grep -q "^resuming: $kept of [0-9]* cells already done" "$work/cells.txt" || {
  kill -9 "$pid" 2>/dev/null || true
  status=0
  wait "$pid" 2>/dev/null || status=$?
  echo "after losing $lost queued cells the resume (exit status $status) reports: $(cat "$work/cells.txt")"
  exit 1
}
kill -9 "$pid" 2>/dev/null || true
wait "$pid" 2>/dev/null || true

# Then kill at pseudo-random moments (fixed seed), resuming each time, until a run completes.
kills=1
delays="0.05 0.3 0.15 0.6 0.02 0.45 0.25 0.9 0.1 0.7"
flag="--resume"
for delay in $delays; do
  # timeout kills only its own child. `&`, `sleep`, `kill -9 $pid` would send the kill to whatever
  # process has that PID once the shell has reaped a run that ended by itself: another test's.
  status=0
  timeout -s KILL "$delay" "$pfode" run ../sweep.ini -q $flag || status=$?
  [ "$status" -eq 137 ] && kills=$((kills + 1))
  flag="--resume"
  [ -f results.h5 ] && break
done
if [ ! -f results.h5 ]; then
  # A plain rerun must refuse to overwrite the interrupted run's checkpoint.
  if "$pfode" run ../sweep.ini -q 2>"$work/err"; then echo "rerun without --resume did not refuse"; exit 1; fi
  grep -q "pass --resume" "$work/err" || { echo "unexpected message: $(cat "$work/err")"; exit 1; }
  "$pfode" run ../sweep.ini -q --resume
fi
if [ -d results.h5.partial ]; then
  # Killed after the results file was written, before the checkpoint was removed: --resume
  # rewrites the file from the checkpoint and removes it.
  "$pfode" run ../sweep.ini -q --resume
fi
[ ! -d results.h5.partial ] || { echo "checkpoint directory left behind"; exit 1; }
echo "killed $kills times"
/usr/bin/python3 -c "
import struct, sys, h5py
w = h5py.File('results.h5', 'r')['cells/000000'].attrs['wall_time']
record = bytes.fromhex('$mark')  # the checkpointed cell's record (io::encode_cell: native doubles)
sys.exit(0 if struct.pack('=d', w) in record else 'resume recomputed a checkpointed cell (wall_time %r)' % w)
"
/usr/bin/python3 "$src/tests/integration/compare_results.py" "$work/whole/results.h5" results.h5
