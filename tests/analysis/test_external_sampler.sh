#!/bin/sh
# The outside-sampler workflow of experiments/external-sampler.ini (256 samples, 10 budgets, a
# Gaussian and a 2-D mixture): pfode export, the NumPy DDIM and DPM-Solver++(2M) of
# experiments/external_sampler.py, pfode score, and pfode run for the built-in ddim and
# dpm-solver++2m. Every scored GTE (RMS and per sample) equals the built-in cell's to 1e-12 at
# every NFE, the fitted orders are 1 and 2 within 0.15, report.py draws both files in one report.
# The same on the discrete DDPM schedules. Then bad input: NaN states are a diverged cell; wrong
# shapes, times outside the schedule or not decreasing, NFE below 1, an unknown target, runs of
# another problem, an unknown model and an edited problem file are refused (exit 2, one line,
# nothing written).
# Usage: test_external_sampler.sh PFODE_EXECUTABLE SOURCE_DIR
set -eu
pfode=$1
src=$2
python=/usr/bin/python3
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
config="$src/experiments/external-sampler.ini"

"$pfode" export "$config" -o "$work/problem.h5" -q || { echo "pfode export failed"; exit 1; }
"$python" "$src/experiments/external_sampler.py" "$work/problem.h5" "$work/runs.h5" >/dev/null ||
  { echo "external_sampler.py failed"; exit 1; }
"$pfode" score "$work/problem.h5" "$work/runs.h5" -o "$work/scored.h5" -q || { echo "pfode score failed"; exit 1; }
"$pfode" run "$config" --set run.out="$work/builtin.h5" -q || { echo "pfode run failed"; exit 1; }

# compare.py BUILTIN SCORED CELLS [orders]: every scored cell's GTE (RMS and per sample) is the
# built-in cell's to 1e-12, the references are the built-in run's; with "orders" the fitted GTE
# orders are the theoretical ones within 0.15.
cat >"$work/compare.py" <<'PY'
import sys

import numpy as np

from pfode_results import load

builtin, scored = load(sys.argv[1]), load(sys.argv[2])
expected, check_orders = int(sys.argv[3]), sys.argv[4:] == ["orders"]
same = {"numpy-ddim": "ddim", "numpy-dpm++2m": "dpm-solver++2m"}
key = ("model", "schedule", "spacing", "seed", "nfe")
cells = {tuple(c[k] for k in key) + (c["solver"],): c for c in builtin["cells"]}
if len(scored["cells"]) != expected or len(cells) != expected:
    sys.exit(f"{len(scored['cells'])} scored cells, {len(cells)} built-in cells; expected {expected} each")
worst = 0.0
for c in scored["cells"]:
    b = cells[tuple(c[k] for k in key) + (same[c["solver"]],)]
    difference = max(abs(c["gte_rms"] - b["gte_rms"]), float(np.max(np.abs(c["gte"] - b["gte"]))))
    worst = max(worst, difference)
    if not difference <= 1e-12 or c["status"] != "ok" or c["near_floor"] != b["near_floor"]:
        sys.exit(f"{c['model']}/{c['schedule']}/{c['spacing']}/{c['solver']} NFE {c['nfe']}: GTE {c['gte_rms']!r} vs "
                 f"built-in {b['gte_rms']!r} (differs by {difference:.3g}), status {c['status']}")
for s in scored["series"] if check_orders else []:
    if not abs(s["gte_order"] - s["order_theory"]) <= 0.15:
        sys.exit(f"{s['model']}/{s['solver']}: fitted GTE order {s['gte_order']:.3f}, theory {s['order_theory']}")
for name, r in scored["references"].items():
    if r["error_estimate"] != builtin["references"][name]["error_estimate"]:
        sys.exit(f"reference {name}: not the built-in run's (same start states, same times)")
orders = ", ".join(f"{s['model']} {s['schedule']} {s['spacing']} {s['solver']} {s['gte_order']:.3f}"
                   for s in scored["series"] if check_orders)
print(f"largest GTE difference from the built-in cells {worst:.3g}" + (f"; orders {orders}" if orders else ""))
PY
PYTHONPATH="$src/analysis" "$python" "$work/compare.py" "$work/builtin.h5" "$work/scored.h5" 40 orders

"$python" "$src/analysis/report.py" "$work/builtin.h5" "$work/scored.h5" --outdir "$work/report" >/dev/null ||
  { echo "report.py with both files failed"; exit 1; }
