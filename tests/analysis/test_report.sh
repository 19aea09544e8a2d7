#!/bin/sh
# analysis/report.py on a tiny sweep writes every figure and table; orders.csv holds exactly the
# theoretical and fitted orders, standard errors and GTE values of the HDF5 file (parsed numbers
# equal, NaN equals NaN), and every cell of the order tables in orders.md and summary.md is the
# HDF5 value as report.py rounds it, under the right header. --nfe picks an existing budget. A file
# missing a record is refused.
# Usage: test_report.sh PFODE_EXECUTABLE SOURCE_DIR
set -eu
pfode=$1
src=$2
python=/usr/bin/python3
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# The 2-D Gaussian model section the configs below share.
gaussian='[model.gaussian]
kind = gaussian
dim = 2
means = 0.5 -0.5
stds = 0.3 0.5'

# dpm-solver-fast's order depends on the budget (NFE % 3), so its series may be split by theory.
cat >"$work/tiny.ini" <<EOF
[run]
out = $work/tiny.h5
samples = 8
seeds = 0

[sweep]
models = gaussian
schedules = vp-linear edm
spacings = uniform-lambda uniform-t
solvers = euler heun ddim dpm-solver-1 dpm-solver-fast unipc-2
nfe = 8 12 16 24 32 48 64 96 128

$gaussian
EOF

"$pfode" run "$work/tiny.ini" -q || { echo "pfode run failed"; exit 1; }
"$python" "$src/analysis/report.py" "$work/tiny.h5" >/dev/null || { echo "report.py failed"; exit 1; }
for name in gte_vs_nfe.png lte_vs_lambda.png global_error_steps.png spacing_heatmap.png \
            schedule_comparison.png orders.md orders.csv summary.md; do
  [ -s "$work/tiny/$name" ] || { echo "report.py did not write a non-empty $name"; exit 1; }
done

# --nfe N: a budget the file lacks is an error that writes nothing; one it has adds only its heatmap.
if "$python" "$src/analysis/report.py" "$work/tiny.h5" --outdir "$work/nfe" --nfe 7 >/dev/null 2>&1 ||
   [ -e "$work/nfe" ]; then
  echo "report.py --nfe 7 (not a budget of the file) did not fail, or wrote $work/nfe"; exit 1
fi
"$python" "$src/analysis/report.py" "$work/tiny.h5" --outdir "$work/nfe" --nfe 16 >/dev/null ||
  { echo "report.py --nfe 16 failed"; exit 1; }
[ "$(ls "$work/nfe")" = spacing_heatmap_nfe16.png ] ||
  { echo "report.py --nfe 16 wrote $(ls "$work/nfe"), not just spacing_heatmap_nfe16.png"; exit 1; }

