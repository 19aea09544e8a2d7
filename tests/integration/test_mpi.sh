#!/bin/sh
# Two, three and four MPI ranks give the same numbers, bit for bit, as one (each reference is
# solved once, in shares, by all ranks together, into memory the ranks of a node share, or
# broadcast; on several nodes each node holds one copy, sent between them; ranks on one node draw
# the cells as they go, and both compute some); resume works under MPI, after kill -9, after
# SIGTERM (rank 0 reports once) and after one rank failed (every rank stops, one error line, also
# when one rank alone refuses the plan), reading the kept references from the checkpoint.
# Usage: test_mpi.sh MPIEXEC PFODE_EXECUTABLE SOURCE_DIR FAULT_SHIM NODE_SHIM
set -eu
mpiexec=$1
pfode=$2
src=$3
shim=$4
node_shim=$5
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
common="--oversubscribe"
[ "$(id -u)" -eq 0 ] && common="$common --allow-run-as-root"
flags="-np 2 $common"

# Same config text in two directories (the output path is relative), so the files must agree.
mkdir "$work/one" "$work/two"
sh "$src/tests/integration/sweep_config.sh" "$work/sweep.ini" results.h5
(cd "$work/one" && "$pfode" run ../sweep.ini -q)
cd "$work/two"
# shellcheck disable=SC2086
"$mpiexec" $flags "$pfode" run ../sweep.ini --progress cells 2>"$work/two.txt" >/dev/null
/usr/bin/python3 "$src/tests/integration/compare_results.py" "$work/one/results.h5" results.h5
cells=$(grep -c '^rank [01]: \[[0-9]* of [0-9]* on 2 ranks\] ' "$work/two.txt" || true)
total=$(/usr/bin/python3 -c "import h5py, sys; print(len(h5py.File(sys.argv[1])['cells']))" results.h5)
[ "$cells" -eq "$total" ] && grep -q '^rank 0: \[1 of ' "$work/two.txt" && grep -q '^rank 1: \[1 of ' "$work/two.txt" ||
  { echo "the 2 ranks did not share the $total cells: $(cat "$work/two.txt")"; exit 1; }
grep -q "^rank 0: the 2 ranks share the reference states in this node's memory" "$work/two.txt" ||
  { echo "the 2 ranks on one node did not share the reference states: $(cat "$work/two.txt")"; exit 1; }
# Without MPI shared-memory windows (Open MPI's osc/sm left out; across nodes there are none) each
# rank keeps its own copy, filled by broadcasts: the same numbers.
rm results.h5
# shellcheck disable=SC2086
"$mpiexec" $flags --mca osc ^sm "$pfode" run ../sweep.ini --progress cells 2>"$work/apart.txt" >/dev/null
! grep -q "share the reference states" "$work/apart.txt" || { echo "shared states without shared windows"; exit 1; }
/usr/bin/python3 "$src/tests/integration/compare_results.py" "$work/one/results.h5" results.h5
# Four ranks that MPI sees on two nodes (the node shim; ranks 0 and 2 on one, 1 and 3 on the other):
# each node's ranks share one copy of the states, and the first rank of each sends its node's shares
# to the other's. The same numbers.
rm results.h5
# shellcheck disable=SC2086
"$mpiexec" -np 4 $common -x LD_PRELOAD="$node_shim" -x PFODE_FAKE_NODES=2 "$pfode" run ../sweep.ini --progress cells \
  2>"$work/nodes.txt" >/dev/null
grep -q "^rank 0: the ranks of each of the 2 nodes share the reference states in its memory" "$work/nodes.txt" ||
  { echo "the ranks of 2 nodes did not share the reference states per node: $(cat "$work/nodes.txt")"; exit 1; }
/usr/bin/python3 "$src/tests/integration/compare_results.py" "$work/one/results.h5" results.h5
# Where /dev/shm has too little room (a container's is often 64 MB; Open MPI would hang asking for
# the window there), the ranks keep their own copies, say so once, and give the same numbers.
rm results.h5
# shellcheck disable=SC2086
"$mpiexec" $flags -x LD_PRELOAD="$shim" -x PFODE_FAULT_FREE_BYTES=1000000 -x PFODE_FAULT_FREE_PATH=/dev/shm \
  "$pfode" run ../sweep.ini -q 2>"$work/no_room.txt" >/dev/null
[ "$(grep -c "^pfode: /dev/shm has .* free, too little to share the reference states" "$work/no_room.txt")" -eq 1 ] ||
  { echo "no word of the states not shared for lack of /dev/shm: $(cat "$work/no_room.txt")"; exit 1; }
/usr/bin/python3 "$src/tests/integration/compare_results.py" "$work/one/results.h5" results.h5

# Interrupt a 2-rank run as soon as its first cell is checkpointed, then resume it with 2 ranks.
# Each batch of cells takes 50 ms to land (the shim), so on any machine there is work left
# when the signal arrives.
rm results.h5
slow="-x LD_PRELOAD=$shim -x PFODE_FAULT_SLOW_NAME=.partial/cells_"
# shellcheck disable=SC2086
"$mpiexec" $flags $slow "$pfode" run "$work/sweep.ini" -q &
pid=$!
polls=0
while [ "$polls" -lt 3000 ] && ! ls results.h5.partial/cells_*.h5 >/dev/null 2>&1; do
  sleep 0.01
  polls=$((polls + 1))
