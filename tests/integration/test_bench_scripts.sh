#!/bin/sh
# bench/sweep_timing.py, bench/weak_throughput.py, bench/first_touch.py and bench/rank_memory.py run
# on tiny settings and print a row for every build, rank count, solver, depth and round asked for,
# or their peak (nothing is timed against anything: benchmarks are not tests).
# Usage: test_bench_scripts.sh PFODE SOURCE_DIR
set -eu
pfode=$1
src=$2
out=$(mktemp)
trap 'rm -f "$out"' EXIT

/usr/bin/python3 "$src/bench/sweep_timing.py" "$src/experiments/quickstart.ini" --pfode "$pfode" --baseline "$pfode" \
  --samples 4 --ranks 1 --rounds 1 --set "sweep.nfe=8 16 32" > "$out"
for build in pfode baseline; do
  grep -q "^| $build | 1 | [0-9.]* | [0-9.]* |" "$out" || { cat "$out"; echo "sweep_timing.py: no row for $build"; exit 1; }
done

/usr/bin/python3 "$src/bench/weak_throughput.py" --pfode "$pfode" --samples 2048 --nfe 32 --depths 8 16 \
  --solvers euler-maruyama --rounds 1 > "$out"
grep -q "^ddim (ODE) " "$out" || { cat "$out"; echo "weak_throughput.py: no row for the ODE baseline"; exit 1; }
for depth in 8 16; do
  grep -q "^euler-maruyama  *$depth  *32 " "$out" || { cat "$out"; echo "weak_throughput.py: no row at depth $depth"; exit 1; }
done
grep -q "each tree level costs" "$out" || { cat "$out"; echo "weak_throughput.py: no fit of the tree's cost"; exit 1; }

for pages in "" --small-pages; do
  /usr/bin/python3 "$src/bench/first_touch.py" --mb 64 --pause 0 --rounds 2 $pages > "$out"
  [ "$(grep -cE '^round [01]: ([0-9.]+ ){7}[0-9.]+$' "$out")" = 2 ] || { cat "$out"; echo "first_touch.py $pages: not 2 rounds of 8 pieces"; exit 1; }
done

work=$(mktemp -d)
# (a run of ~1 s, sampled every 0.02 s: some samples fall while pfode runs)
/usr/bin/python3 "$src/bench/rank_memory.py" --interval 0.02 -- "$pfode" run "$src/experiments/quickstart.ini" \
  -o "$work/m.h5" --force -q --set run.samples=64 > "$out"
rm -rf "$work"
grep -qE '^peak PSS of the pfode processes: [0-9.]+ GB \(1 processes, sampled every 0.02 s\); exit status 0; ' "$out" ||
  { cat "$out"; echo "rank_memory.py: no peak of the one pfode process"; exit 1; }