# A file that lacks a record (a reference group, a cell) is refused by name, and nothing is drawn.
for drop in references/gaussian__edm__seed0 cells/000005; do
  cp "$work/tiny.h5" "$work/cut.h5"
  "$python" -c "import h5py, sys; del h5py.File(sys.argv[1], 'r+')[sys.argv[2]]" "$work/cut.h5" "$drop"
  status=0
  "$python" "$src/analysis/report.py" "$work/cut.h5" --outdir "$work/cut" >/dev/null 2>"$work/cut.err" || status=$?
  case $drop in
    references/*) want="incomplete results file: /references lacks gaussian__edm__seed0" ;;
    *) want="incomplete results file: missing cells 5; series 000000 lists missing cells 5" ;;
  esac
  if [ $status -ne 2 ] || [ -e "$work/cut" ] || [ "$(wc -l <"$work/cut.err")" -ne 1 ] || ! grep -qF "$want" "$work/cut.err"; then
    echo "report.py on a file without $drop: exit $status, '$(cat "$work/cut.err")', expected exit 2 and '$want'"; exit 1
  fi
done

"$python" - "$work/tiny.h5" "$work/tiny" <<'EOF'
import csv, math, os, sys
import h5py

h5_path, report = sys.argv[1:]
f = h5py.File(h5_path, "r")
series = [f["series"][name] for name in sorted(f["series"])]  # the tables list series in this order
KEY = ("model", "schedule", "spacing", "solver", "seed")
text = lambda v: v.decode() if isinstance(v, bytes) else str(v)


def last_cell(g):
    return f["cells/%06d" % g["cells"][-1]]


# ---- orders.csv: the exact numbers ----
rows = list(csv.DictReader(open(os.path.join(report, "orders.csv"))))
if len(rows) != len(series):
    sys.exit(f"orders.csv has {len(rows)} rows, the file {len(series)} series")
columns = ["order_theory", "lte_order_theory", "lambda_step_order"] + [
    prefix + suffix for prefix in ("gte", "gte_median", "lte")
    for suffix in ("_order", "_order_stderr", "_fit_nfe_min", "_fit_nfe_max")]
missing = [c for c in KEY + tuple(columns) + ("gte_rms_at_nfe_max", "nfe_max") if c not in rows[0]]
if missing:
    sys.exit(f"orders.csv lacks columns {missing}")
for row, g in zip(rows, series):
    where = f"orders.csv {row['solver']}/{row['spacing']}"
    for k in KEY:
        if row[k] != text(g.attrs[k]):
            sys.exit(f"{where} {k}: {row[k]!r} != HDF5 {text(g.attrs[k])!r}")
    expected = {c: float(g.attrs[c]) for c in columns}
    expected["gte_rms_at_nfe_max"] = float(last_cell(g).attrs["gte_rms"])
    expected["nfe_max"] = float(g["nfe"][-1])
    for column, want in expected.items():
        got = float(row[column])
        if not (got == want or (math.isnan(got) and math.isnan(want))):
            sys.exit(f"{where} {column}: {row[column]} != HDF5 {want!r}")


# ---- orders.md and summary.md: the same numbers, rounded for reading ----
def fixed(v, spec):
    return format(float(v), spec) if math.isfinite(v) else "n/a"


def fit_range(lo, hi):
    return f"{lo:g}–{hi:g}" if math.isfinite(lo) and math.isfinite(hi) else "no fit"


# (header, cell text from the series group) in table order; "± se" follows the order it belongs to.
TABLE = [(k, lambda g, k=k: text(g.attrs[k])) for k in KEY] + [
    ("theory p", lambda g: str(int(g.attrs["order_theory"]))),
    ("GTE p", lambda g: fixed(g.attrs["gte_order"], ".3f")),
    ("± se", lambda g: fixed(g.attrs["gte_order_stderr"], ".3f")),
    ("median-GTE p", lambda g: fixed(g.attrs["gte_median_order"], ".3f")),
    ("LTE p (theory)", lambda g: f"{fixed(g.attrs['lte_order'], '.3f')} ({int(g.attrs['lte_order_theory'])})"),
    ("± se", lambda g: fixed(g.attrs["lte_order_stderr"], ".3f")),
    ("GTE fit NFE", lambda g: fit_range(g.attrs["gte_fit_nfe_min"], g.attrs["gte_fit_nfe_max"])),
    ("λ-step q", lambda g: fixed(g.attrs["lambda_step_order"], ".2f")),
    ("largest NFE", lambda g: fixed(g["nfe"][-1], "g")),
    ("GTE RMS there", lambda g: fixed(last_cell(g).attrs["gte_rms"], ".3e")),
]


def cells(line):
    return [c.strip() for c in line.strip().strip("|").split("|")]


def check_table(lines, where):
    """lines: the Markdown table, header, rule and one row per series."""
    header = cells(lines[0])
    if header != [h for h, _ in TABLE]:
        sys.exit(f"{where}: header {header} != {[h for h, _ in TABLE]}")
    body = lines[2:]
    if len(body) != len(series):
        sys.exit(f"{where}: {len(body)} rows, the file {len(series)} series")
    for line, g in zip(body, series):
        got = cells(line)
        want = [cell(g) for _, cell in TABLE]
        if len(got) != len(want):
            sys.exit(f"{where} {want[3]}/{want[2]}: {len(got)} cells, expected {len(want)}")
        for (head, _), a, b in zip(TABLE, got, want):
            if a != b:
                sys.exit(f"{where} {want[3]}/{want[2]} '{head}': {a!r} != {b!r} (from HDF5)")


def table_after(path, heading):
    """The first Markdown table after the line heading (the whole file: heading None)."""
    lines = open(path).read().splitlines()
    start = lines.index(heading) if heading else 0
    table = []
    for line in lines[start:]:
        if line.startswith("|"):
            table.append(line)
        elif table:
            break
    if not table:
        sys.exit(f"{path}: no order table" + (f" after {heading!r}" if heading else ""))
    return table


check_table(table_after(os.path.join(report, "orders.md"), None), "orders.md")
summary = os.path.join(report, "summary.md")
if "## Measured convergence orders" not in open(summary).read().splitlines():
    sys.exit("summary.md has no '## Measured convergence orders' section")
check_table(table_after(summary, "## Measured convergence orders"), "summary.md")


# ---- summary.md flags: only fits over >= 4 points spanning >= 2x in NFE are compared with theory;
# shorter ones that miss it are listed as "too few points"; a known reason links the README ----
def section(path, heading):
    lines = open(path).read().splitlines()
    start = lines.index(heading) + 1
    end = next((k for k in range(start, len(lines)) if lines[k].startswith("#")), len(lines))
    return [l[2:] for l in lines[start:end] if l.startswith("- ")]


flags = section(summary, "## Flags (measured order off theory by more than 0.15)")
text_all = open(summary).read()
too_few = section(summary, "### Too few points to compare with theory") if "### Too few" in text_all else []
want_flags, want_few = set(), set()
for g in series:
    name = " / ".join(text(g.attrs[k]) for k in KEY[:4]) + f" / seed {g.attrs['seed']}"
    for what, prefix, theory in (("GTE", "gte", "order_theory"), ("LTE", "lte", "lte_order_theory")):
        order, lo, hi = (float(g.attrs[prefix + k]) for k in ("_order", "_fit_nfe_min", "_fit_nfe_max"))
        if not math.isfinite(order):
            want_few.add(f"{name}: no {what}")
            continue
        if abs(order - g.attrs[theory]) <= 0.15:
            continue
        points = sum(lo <= n <= hi for n in g["nfe"][()])
        (want_flags if points >= 4 and hi / lo >= 2 else want_few).add(f"{name}: {what} order {order:.3f}")
import re
head = re.compile(r"^(.*?: (?:(?:GTE|LTE) order -?[0-9.]+|no (?:GTE|LTE)))")
got_flags = {head.match(f).group(1) for f in flags}
got_few = {head.match(f).group(1) for f in too_few}
if got_flags != want_flags or got_few != want_few:
    sys.exit(f"summary.md flags {sorted(got_flags)} / too few {sorted(got_few)}, expected {sorted(want_flags)} / "
             f"{sorted(want_few)}")
# uniform-t on vp-linear is pre-asymptotic: its flags name the README section, by a link to a
# heading that exists (GitHub's anchor of it).
for f in flags + too_few:
    if "/ uniform-t /" not in f or not re.search(r"(GTE|LTE) order -?[0-9]", f):  # a measured order, not "no fit"
        continue
    link = re.search(r"\[README: Time-step spacings\]\(([^)#]+)#([^)]+)\)", f)
    if not link:
        sys.exit(f"summary.md flag without its README explanation: {f}")
    readme = os.path.normpath(os.path.join(report, link.group(1)))
    anchors = {re.sub(r"[^a-z0-9 _-]", "", h.strip("# ").lower()).replace(" ", "-")
               for h in open(readme).read().splitlines() if h.startswith("#")}
    if link.group(2) not in anchors:
        sys.exit(f"summary.md links {link.group(2)!r}, not a heading of {readme}")
if not any("/ uniform-t /" in f for f in flags):
    sys.exit("summary.md: expected a flag for uniform-t on vp-linear (pre-asymptotic), found none")
EOF

# ---- figures: one colour scale for the heatmap panels, ties marked, identical methods drawn once,
# an NFE^-p guide for every theoretical order (5 too) inside the axes ----
"$python" - "$work/tiny.h5" "$src/analysis" <<'EOF'
import sys
import numpy as np
sys.path.insert(0, sys.argv[2])
import plotting, report
from pfode_results import load

results = load(sys.argv[1])
fig = report.heatmap_figure(results)
images = [im for ax in fig.axes for im in ax.images]
if len(images) != 2 or len({im.get_clim() for im in images}) != 1:
    sys.exit(f"heatmap: {len(images)} panels with colour limits {[im.get_clim() for im in images]}, expected 2 sharing one")
if len(fig.axes) != 3:
    sys.exit(f"heatmap: {len(fig.axes) - 2} colour bars, expected one for both panels")
# 1.0712e-3 and 1.0704e-3 both print 1.07e-03: both are the best.
if report.best_spacings(np.log10([1.0712e-3, 2e-3, 1.0704e-3])) != {0, 2}:
    sys.exit("heatmap: values equal to three digits are not all marked best")
# ddim and dpm-solver-1 are one method (on EDM Euler in t is too): one legend entry '... = ddim =
# dpm-solver-1' in every panel.
fig = plotting.convergence_figure(results)
for ax in fig.axes:
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    if not any("ddim = dpm-solver-1:" in l for l in labels) or any(l.startswith("dpm-solver-1") for l in labels):
        sys.exit(f"gte_vs_nfe: ddim and dpm-solver-1 not drawn as one: {labels}")
# Guides on a panel of orders 1..5, errors over ten decades: one per order, none outside the axes.
nfe = np.array([8, 16, 32, 64, 128, 256.])
series = [dict(solver=f"s{p}", seed=0, order_theory=p, gte_order=p, gte_order_stderr=0.01, nfe=nfe,
               gte_rms=0.1 * (nfe / 8) ** -p, near_floor=np.zeros(6, bool), status=["ok"] * 6) for p in range(1, 6)]
fig, axes = plotting.grid(1)
ax = axes[0]
plotting.draw_convergence(ax, series, plotting.solver_styles(s["solver"] for s in series), lambda s: s["solver"])
(x0, x1), (y0, y1) = ax.get_xlim(), ax.get_ylim()
guides = [l for l in ax.lines if l.get_linestyle() != "-" and len(l.get_xdata())]
if len(guides) != 5:
    sys.exit(f"gte_vs_nfe: {len(guides)} NFE^-p guides for orders 1..5")
for g in guides:
    x, y = np.asarray(g.get_xdata()), np.asarray(g.get_ydata())
    if x.min() < x0 or x.max() > x1 or y.min() < y0 or y.max() > y1:
        sys.exit(f"gte_vs_nfe: a guide leaves the axes ({x.min():g}..{x.max():g}, {y.min():g}..{y.max():g})")
EOF

# ---- an imperfect model: error_split.png, and the split in the file and orders.csv ----
cat >"$work/split.ini" <<EOF
[run]
out = $work/split.h5
samples = 6
seeds = 0

[sweep]
models = noisy
schedules = vp-linear
solvers = euler heun
nfe = 4 8 16 32 64 128 256

[model.g]
kind = gaussian
dim = 2
means = 0.5 -0.5
stds = 0.3 0.5

[model.noisy]
kind = perturbed
exact = g
error = fourier
error_size = 0.003
EOF
"$pfode" run "$work/split.ini" -q || { echo "pfode run (perturbed) failed"; exit 1; }
"$python" "$src/analysis/report.py" "$work/split.h5" >/dev/null || { echo "report.py (perturbed) failed"; exit 1; }
[ -s "$work/split/error_split.png" ] || { echo "report.py did not write error_split.png"; exit 1; }
grep -q "error_split.png.: not drawn" "$work/tiny/summary.md" ||
  { echo "summary.md of an exact model does not say error_split.png is not drawn"; exit 1; }
"$python" - "$work/split.h5" "$work/split" <<'EOF'
import csv, math, os, sys
import h5py
import numpy as np

f = h5py.File(sys.argv[1], "r")
rows = list(csv.DictReader(open(os.path.join(sys.argv[2], "orders.csv"))))
crossed = 0
for row, name in zip(rows, sorted(f["series"])):
    g = f["series"][name]
    cells = [f["cells/%06d" % i] for i in g["cells"][()]]
    # The crossover: from there on every cell's discretisation error is below its model error.
    want = math.nan
    for c, nfe in reversed(list(zip(cells, g["nfe"][()]))):
        if not c.attrs["gte_rms"] < c["model_error_rms"][-1]:
            break
        want = nfe
    got = float(g.attrs["crossover_nfe"])
    if not (got == want or (math.isnan(got) and math.isnan(want))) or float(row["crossover_nfe"]) != got and not math.isnan(got):
        sys.exit(f"series {name}: crossover_nfe {got} (orders.csv {row['crossover_nfe']}), from the cells {want}")
    crossed += not math.isnan(got)
    for c in cells:
        total = c["total_error"][()]
        if not math.isclose(c.attrs["total_rms"], math.sqrt(np.mean(total ** 2)), rel_tol=1e-12):
            sys.exit(f"series {name}: total_rms is not the RMS of total_error")
        if len(c["model_error_rms"]) != len(c["t"]) or len(c["denoiser_error_rms"]) != len(c["t"]):
            sys.exit(f"series {name}: model / denoiser error not one per grid point")
if crossed == 0:
    sys.exit("no series crossed its model error: the check tests nothing")
EOF

# Plan blocks pairing schedules with some solvers only, with samplers that have no strong error
# (pc): every figure is drawn (pc has no GTE curve; schedule panels only where two schedules ran),
# and weak_vs_nfe.png's one legend names every solver of every panel.
cat >"$work/plans.ini" <<EOF2
[run]
out = $work/plans.h5
samples = 4
seeds = 0
sde_refinement = 2
brownian_depth = 12
weak_samples = 256
mmd_block = 64

[sweep]
models = gaussian
spacings = uniform-lambda
nfe = 4 8

[plan.vp]
schedules = vp-linear
solvers = euler-maruyama pc ddim

[plan.ve]
schedules = ve
solvers = euler-maruyama

$gaussian
EOF2
"$pfode" run "$work/plans.ini" -q || { echo "pfode run (plans) failed"; exit 1; }
"$python" - "$src/analysis" "$work/plans.h5" <<'EOF'
import sys
sys.path.insert(0, sys.argv[1])
import report
from pfode_results import load_or_exit

results = load_or_exit(sys.argv[2])
report.main([sys.argv[2]])
fig = report.weak_figure(results)
names = {t.get_text() for legend in fig.legends for t in legend.get_texts()}
want = {"euler-maruyama", "pc", "ddim (ODE)"}
if names != want:
    sys.exit(f"weak_vs_nfe legend {sorted(names)}, want {sorted(want)}")
fig = report.schedule_figure(results)
titles = [ax.get_title() for ax in fig.axes if ax.get_title()]
if len(titles) != 1 or "euler-maruyama" not in titles[0]:
    sys.exit(f"schedule_comparison panels {titles}: want euler-maruyama's only")
EOF
for name in gte_vs_nfe.png schedule_comparison.png weak_vs_nfe.png weak_orders.md; do
  [ -s "$work/plans/$name" ] || { echo "report.py did not write a non-empty $name for the plans file"; exit 1; }
done

# ---- flag explanations from the measured step order q: an adaptive solver (q NaN: it takes its
# own steps) on a slow grid is explained as adaptive, not by the grid; a file written before q
# existed falls back on the grids known to be slow ----
cat >"$work/adaptive.ini" <<EOF2
[run]
out = $work/adaptive.h5
samples = 8
[sweep]
models = gaussian
schedules = vp-linear
spacings = uniform-t
solvers = dopri5 heun
nfe = 10 20 40 80
$gaussian
EOF2
"$pfode" run "$work/adaptive.ini" -q || { echo "pfode run (adaptive) failed"; exit 1; }
"$python" - "$src/analysis" "$work/adaptive.h5" <<'EOF'
import math, sys
sys.path.insert(0, sys.argv[1])
import report
from pfode_results import load_or_exit

series = {s["solver"]: s for s in load_or_exit(sys.argv[2])["series"]}
dopri5, heun = series["dopri5"], series["heun"]
if not math.isnan(dopri5["lambda_step_order"]) or not heun["lambda_step_order"] < report.SLOW_STEP_ORDER:
    sys.exit(f"q: dopri5 {dopri5['lambda_step_order']} (want NaN), heun {heun['lambda_step_order']} (want < 0.9)")
why = report.explanation(dopri5, "GTE", dopri5["order_theory"] + 1, 1)
if not why or "adaptive solvers" not in why[2]:
    sys.exit(f"dopri5 on uniform-t explained as {why}, not as an adaptive solver")
if "keeps a long step" not in report.explanation(heun, "GTE", 1.5, 1)[2]:
    sys.exit("heun on uniform-t (q < 0.9) not explained by its long step")
del heun["lambda_step_order"]  # as read from an older file
if "pre-asymptotic to thousands of NFE" not in report.explanation(heun, "GTE", 1.5, 1)[2]:
    sys.exit("heun on uniform-t in a file without q not explained by the known slow grids")
EOF
