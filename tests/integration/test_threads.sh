#!/bin/sh
# One and two host threads give the same numbers, bit for bit. Only a threaded build (OpenMP,
# Threads) can show it: on any other the test reports itself skipped (exit 77).
# Usage: test_threads.sh PFODE_EXECUTABLE SOURCE_DIR
set -eu
pfode=$1
src=$2
space=$("$pfode" --version | sed -n 's/.*execution space //p')
case "$space" in
  OpenMP|Threads) ;;
  *) echo "skipped: execution space '$space' runs one host thread"; exit 77 ;;
esac
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir "$work/one" "$work/two"
sh "$src/tests/integration/sweep_config.sh" "$work/sweep.ini" results.h5
(cd "$work/one" && OMP_NUM_THREADS=1 OMP_PROC_BIND=false "$pfode" run ../sweep.ini -q)
(cd "$work/two" && OMP_NUM_THREADS=2 OMP_PROC_BIND=false "$pfode" run ../sweep.ini -q)
/usr/bin/python3 "$src/tests/integration/compare_results.py" "$work/one/results.h5" "$work/two/results.h5"