done
kill -9 "$pid" 2>/dev/null || true
pkill -9 -f "$work/sweep.ini" 2>/dev/null || true  # ranks orphaned by the kill
wait "$pid" 2>/dev/null || true
sleep 0.2
[ ! -f results.h5 ] || { echo "the run finished before it was interrupted; the test proves nothing"; exit 1; }
[ -d results.h5.partial ] || { echo "no checkpoint to resume from"; exit 1; }
# SIGTERM to every rank, as a scheduler's time limit sends it: every rank stops, rank 0 says what
# is checkpointed and gives the command that continues. (A SIGTERM to mpirun itself reached the
# ranks only ~18 s later with Open MPI 4.1.4 here, after this sweep had ended.) mpirun sends
# SIGKILL 1 s after a SIGTERM it forwards; the grace is 10 s here, as a scheduler gives.
# shellcheck disable=SC2086
"$mpiexec" $flags $slow --mca odls_base_sigkill_timeout 10 "$pfode" run "$work/sweep.ini" -q --resume 2>"$work/term.txt" &
pid=$!
before=$(ls results.h5.partial | wc -l)
polls=0
while [ "$polls" -lt 3000 ] && [ "$(ls results.h5.partial | wc -l)" -le "$before" ]; do
  sleep 0.01
  polls=$((polls + 1))
done
pkill -TERM -P "$pid"
wait "$pid" 2>/dev/null || true
sleep 0.2
[ ! -f results.h5 ] || { echo "the resumed run finished before SIGTERM; the test proves nothing"; exit 1; }
grep -q "^pfode: interrupted by SIGTERM: [0-9]* of [0-9]* cells and [0-9]* of [0-9]* references are checkpointed" \
  "$work/term.txt" && grep -qF "pfode: continue with: $pfode run $work/sweep.ini -q --resume   (under the same MPI launcher, 2 ranks)" \
  "$work/term.txt" || { echo "SIGTERM under MPI did not report what is checkpointed: $(cat "$work/term.txt")"; exit 1; }
[ "$(grep -c "interrupted by" "$work/term.txt")" -eq 1 ] || { echo "more than one rank reported SIGTERM"; exit 1; }
! pgrep -f "$work/sweep.ini" >/dev/null || { echo "ranks still running after SIGTERM"; exit 1; }
# shellcheck disable=SC2086
"$mpiexec" $flags "$pfode" run "$work/sweep.ini" --resume --progress cells >/dev/null 2>"$work/resume.txt"
[ ! -d results.h5.partial ] || { echo "checkpoint directory left behind"; exit 1; }
grep -q "states read from the checkpoint" "$work/resume.txt" ||
  { echo "the resumed 2-rank run read no reference from the checkpoint: $(cat "$work/resume.txt")"; exit 1; }
[ "$(grep -c "resuming: [0-9]* of [0-9]* cells already done" "$work/resume.txt")" -eq 1 ] ||
  { echo "the resumed 2-rank run did not say once what it resumes: $(cat "$work/resume.txt")"; exit 1; }
/usr/bin/python3 "$src/tests/integration/compare_results.py" "$work/one/results.h5" results.h5

# Three ranks (48 samples: one pack of each reference each), the third unable to write its cells
# (a full disk, for it alone): every rank stops, without a hang, with exit status 1 and one error
# line; resumed with three ranks, the kept references read from the checkpoint, the results are the
# one-rank results bit for bit.
mkdir "$work/three"
cd "$work/three"
status=0
# shellcheck disable=SC2086
timeout 300 "$mpiexec" $common -np 2 "$pfode" run ../sweep.ini -q : \
  -np 1 -x LD_PRELOAD="$shim" -x PFODE_FAULT_FAIL_NAME=.partial/.cells_ "$pfode" run ../sweep.ini -q \
  2>"$work/fail.txt" || status=$?
[ "$status" -eq 1 ] || { echo "a failed rank ended the 3-rank run with status $status: $(cat "$work/fail.txt")"; exit 1; }
[ "$(grep -c "^pfode: error:" "$work/fail.txt")" -eq 1 ] && grep -q "^pfode: error: rank 2: " "$work/fail.txt" ||
  { echo "the failed rank's error not reported once: $(cat "$work/fail.txt")"; exit 1; }
[ -d results.h5.partial ] && [ ! -f results.h5 ] || { echo "no checkpoint left by the failed run"; exit 1; }
# shellcheck disable=SC2086
timeout 300 "$mpiexec" $common -np 3 "$pfode" run ../sweep.ini --resume --progress cells >/dev/null 2>"$work/resume.txt"
grep -q "states read from the checkpoint" "$work/resume.txt" ||
  { echo "the resumed 3-rank run read no reference from the checkpoint: $(cat "$work/resume.txt")"; exit 1; }
/usr/bin/python3 "$src/tests/integration/compare_results.py" "$work/one/results.h5" results.h5

# A check before the run that fails on one rank alone (the second rank's plan is too large for its
# memory, as on a node with less of it): every rank stops at once with exit status 2 and that
# rank's one error line, and nothing is written.
mkdir "$work/alone"
cd "$work/alone"
status=0
# shellcheck disable=SC2086
timeout 120 "$mpiexec" $common -np 1 "$pfode" run ../sweep.ini -q : \
  -np 1 "$pfode" run ../sweep.ini -q --set run.samples=1000000000 2>"$work/alone.txt" || status=$?
[ "$status" -eq 2 ] || { echo "a rank refused alone ended the run with status $status: $(cat "$work/alone.txt")"; exit 1; }
[ "$(grep -c "^pfode: error:" "$work/alone.txt")" -eq 1 ] &&
  grep -q "^pfode: error: rank 1: the plan needs about .* of memory" "$work/alone.txt" ||
  { echo "the refusing rank's error not reported once: $(cat "$work/alone.txt")"; exit 1; }
[ -z "$(ls -A)" ] || { echo "a run refused by one rank wrote $(ls -A)"; exit 1; }
