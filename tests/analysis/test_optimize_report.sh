#!/bin/sh
# analysis/report.py on a tiny `pfode optimize` file: both figures and optimize.md, whose rows hold
# the HDF5's held-out errors as report.py rounds them, the ratio of the optimised grid to the best
# standard spacing and the ranking. With a second file it refuses, writing nothing.
# Usage: test_optimize_report.sh PFODE_EXECUTABLE SOURCE_DIR
set -eu
pfode=$1
src=$2
python=/usr/bin/python3
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

cat >"$work/o.ini" <<EOF2
[run]
out = $work/o.h5
samples = 8
seeds = 0

[sweep]
models = g
schedules = vp-linear edm
spacings = uniform-lambda uniform-t karras
solvers = ddim dpm-solver++2m
nfe = 3 4

[model.g]
kind = gaussian
dim = 2
means = 0.5 -0.5
stds = 0.3 0.5
EOF2

"$pfode" optimize "$work/o.ini" --candidates 8 -q || { echo "pfode optimize failed"; exit 1; }
"$python" "$src/analysis/report.py" "$work/o-optimize.h5" >/dev/null || { echo "report.py failed"; exit 1; }
for name in optimize_grids.png optimize_heldout_vs_nfe.png optimize.md; do
  [ -s "$work/o-optimize/$name" ] || { echo "report.py did not write a non-empty $name"; exit 1; }
done

"$python" - "$work/o-optimize.h5" "$work/o-optimize/optimize.md" <<'EOF2'
import sys
import h5py

h5_path, md_path = sys.argv[1:]
f = h5py.File(h5_path, "r")
text = lambda v: v.decode() if isinstance(v, bytes) else str(v)
rows = [[c.strip() for c in line.strip().strip("|").split("|")] for line in open(md_path) if line.startswith("| ")]
rows = [r for r in rows if r[0] not in ("model",) and not r[0].startswith("---")]
groups = [f["optimize"][k] for k in sorted(f["optimize"], key=int)]
if len(rows) != len(groups) or len(groups) != 8:
    sys.exit(f"optimize.md has {len(rows)} rows, the file {len(groups)} problems (8 expected)")
for row, g in zip(rows, groups):
    names = text(g["grid_names"][()]).split("\n")
    held = list(g["heldout_gte_rms"][()])
    if names[-2:] != ["dp", "optimized"]:
        sys.exit(f"grid names {names}")
    want = [text(g.attrs["model"]), text(g.attrs["schedule"]), text(g.attrs["solver"]), str(g.attrs["nfe_budget"]),
            str(g.attrs["nfe"]), str(g.attrs["steps"])] + [f"{v:.4g}" for v in held]
    if row[:len(want)] != want:
        sys.exit(f"optimize.md row {row} != HDF5 {want}")
    best = min(range(len(names) - 2), key=lambda k: held[k])
    if row[len(want)] != f"{held[-1] / held[best]:.3f}" or row[len(want) + 1] != names[best]:
        sys.exit(f"ratio or best standard spacing of {row} is not {held[-1] / held[best]:.3f} of {names[best]}")
    ranked = sorted(names, key=lambda n: held[names.index(n)])
    if row[len(want) + 2] != " < ".join(ranked):
        sys.exit(f"ranking {row[len(want) + 2]} != {ranked}")
    # The lambda of every grid point is the schedule's (checked at the ends: t_max and t_min).
    lam = g["grid_lambda"][()]
    if lam.shape != g["grid_t"].shape or not (lam[:, 1:] > lam[:, :-1]).all():
        sys.exit("grid_lambda is not increasing along every grid")
EOF2

mkdir "$work/refused"
if "$python" "$src/analysis/report.py" "$work/o-optimize.h5" "$work/o-optimize.h5" --outdir "$work/refused" \
    2>"$work/err" >/dev/null; then
  echo "report.py accepted an optimize file with another"; exit 1
fi
grep -q "reported alone" "$work/err" || { echo "no named refusal: $(cat "$work/err")"; exit 1; }
[ -z "$(ls "$work/refused")" ] || { echo "the refused report wrote files"; exit 1; }
echo "optimize report ok"