for name in gte_vs_nfe.png global_error_steps.png orders.csv summary.md; do
  [ -s "$work/report/$name" ] || { echo "report.py did not write $name"; exit 1; }
done
[ "$(grep -c numpy- "$work/report/orders.csv")" = 4 ] && [ "$(grep -c ',ddim,\|,dpm-solver++2m,' "$work/report/orders.csv")" = 4 ] ||
  { echo "orders.csv does not hold the series of both files"; cat "$work/report/orders.csv"; exit 1; }

# The discrete DDPM schedules, on diffusers' trailing timesteps and on logSNR-uniform grids (32
# samples): the same path gives the built-in cells' GTE.
cat >"$work/ddpm.ini" <<INI
[run]
out = $work/ddpm.h5
samples = 32

[sweep]
models = mixture
schedules = ddpm-linear ddpm-scaled-linear
spacings = diffusers-trailing uniform-lambda
solvers = ddim dpm-solver++2m
nfe = 10 20

[model.mixture]
kind = mixture
dim = 2
weights = 0.5 0.3 0.2
means = -1 0 ; 1 0.5 ; 0 -1
stds = 0.4 0.5 ; 0.5 0.35 ; 0.45 0.4
INI
"$pfode" export "$work/ddpm.ini" -o "$work/ddpm-problem.h5" -q &&
  "$python" "$src/experiments/external_sampler.py" "$work/ddpm-problem.h5" "$work/ddpm-runs.h5" >/dev/null &&
  "$pfode" score "$work/ddpm-problem.h5" "$work/ddpm-runs.h5" -o "$work/ddpm-scored.h5" -q &&
  "$pfode" run "$work/ddpm.ini" -q || { echo "the ddpm-schedule workflow failed"; exit 1; }
PYTHONPATH="$src/analysis" "$python" "$work/compare.py" "$work/ddpm.h5" "$work/ddpm-scored.h5" 16

# ---- bad input ----
# Runs files written from the good one, each with one thing wrong (see the cases below).
PYTHONPATH="$src/analysis" "$python" - "$work" <<'PY'
import sys

import h5py
import numpy as np

from pfode_problem import load_problem, write_runs

work = sys.argv[1]
problem = load_problem(f"{work}/problem.h5")
grid = problem.grid("vp-linear", "uniform-lambda", 10)
x = np.repeat(problem.start("mixture", "vp-linear", 0)[:, None, :], 11, axis=1)  # states (not a sampler's)
good = dict(label="s", model="mixture", schedule="vp-linear", seed=0, t=grid.t, x=x, nfe=10)
diverged = x.copy()
diverged[3, -1, 0] = np.nan
write_runs(f"{work}/nan.h5", problem, [good, dict(good, label="d", x=diverged)])
write_runs(f"{work}/shape.h5", problem, [dict(good, x=x[:-1])])
write_runs(f"{work}/time.h5", problem, [dict(good, t=np.concatenate([[1.5], grid.t[1:]]))])
write_runs(f"{work}/model.h5", problem, [dict(good, model="mixtur")])
write_runs(f"{work}/seed.h5", problem, [dict(good, seed=4)])
write_runs(f"{work}/twice.h5", problem, [good, good])
write_runs(f"{work}/order.h5", problem, [dict(good, t=grid.t[[1, 0, *range(2, 11)]])])
write_runs(f"{work}/nfe.h5", problem, [dict(good, nfe=0)])
write_runs(f"{work}/target.h5", problem, [dict(good, target="sigma0")])
write_runs(f"{work}/points.h5", problem, [good])
with h5py.File(f"{work}/points.h5", "r+") as f:  # one state fewer than times (write_runs refuses it)
    x_short = f["runs/000000/x"][:, :-1]
    del f["runs/000000/x"]
    f["runs/000000/x"] = x_short
write_runs(f"{work}/unspent.h5", problem, [good])
with h5py.File(f"{work}/unspent.h5", "r+") as f:  # no NFE recorded
    del f["runs/000000"].attrs["nfe"]
problem.id = "0123456789abcdef"
write_runs(f"{work}/other.h5", problem, [good])
with h5py.File(f"{work}/edited.h5", "w") as f, h5py.File(f"{work}/problem.h5", "r") as p:
    for key in p:
        p.copy(key, f)
    f.attrs.update(p.attrs)
    f["starts/mixture__vp-linear__seed0/x_T"][0, 0] += 1e-9
PY

