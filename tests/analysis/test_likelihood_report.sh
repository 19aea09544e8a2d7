#!/bin/sh
# analysis/report.py on a tiny `pfode likelihood` file: both figures and likelihood.md, whose budget
# and order tables hold the HDF5 numbers as report.py rounds them; each order record is the
# least-squares slope over its own fit range. With a second file or --nfe it refuses, writing nothing.
# Usage: test_likelihood_report.sh PFODE_EXECUTABLE SOURCE_DIR
set -eu
pfode=$1
src=$2
python=/usr/bin/python3
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

cat >"$work/l.ini" <<EOF
[run]
out = $work/l.h5
samples = 4
seeds = 0

[sweep]
models = m
schedules = vp-linear
solvers = heun rk4
nfe = 16 32 64 128

[likelihood]
presets = score-sde

[model.m]
kind = mixture
dim = 2
weights = 0.5 0.5
means = -1 0 ; 1 0.5
stds = 0.4 0.5 ; 0.5 0.35
EOF

"$pfode" likelihood "$work/l.ini" -q || { echo "pfode likelihood failed"; exit 1; }
"$python" "$src/analysis/report.py" "$work/l.h5" >/dev/null || { echo "report.py failed"; exit 1; }
for name in likelihood_integration_vs_nfe.png likelihood_budget.png likelihood.md; do
  [ -s "$work/l/$name" ] || { echo "report.py did not write a non-empty $name"; exit 1; }
done

"$python" - "$work/l.h5" "$work/l/likelihood.md" <<'EOF'
import math, sys
import h5py
import numpy as np

h5_path, md_path = sys.argv[1:]
f = h5py.File(h5_path, "r")
text = lambda v: v.decode() if isinstance(v, bytes) else str(v)
lines = open(md_path).read().splitlines()
rows = [[c.strip() for c in line.strip().strip("|").split("|")] for line in lines if line.startswith("| ")]
budget = [r for r in rows if len(r) == 10 and r[0] != "model"]
orders = [r for r in rows if len(r) == 7 and r[0] != "model"]

cells = [f["likelihood"][k] for k in sorted(f["likelihood"], key=int)]
fixed = [c for c in cells if c.attrs["nfe_budget"] == 0]  # the reference and the preset
if len(budget) != len(fixed) or len(fixed) != 2:
    sys.exit(f"likelihood.md lists {len(budget)} budgets, the file has {len(fixed)} reference/preset cells")
for row, c in zip(budget, fixed):
    want = [text(c.attrs["model"]), text(c.attrs["schedule"]), text(c.attrs["method"]),
            f"{c.attrs['nfe_mean']:.0f}"] + [f"{c.attrs[p + '_rms']:.3g}" for p in
                                               ("integration", "estimator", "truncation", "prior", "total")]
    want.append(f"{c.attrs['total_rms_bits_per_dim']:.3g}")
    if row != want:
        sys.exit(f"likelihood.md budget row {row} != HDF5 {want}")
    parts = sum(c[p][()] for p in ("integration", "estimator", "truncation", "prior"))
    if not np.allclose(parts, c["total"][()], rtol=0, atol=1e-9):
        sys.exit(f"{text(c.attrs['method'])}: the parts do not sum to the total")

records = [f["likelihood_orders"][k] for k in sorted(f["likelihood_orders"], key=int)]
if len(records) != 2 or len(orders) != 2:
    sys.exit(f"expected 2 order records and rows, got {len(records)} and {len(orders)}")
for row, r in zip(orders, records):
    order, se = r.attrs["order"], r.attrs["order_stderr"]
    want = [text(r.attrs[k]) for k in ("model", "schedule", "spacing", "solver")] + [
        str(r.attrs["order_theory"]), f"{order:.2f}±{se:.1g}",
        f"{r.attrs['fit_nfe_min']:g}-{r.attrs['fit_nfe_max']:g}"]
    if row != want:
        sys.exit(f"likelihood.md order row {row} != HDF5 {want}")
    nfe, err = r["nfe"][()], r["integration_rms"][()]
    # The fit's points: the cells of the series at NFE in its range, none flagged.
    inside = (nfe >= r.attrs["fit_nfe_min"]) & (nfe <= r.attrs["fit_nfe_max"])
    if inside.sum() < 3 or r["flagged"][()][inside].any():
        sys.exit(f"{row[3]}: fit range {r.attrs['fit_nfe_min']}-{r.attrs['fit_nfe_max']} holds too few or flagged points")
    slope = -np.polyfit(np.log(nfe[inside]), np.log(err[inside]), 1)[0]
    if abs(slope - order) > 1e-9:
        sys.exit(f"{row[3]}: recorded order {order} != the least-squares slope {slope} over its range")
    # The cells the record draws from: their integration RMS at the same NFE, in NFE order.
    own = sorted((c.attrs["nfe_mean"], c.attrs["integration_rms"]) for c in cells
                 if text(c.attrs["method"]) == row[3] and c.attrs["nfe_budget"] > 0)
    if [e for _, e in own] != list(err):
        sys.exit(f"{row[3]}: integration_rms {list(err)} != its cells' {[e for _, e in own]}")
EOF

# A likelihood file is reported alone: beside another file, or with --nfe, nothing is written.
for extra in "$work/l.h5" "--nfe 16"; do
  status=0
  # shellcheck disable=SC2086
  "$python" "$src/analysis/report.py" "$work/l.h5" $extra --outdir "$work/refused" >/dev/null 2>"$work/err" || status=$?
  if [ $status -ne 2 ] || [ -e "$work/refused" ] || ! grep -q "reported alone" "$work/err"; then
    echo "report.py with $extra: exit $status, '$(cat "$work/err")', expected exit 2, one line, nothing written"; exit 1
  fi
done
echo "likelihood report: ok"
