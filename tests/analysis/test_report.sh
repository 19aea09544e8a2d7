#!/bin/sh
# analysis/report.py on a tiny sweep writes every figure and table, and orders.csv holds exactly the
# orders, standard errors and GTE values of the HDF5 file (parsed floats equal, NaN equals NaN).
# Usage: test_report.sh PFODE_EXECUTABLE SOURCE_DIR
set -eu
pfode=$1
src=$2
python=/usr/bin/python3
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

cat >"$work/tiny.ini" <<EOF
[run]
out = $work/tiny.h5
samples = 8
seeds = 0

[sweep]
models = gaussian
schedules = vp-linear
spacings = uniform-lambda uniform-t
solvers = euler heun
nfe = 8 16 32 64

[model.gaussian]
kind = gaussian
dim = 2
means = 0.5 -0.5
stds = 0.3 0.5
EOF

"$pfode" run "$work/tiny.ini" -q || { echo "pfode run failed"; exit 1; }
"$python" "$src/analysis/report.py" "$work/tiny.h5" >/dev/null || { echo "report.py failed"; exit 1; }
for name in gte_vs_nfe.png lte_vs_lambda.png global_error_steps.png spacing_heatmap.png \
            orders.md orders.csv summary.md; do
  [ -s "$work/tiny/$name" ] || { echo "report.py did not write a non-empty $name"; exit 1; }
done

"$python" - "$work/tiny.h5" "$work/tiny/orders.csv" <<'EOF'
import csv, math, sys
import h5py

h5_path, csv_path = sys.argv[1:]
f = h5py.File(h5_path, "r")
text = lambda v: v.decode() if isinstance(v, bytes) else str(v)
series = {tuple(text(g.attrs[k]) for k in ("model", "schedule", "spacing", "solver", "seed")): g
          for g in f["series"].values()}
rows = list(csv.DictReader(open(csv_path)))
if len(rows) != len(series):
    sys.exit(f"orders.csv has {len(rows)} rows, the file {len(series)} series")
columns = [prefix + suffix for prefix in ("gte", "gte_median", "lte")
           for suffix in ("_order", "_order_stderr", "_fit_nfe_min", "_fit_nfe_max")]
missing = [c for c in columns + ["gte_rms_at_nfe_max", "nfe_max"] if c not in rows[0]]
if missing:
    sys.exit(f"orders.csv lacks columns {missing}")
for row in rows:
    g = series[tuple(row[k] for k in ("model", "schedule", "spacing", "solver", "seed"))]
    last = f["cells/%06d" % g["cells"][-1]]
    expected = {c: float(g.attrs[c]) for c in columns}
    expected["gte_rms_at_nfe_max"] = float(last.attrs["gte_rms"])
    expected["nfe_max"] = float(g["nfe"][-1])
    for column, want in expected.items():
        got = float(row[column])
        if not (got == want or (math.isnan(got) and math.isnan(want))):
            sys.exit(f"orders.csv {row['solver']}/{row['spacing']} {column}: {row[column]} != HDF5 {want!r}")
EOF