"$pfode" score "$work/problem.h5" "$work/nan.h5" -o "$work/nan-scored.h5" -q || { echo "NaN states: score failed"; exit 1; }
"$python" -c "
import h5py, sys
cells = h5py.File(sys.argv[1])['cells']
status = [cells[k].attrs['status'] for k in sorted(cells)]
sys.exit(0 if status == ['ok', 'diverged'] else f'NaN states: statuses {status}, expected ok, diverged')" "$work/nan-scored.h5"

refused() {  # refused RUNS PROBLEM EXPECTED-TEXT: exit 2, one line naming the problem, no output
  rm -f "$work/err.txt"
  status=0
  "$pfode" score "$2" "$1" -o "$work/refused.h5" -q 2>"$work/err.txt" || status=$?
  if [ "$status" != 2 ] || [ "$(wc -l <"$work/err.txt")" != 1 ] || ! grep -q "^pfode: error: .*$3" "$work/err.txt" ||
     [ -e "$work/refused.h5" ]; then
    echo "score $1: exit $status, expected 2 with one line containing '$3', and no output; got:"
    cat "$work/err.txt"
    exit 1
  fi
}
refused "$work/shape.h5" "$work/problem.h5" "run '000000': states of 255 samples x 2 coordinates; the problem's start states are 256 x 2"
refused "$work/time.h5" "$work/problem.h5" "time 1.5 lies outside schedule vp-linear's \[t_min, t_max\] = \[0.001, 1\]"
refused "$work/model.h5" "$work/problem.h5" "unknown model 'mixtur' (the problem's: gaussian, mixture)"
refused "$work/seed.h5" "$work/problem.h5" "no start states for seed 4"
refused "$work/order.h5" "$work/problem.h5" "run '000000': times must decrease"
refused "$work/nfe.h5" "$work/problem.h5" "run '000000': nfe must be >= 1 (got 0)"
refused "$work/target.h5" "$work/problem.h5" "run '000000': target 'sigma0' (grid_end"
refused "$work/points.h5" "$work/problem.h5" "run '000000': x must be samples x 11 x dim (one state per time in t)"
refused "$work/twice.h5" "$work/problem.h5" "runs '000000' and '000001' are the same cell"
refused "$work/other.h5" "$work/problem.h5" "started from problem 0123456789abcdef, not from"
refused "$work/runs.h5" "$work/edited.h5" "does not match its problem_id"
refused "$work/runs.h5" "$work/missing.h5" "problem '$work/missing.h5': no such file"
refused "$work/problem.h5" "$work/problem.h5" "not a pfode runs file"
refused "$work/problem.h5" "$work/runs.h5" "problem '$work/runs.h5': not a pfode problem file"
refused "$work/missing.h5" "$work/problem.h5" "runs '$work/missing.h5': no such file"
refused "$work/unspent.h5" "$work/problem.h5" "run '000000' needs the NFE it spent"

# Export and score refuse to replace a file without --force; export refuses a bad config.
expect_refusal() {  # expect_refusal EXPECTED-TEXT COMMAND...: exit 2 and one line naming the problem
  text=$1
  shift
  status=0
  "$@" 2>"$work/err.txt" >/dev/null || status=$?
  if [ "$status" != 2 ] || [ "$(wc -l <"$work/err.txt")" != 1 ] || ! grep -q "^pfode: error: .*$text" "$work/err.txt"; then
    echo "$*: exit $status, expected 2 with one line containing '$text'; got:"
    cat "$work/err.txt"
    exit 1
  fi
}
expect_refusal "output '$work/problem.h5' exists; pass --force to replace it" "$pfode" export "$config" -o "$work/problem.h5"
expect_refusal "output '$work/scored.h5' exists; pass --force to replace it" \
  "$pfode" score "$work/problem.h5" "$work/runs.h5" -o "$work/scored.h5"
expect_refusal "output '$work/runs.h5' is one of the inputs" \
  "$pfode" score "$work/problem.h5" "$work/runs.h5" -o "$work/runs.h5" --force
expect_refusal "score needs a problem file and a runs file" "$pfode" score "$work/problem.h5"
sed 's/^samples = 256/samples = 0/' "$config" >"$work/bad.ini"
expect_refusal "run.samples = 0 is below 1" "$pfode" export "$work/bad.ini" -o "$work/bad-problem.h5"
[ ! -e "$work/bad-problem.h5" ] || { echo "export with a bad config wrote a problem file"; exit 1; }
