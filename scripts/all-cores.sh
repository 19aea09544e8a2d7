#!/bin/sh
# Prints the command prefix that runs a pfode build on every local core, for `make run` and the
# README's commands:   $(scripts/all-cores.sh build/pfode) build/pfode run CONFIG.ini
# - MPI installed and a host backend (Serial, OpenMP, Threads): one MPI rank per core, each with one
#   thread. Ranks split the cells and share the references through the checkpoint; the numbers are
#   bit-identical to one process. Ranks, unlike OpenMP threads, do not slow down when another
#   program holds a core (README, Performance).
# - a threaded backend without MPI: one process, a thread per core, threads that sleep rather than
#   spin while they wait (OMP_WAIT_POLICY=passive) and are not pinned (OMP_PROC_BIND=false).
# - a GPU backend, one core, or neither: nothing (one process).
# CORES=N overrides the count (nproc).
set -eu
pfode=${1:-build/pfode}
cores=${CORES:-$(nproc)}
space=$("$pfode" --version | sed -n 's/.*execution space //p')
[ "$cores" -gt 1 ] || exit 0
case "$space" in
  Serial|OpenMP|Threads) ;;
  *) exit 0 ;;
esac
if "$pfode" --version | grep -q "MPI yes" && command -v mpirun >/dev/null 2>&1; then
  root=""
  [ "$(id -u)" -eq 0 ] && root=" --allow-run-as-root"
  echo "mpirun -np $cores --oversubscribe --bind-to none$root -x OMP_NUM_THREADS=1"
elif [ "$space" != Serial ]; then
  echo "env OMP_NUM_THREADS=$cores OMP_WAIT_POLICY=passive OMP_PROC_BIND=false"
fi
