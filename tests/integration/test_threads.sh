#!/bin/sh
# One, two and three host threads give the same numbers, bit for bit, and the teams-of-3 kernel
# checks (which need 3 threads) run. Only a threaded build (OpenMP, Threads) can show it: on any
# other the test reports itself skipped (exit 77). Three threads on fewer cores are oversubscribed:
# slow, but the numbers must not change.
# Usage: test_threads.sh PFODE_EXECUTABLE PFODE_TESTS_EXECUTABLE SOURCE_DIR
set -eu
pfode=$1
tests=$2
src=$3
space=$("$pfode" --version | sed -n 's/.*execution space //p')
case "$space" in
  OpenMP|Threads) ;;
  *) echo "skipped: execution space '$space' runs one host thread"; exit 77 ;;
esac
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
sh "$src/tests/integration/sweep_config.sh" "$work/sweep.ini" results.h5
for n in 1 2 3; do
  mkdir "$work/$n"
  (cd "$work/$n" && OMP_NUM_THREADS=$n OMP_PROC_BIND=false "$pfode" run ../sweep.ini -q)
done
for n in 2 3; do
  /usr/bin/python3 "$src/tests/integration/compare_results.py" "$work/1/results.h5" "$work/$n/results.h5"
done
# Teams of 3 threads against packs (solvers, adaptive solvers, the reference), bit for bit.
OMP_NUM_THREADS=3 OMP_PROC_BIND=false "$tests" "[reproducibility],[reference]"
