#!/usr/bin/python3
"""Write figures, order tables and a Markdown summary for one pfode results file.

Usage: /usr/bin/python3 analysis/report.py RESULTS.h5 [MORE.h5 ...] [--outdir DIR] [--nfe N] [--tolerance T]
With several files (pfode's own solvers and the scored runs of a sampler outside pfode), one report
draws them side by side. Output (default DIR: a folder named after the file stems, joined by "+",
next to the first file): gte_vs_nfe.png,
lte_vs_lambda.png, global_error_steps.png, spacing_heatmap.png (files with two or more spacings),
schedule_comparison.png (two or more schedules), error_split.png (imperfect models), orders.csv, orders.md, summary.md. With --nfe N: only spacing_heatmap_nfe<N>.png.
A file of `pfode likelihood` (reported alone) gives likelihood_integration_vs_nfe.png,
likelihood_budget.png and likelihood.md instead (analysis/likelihood_report.py); one of
`pfode optimize` (alone) optimize_grids.png, optimize_heldout_vs_nfe.png and optimize.md
(analysis/optimize_report.py).
"""
import argparse
import csv
import math
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import numpy as np  # noqa: E402

import likelihood_report  # noqa: E402
import optimize_report  # noqa: E402
import plotting  # noqa: E402
from pfode_results import ResultsError, group, has_group, load_or_exit, merge  # noqa: E402

# The statuses of cells without a usable GTE (results/records.hpp).
FAILED_STATUSES = ("diverged", "step_control_failed")

# orders.csv columns: (name, how to get it from a series). Numbers are the file's own values.
ORDER_COLUMNS = [
    ("model", lambda s: s["model"]),
    ("schedule", lambda s: s["schedule"]),
    ("spacing", lambda s: s["spacing"]),
    ("solver", lambda s: s["solver"]),
    ("seed", lambda s: s["seed"]),
    ("order_theory", lambda s: s["order_theory"]),
    ("gte_order", lambda s: s["gte_order"]),
    ("gte_order_stderr", lambda s: s["gte_order_stderr"]),
    ("gte_median_order", lambda s: s["gte_median_order"]),
    ("gte_median_order_stderr", lambda s: s["gte_median_order_stderr"]),
    ("lte_order_theory", lambda s: s["lte_order_theory"]),
    ("lte_order", lambda s: s["lte_order"]),
    ("lte_order_stderr", lambda s: s["lte_order_stderr"]),
    ("gte_fit_nfe_min", lambda s: s["gte_fit_nfe_min"]),
    ("gte_fit_nfe_max", lambda s: s["gte_fit_nfe_max"]),
    ("gte_median_fit_nfe_min", lambda s: s["gte_median_fit_nfe_min"]),
    ("gte_median_fit_nfe_max", lambda s: s["gte_median_fit_nfe_max"]),
    ("lte_fit_nfe_min", lambda s: s["lte_fit_nfe_min"]),
    ("lte_fit_nfe_max", lambda s: s["lte_fit_nfe_max"]),
    ("nfe_max", lambda s: s["nfe"][-1].item() if len(s["nfe"]) else math.nan),
    ("gte_rms_at_nfe_max", lambda s: s["gte_rms"][-1].item() if len(s["gte_rms"]) else math.nan),
    # q of the grid's largest lambda step ~ NFE^-q over the GTE fit (1: like 1/NFE; NaN in older files).
    ("lambda_step_order", lambda s: float(s.get("lambda_step_order", math.nan))),
    # Imperfect models (NaN otherwise): the total error's order, the model error, the crossover NFE.
    ("total_order", lambda s: float(s.get("total_order", math.nan))),
    ("model_error", lambda s: float(s.get("model_error", math.nan))),
    ("crossover_nfe", lambda s: float(s.get("crossover_nfe", math.nan))),
]

# Where a panel would hold more solvers than can be told apart (plotting.MAX_CURVES).
SPLIT = f"; panels of more than {plotting.MAX_CURVES} solvers split by theoretical GTE order"
FIGURES = {
    "gte_vs_nfe.png": "global truncation error (RMS over samples) vs NFE per solver, log-log, with the "
                      "fitted order and an NFE^-p guide for each theoretical order p; methods with the same curve are "
                      "drawn once ('ddim = dpm-solver-1'); one panel per model x schedule x spacing; a stochastic "
                      "sampler's GTE is its strong error, and those without one (langevin, pc) are left out" + SPLIT,
    "lte_vs_lambda.png": "local truncation error of each step vs lambda at the step start, each solver at "
                         "its largest NFE: where along the trajectory the error is made" + SPLIT,
    "global_error_steps.png": "global error (RMS over samples) at every grid point vs lambda, each solver at "
                              "one mid NFE budget: how the error builds up along the trajectory" + SPLIT,
    "spacing_heatmap.png": "log10 GTE RMS for every solver x spacing at one NFE budget, one colour scale for "
                           "all panels: which time grid suits which solver (bold: the best, ties included)",
    "schedule_comparison.png": "GTE vs NFE with the noise schedules side by side, one panel per model x spacing "
                               "x solver: how much the schedule alone changes the error",
    "error_split.png": "imperfect models: total error (against the exact PF-ODE, solid) and discretisation error "
                       "(against the model's own PF-ODE, dashed) vs NFE per solver, the model error (grey) and the "
                       "NFE from which the discretisation error stays below it (dotted): more steps stop paying",
    "weak_vs_nfe.png": "weak errors (MMD, covariance and mean error against the exact law) vs NFE per sampler, "
                       "stochastic solid, ODE dashed, with 95 % Monte-Carlo bands: ODE and SDE samplers ranked on "
                       "one distribution metric",
}


def csv_value(value):
    """Repr-level text, so a float parsed back from orders.csv equals the HDF5 value exactly."""
    return "%.17g" % value if isinstance(value, float) else str(value)


def order_rows(results):
    return [{name: get(s) for name, get in ORDER_COLUMNS} for s in results["series"]]


def write_csv(rows, path):
    with open(path, "w", newline="") as out:
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow([name for name, _ in ORDER_COLUMNS])
        writer.writerows([[csv_value(row[name]) for name, _ in ORDER_COLUMNS] for row in rows])


def fmt(value, spec):
    return format(value, spec) if math.isfinite(value) else "n/a"


def fit_range(lo, hi):
    return f"{lo:g}–{hi:g}" if math.isfinite(lo) and math.isfinite(hi) else "no fit"


def markdown_orders(rows):
    """The order table in Markdown, rounded for reading (orders.csv has the exact numbers)."""
    head = ["model", "schedule", "spacing", "solver", "seed", "theory p", "GTE p", "± se", "median-GTE p",
            "LTE p (theory)", "± se", "GTE fit NFE", "λ-step q", "largest NFE", "GTE RMS there"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * 5 + "---:|" * (len(head) - 5)]
    for r in rows:
        cells = [r["model"], r["schedule"], r["spacing"], r["solver"], r["seed"], r["order_theory"],
                 fmt(r["gte_order"], ".3f"), fmt(r["gte_order_stderr"], ".3f"), fmt(r["gte_median_order"], ".3f"),
                 f"{fmt(r['lte_order'], '.3f')} ({r['lte_order_theory']})", fmt(r["lte_order_stderr"], ".3f"),
                 fit_range(r["gte_fit_nfe_min"], r["gte_fit_nfe_max"]), fmt(r["lambda_step_order"], ".2f"),
                 fmt(r["nfe_max"], "g"),
                 fmt(r["gte_rms_at_nfe_max"], ".3e")]
        lines.append("| " + " | ".join(str(c) for c in cells) + " |")
    return "\n".join(lines) + "\n"


# A fit is compared with theory only when it rests on enough of an asymptotic range: at least
# this many points spanning at least this factor in NFE (NFE 5, 10, 20 is too few).
MIN_FIT_POINTS = 4
MIN_FIT_SPAN = 2.0

README = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "README.md")

# A series whose grid's largest lambda step shrinks like NFE^-q with q below this keeps a long step,
# so its fitted orders stay pre-asymptotic (README, "Time-step spacings"). Files without the
# measured q (lambda_step_order) fall back on the grids known to do so on these schedules.
SLOW_STEP_ORDER = 0.9
SLOW_GRIDS = {"uniform-t": ("vp-linear", "vp-cosine", "edm", "flow"),
              "uniform-log-sigma": ("vp-linear", "vp-cosine", "flow"),
              "quadratic-t": ("vp-cosine", "edm", "flow"), "cosine": ("edm",)}


def base_name(label):
    return label.split("[", 1)[0]


def options_in_effect(s):
    return str(s["cell_records"][0].get("options", "")) if s["cell_records"] else ""


MEASURED_ORDERS = ("Measured orders", "measured-orders-experimentsconvergence-ordersini")


def explanation(s, what, measured, components):
    """(README section, its anchor, why) for a known reason a series misses theory, else None.
    components: the number of mixture components of the series' model."""
    solver, theory = base_name(s["solver"]), (s["order_theory"] if what == "GTE" else s["lte_order_theory"])
    if "final=denoise" in options_in_effect(s) and what == "GTE":
        return ("Options", "solvers", "final=denoise ends with x <- alpha D(x) at t_min: the GTE does not converge")
    # q is NaN where the grid plays no part (an adaptive solver's own steps, no GTE fit).
    q = float(s.get("lambda_step_order", math.nan))
    if math.isfinite(q) and q < SLOW_STEP_ORDER:
        return ("Time-step spacings", "time-step-spacings",
                f"{base_name(s['spacing'])} on {s['schedule']} keeps a long step (its largest lambda step shrinks "
                f"like NFE^-{q:.2f}, not 1/NFE): pre-asymptotic")
    if "lambda_step_order" not in s and s["schedule"] in SLOW_GRIDS.get(base_name(s["spacing"]), ()):
        return ("Time-step spacings", "time-step-spacings",
                f"{base_name(s['spacing'])} on {s['schedule']} is pre-asymptotic to thousands of NFE")
    if solver in ("dopri5", "dpm-solver-12", "dpm-solver-23"):
        return MEASURED_ORDERS + ("adaptive solvers are pre-asymptotic at loose tolerances",)
    if solver == "dpm-solver-fast" and s["order_theory"] == 2 and what == "GTE":
        return MEASURED_ORDERS + ("its order-1 last step overtakes the order-3 steps only at thousands of NFE",)
    if what == "GTE" and components > 1 and abs(s["gte_median_order"] - theory) < abs(measured - theory):
        return MEASURED_ORDERS + (f"the median GTE converges at {s['gte_median_order']:.2f}: a few samples "
                                  "ending near another mode dominate the RMS",)
    if what == "GTE" and components == 1 and measured > theory and (
            s["solver"] == "deis-3[basis=log_rho]" or "coefficients=taylor" in s["solver"]):
        return MEASURED_ORDERS + ("on the Gaussian's linear flow the O(h^3) error term of this exact-weight "
                                  "integrator in lambda nearly cancels",)
    if what == "LTE" and components == 1 and measured > theory:
        return MEASURED_ORDERS + ("the per-step LTE of these budgets nears the reference's error floor",)
    return None


def fit_size(s, prefix):
    """(points, NFE span) of a series' fit."""
    lo, hi = s[f"{prefix}_fit_nfe_min"], s[f"{prefix}_fit_nfe_max"]
    if not (math.isfinite(lo) and math.isfinite(hi)):
        return 0, 1.0
    nfe = np.asarray(s["nfe"], float)
    return int(((nfe >= lo) & (nfe <= hi)).sum()), hi / lo


def order_flags(series, tolerance, readme_link=None, models=None):
    """(flags, too_few): series whose fitted GTE or LTE order misses theory by more than tolerance
    over an asymptotic range of enough points, with the README's explanation where it has one;
    and those that miss it from too few points to say so, or have no fit (LTE only where the run
    recorded it)."""
    flags, too_few = [], []
    for s in series:
        if s["order_theory"] <= 0:  # a scored run that stated no theoretical order
            continue
        name = " / ".join(str(s[k]) for k in ("model", "schedule", "spacing", "solver")) + f" / seed {s['seed']}"
        checks = [("GTE", "gte", s["gte_order"], s["order_theory"])]
        if any(len(c.get("lte_rms", ())) for c in s["cell_records"]):
            checks.append(("LTE", "lte", s["lte_order"], s["lte_order_theory"]))
        for what, prefix, measured, theory in checks:
            points, span = fit_size(s, prefix)
            if not math.isfinite(measured):
                too_few.append(f"{name}: no {what} order fit (fewer than 3 usable points in a row)")
            elif abs(measured - theory) <= tolerance:
                continue
            else:
                components = int((models or {}).get(s["model"], {}).get("components", 1))
                why = explanation(s, what, measured, components)
                if why:
                    section, anchor, reason = why
                    where = f"[README: {section}]({readme_link}#{anchor})" if readme_link else f"README: {section}"
                    why = f"; {reason} ({where})"
                if points < MIN_FIT_POINTS or span < MIN_FIT_SPAN:
                    too_few.append(f"{name}: {what} order {measured:.3f} from {points} points (NFE "
                                   f"{s[prefix + '_fit_nfe_min']:g}–{s[prefix + '_fit_nfe_max']:g}): too few points"
                                   f"{why or ''}")
                else:
                    flags.append(f"{name}: {what} order {measured:.3f}, theory {theory} "
                                 f"(off by {measured - theory:+.3f}){why or ''}")
    return flags, too_few


# ---- figures --------------------------------------------------------------------------------

def lowest_seed(groups):
    """Panels' cells of the lowest seed only (per-step curves of several seeds would overlap)."""
    out = []
    for title, cells in groups:
        seed = min(c["seed"] for c in cells)
        note = f", seed {seed}" if len({c["seed"] for c in cells}) > 1 else ""
        out.append((title + note, [c for c in cells if c["seed"] == seed]))
    return out


def positive(x, y):
    keep = np.isfinite(y) & (y > 0)
    return x[keep], y[keep]


def per_step_figure(results, title, ylabel, pick, curve, empty="no per-step data recorded"):
    """Panels of per-step curves vs lambda, split by order when crowded; pick(cells of one solver,
    cells of the panel by solver) chooses the cell to show, curve(cell) returns (lambda, values)."""
    label = plotting.solver_labeller(results["cells"])
    styles_of = plotting.panel_styler(results["cells"], label)
    groups, common = plotting.panels(results["cells"])
    groups = lowest_seed(plotting.split_crowded(groups, label))
    entries = max(len({label(c) for c in cells}) for _, cells in groups)
    fig, axes = plotting.grid(len(groups), height=3.6 + 0.17 * entries)  # room for the legend below
    for ax, (panel_title, cells) in zip(axes, groups):
        by_label = {}
        for c in cells:
            by_label.setdefault(label(c), []).append(c)
        styles = styles_of(by_label)
        names = list(by_label)
        picked = [pick(by_label[name], by_label) for name in names]
        curves = [positive(*curve(cell)) for cell in picked]
        # One method under several names (same NFE, same curve) is drawn once, labelled 'a = b'.
        for members in plotting.same_curves([(np.append(x, c["nfe"]), y) for (x, y), c in zip(curves, picked)]):
            cell, (x, y) = picked[members[0]], curves[members[0]]
            color, marker = styles[names[members[0]]]
            if len(x):
                ax.plot(x, y, color=color, marker=marker, ms=2.5, lw=1,
                        label=f"{plotting.joined([names[m] for m in members])}, NFE {cell['nfe']} ({cell['steps']} steps)")
        ax.set_title(panel_title)
        if not ax.lines:
            ax.text(0.5, 0.5, empty, transform=ax.transAxes, ha="center", va="center")
            ax.set_xticks([]), ax.set_yticks([])
            continue
        ax.set_yscale("log")
        ax.set_xlabel(plotting.LAMBDA_LABEL, fontsize=9)
        ax.set_ylabel(ylabel)
        ax.grid(True, alpha=0.3)
        ax.legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.2), frameon=False)  # off the curves
    plotting.suptitle(fig, f"{title} — {results['stem']}", common)
    return fig


def lte_figure(results):
    return per_step_figure(
        results, "Local truncation error per step, each solver at its largest NFE",
        "LTE per step\n(RMS over samples)",
        lambda members, _: max(members, key=lambda c: c["nfe_budget"]),
        lambda c: (c["lambda"][:len(c["lte_rms"])], c["lte_rms"]), "no LTE recorded (run with lte = true)")


def mid_budget(by_label):
    """The middle NFE budget among those every solver of the panel ran."""
    common = set.intersection(*({c["nfe_budget"] for c in members} for members in by_label.values()))
    budgets = sorted(common) or sorted({c["nfe_budget"] for m in by_label.values() for c in m})
    return budgets[len(budgets) // 2]


def global_error_figure(results):
    def pick(members, by_label):
        budget = mid_budget(by_label)
        return min(members, key=lambda c: (abs(c["nfe_budget"] - budget), c["nfe_budget"]))
    return per_step_figure(results, "Global error along the trajectory at a mid NFE budget",
                           "global error at grid point\n(RMS over samples)", pick,
                           lambda c: (c["lambda"], c["error_rms"]))


def split_series(results):
    """Series of imperfect models: they carry the error split (model_error, crossover_nfe)."""
    return [s for s in results["series"] if np.isfinite(s.get("model_error", np.nan))]


def error_split_figure(results):
    """Imperfect models (DESIGN.md section 4): per solver, the total error (against the exact
    PF-ODE, solid) and the discretisation error (against the model's own PF-ODE, dashed) vs NFE,
    the model error (the two references apart at t_N, grey) and, on the NFE axis, where the
    discretisation error falls below the model error for good (more steps stop paying there)."""
    series = split_series(results)
    label = plotting.solver_labeller(series)
    styles_of = plotting.panel_styler(series, label)
    groups, common = plotting.panels(series)
    groups = plotting.split_crowded(groups, label)
    entries = max(len(members) for _, members in groups)
    fig, axes = plotting.grid(len(groups), height=4.4 + 0.17 * entries)
    for ax, (title, members) in zip(axes, groups):
        styles = styles_of([label(s) for s in members])
        for s in members:
            color, marker = styles[label(s)]
            nfe = np.asarray(s["nfe"], float)
            total = np.array([c["total_rms"] for c in s["cell_records"]], float)
            crossover = s.get("crossover_nfe", np.nan)
            where = f", pays up to NFE {crossover:g}" if np.isfinite(crossover) else ""
            ax.plot(*positive(nfe, total), color=color, marker=marker, ms=4, lw=1.3,
                    label=f"{label(s)}: total (order {plotting.fmt_order(s.get('total_order', np.nan))}){where}")
            ax.plot(*positive(nfe, s["gte_rms"]), color=color, marker=marker, ms=3, lw=1, ls=(0, (4, 2)), mfc="white")
            if np.isfinite(crossover):
                ax.axvline(crossover, color=color, lw=0.8, ls=":", zorder=1)
        model_error = float(np.median([s["model_error"] for s in members]))
        ax.axhline(model_error, color="0.4", lw=1.2, ls="-.", label=f"model error {model_error:.3g}")
        ax.plot([], [], color="0.3", lw=1, ls=(0, (4, 2)), label="dashed: discretisation error")
        ax.set_yscale("log")
        plotting.log2_nfe_axis(ax)
        ax.set_xlabel(plotting.NFE_LABEL), ax.set_ylabel("error at t_N (RMS over samples)")
        ax.grid(True, which="major", alpha=0.3)
        ax.set_title(title)
        ax.legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.16), frameon=False)
    plotting.suptitle(fig, f"Total, discretisation and model error vs NFE — {results['stem']}", common)
    return fig


def heatmap_budget(cells, requested):
    """--nfe, else the largest budget that every spacing of the panel ran."""
    if requested:
        return requested
    per_spacing = [{c["nfe_budget"] for c in members} for _, members in group(cells, ("spacing",))]
    common = set.intersection(*per_spacing)
    return max(common) if common else None


def heatmap_grid(cells, budget):
    """(solvers, spacings, log10 GTE grid, failure text grid, seeds) of one panel at one budget."""
    solvers = list(dict.fromkeys(c["solver"] for c in cells))
    spacings = list(dict.fromkeys(c["spacing"] for c in cells))
    grid = np.full((len(solvers), len(spacings)), np.nan)
    failed = np.full(grid.shape, "", dtype=object)  # what went wrong in a cell (empty: nothing)
    for (solver, spacing), members in group([c for c in cells if c["nfe_budget"] == budget], ("solver", "spacing")):
        i, j = solvers.index(solver), spacings.index(spacing)
        gte = np.array([m["gte_rms"] for m in members], float)
        statuses = [m["status"] for m in members if m["status"] != "ok"]
        failed[i, j] = statuses[0] if statuses else ("" if np.all(np.isfinite(gte)) else "no finite GTE")
        if not failed[i, j] and np.all(gte > 0):
            grid[i, j] = np.mean(np.log10(gte))  # geometric mean over seeds
    return solvers, spacings, grid, failed, {c["seed"] for c in cells}


def best_spacings(row):
    """Columns of the best value in a row of log10 GTE, ties included: every value that prints
    the same as the best to three digits (as the cells show it)."""
    if not np.isfinite(row).any():
        return set()
    best = f"{10 ** np.nanmin(row):.2e}"
    return {j for j, v in enumerate(row) if math.isfinite(v) and f"{10 ** v:.2e}" == best}


def heatmap_figure(results, requested_nfe=None):
    """Solver x spacing heatmap of log10 GTE RMS at one NFE budget, one panel per model x schedule,
    all panels on one colour scale (one colour bar) so equal errors get equal colours. Solvers
    are rows: many solvers make the figure taller instead of crowding the axis labels."""
    groups, common = plotting.panels(results["cells"], ("model", "schedule"))
    panels = [(title, heatmap_budget(cells, requested_nfe), cells) for title, cells in groups]
    grids = [heatmap_grid(cells, budget) for _, budget, cells in panels]
    finite = np.concatenate([g[2][np.isfinite(g[2])] for g in grids])
    low, high = (finite.min(), finite.max()) if finite.size else (0.0, 1.0)
    if high - low < 1e-6:  # one value everywhere: a visible range around it
        low, high = low - 0.5, high + 0.5
    fig, axes = plotting.grid(len(groups), width=2.6 + 1.1 * len({c["spacing"] for c in results["cells"]}),
                              height=2.0 + 0.3 * len({c["solver"] for c in results["cells"]}), ncols=2)
    middle = (low + high) / 2
    image = None
    for ax, (panel_title, budget, cells), (solvers, spacings, grid, failed, seeds) in zip(axes, panels, grids):
        image = ax.imshow(np.ma.masked_invalid(grid), cmap="viridis", aspect="auto", vmin=low, vmax=high)
        # Bold: the best spacing for each solver, every tied one with it.
        best = {i: best_spacings(grid[i]) for i in range(len(solvers))}
        ties = any(len(b) > 1 for b in best.values())
        for (i, j), value in np.ndenumerate(grid):
            text = failed[i, j].replace("_", " ") if failed[i, j] else ("n/a" if not math.isfinite(value) else f"{10 ** value:.2e}")
            ax.text(j, i, text, ha="center", va="center", fontsize=8, weight="bold" if j in best[i] else None,
                    # Masked (failed, n/a) cells are blank: dark text; dark colours: white text.
                    color="black" if not math.isfinite(value) or value >= middle else "white")
        ax.set_xticks(range(len(spacings)), spacings, rotation=30, ha="right")  # long spacing labels
        ax.set_yticks(range(len(solvers)), solvers)
        ax.set_xlabel("time-step spacing"), ax.set_ylabel("solver")
        note = f", geometric mean over {len(seeds)} seeds" if len(seeds) > 1 else ""
        at = f"NFE budget {budget}" if budget else "no NFE budget common to all spacings"
        key = ""
        if any(best.values()):
            key = "\nbold: best spacing for each solver" + (" (ties: equal to 3 digits)" if ties else "")
        ax.set_title(f"{panel_title}, {at}{note}{key}", fontsize=10)
    # One colour bar for every panel, beside the last column (constrained layout keeps it clear of
    # the panels and their labels).
    fig.colorbar(image, ax=axes, label="log10 GTE RMS (lower is better)", shrink=0.9)
    plotting.suptitle(fig, f"GTE by solver and spacing — {results['stem']}", common)
    return fig


def schedule_figure(results):
    """Schedules side by side: GTE vs NFE with one curve per schedule, one panel per model x
    spacing x solver (and seed), so how much the schedule alone changes the error is read off
    one panel. Drawn for files with two or more schedules."""
    series = results["series"]
    keys = ("model", "spacing", "solver")
    groups, common = plotting.panels(series, keys)
    # A panel whose solver ran on one schedule compares nothing (plans may pair schedules with some solvers only).
    groups = [g for g in groups if len({s["schedule"] for s in g[1]}) > 1] or groups
    schedules = list(dict.fromkeys(s["schedule"] for s in series))
    styles = plotting.solver_styles(schedules)
    fig, axes = plotting.grid(len(groups), height=4.4 + 0.17 * len(schedules))
    for ax, (title, members) in zip(axes, groups):
        by_schedule = [dict(s, solver=s["schedule"]) for s in members]  # label the curves by schedule
        plotting.draw_convergence(ax, by_schedule, styles, lambda s: s["solver"])
        ax.set_title(title)
    aligned = "common s interval" if any("common_s_interval = true" in line for line in
                                          results["config"].splitlines()) else "each schedule's own t range"
    plotting.suptitle(fig, f"GTE vs NFE by noise schedule ({aligned}) — {results['stem']}", common)
    return fig


WEAK_METRICS = (("weak_mmd", "MMD"), ("weak_covariance", "covariance error"), ("weak_mean", "mean error"))


def stochastic(cell):
    """A stochastic sampler's cell: it ran on a Brownian path."""
    return cell.get("brownian_depth", 0) > 0


def weak_figure(results):
    """The weak error of every cell that has one, against NFE: one row per distance (MMD,
    covariance, mean), one column per (model, schedule, spacing); stochastic samplers solid, ODE
    solvers dashed, the 95 % Monte-Carlo interval shaded and unresolved points (bias within the
    noise) drawn hollow. This is the ODE-vs-SDE comparison at equal NFE."""
    cells = [c for c in results["cells"] if c.get("weak_samples", 0) > 0]
    groups, common = plotting.panels(cells)
    labels = list(dict.fromkeys(c["solver"] for c in cells))
    styles = plotting.solver_styles(labels)
    fig, axes = plotting.grid(len(groups) * len(WEAK_METRICS), height=4.4,
                              ncols=len(groups))
    for row, (field, name) in enumerate(WEAK_METRICS):
        for col, (title, members) in enumerate(groups):
            ax = axes[row * len(groups) + col]
            # Intervals reaching 0 are drawn down to half the panel's smallest positive value.
            positive = [v for c in members for v in (c[field], c[field + "_high"]) if v > 0]
            floor = 0.5 * min(positive) if positive else 1e-300
            for solver, curve in group(members, ("solver",)):
                curve = sorted(curve, key=lambda c: c["nfe_mean"])
                x = np.array([c["nfe_mean"] for c in curve])
                y, low, high = (np.array([c[field + suffix] for c in curve]) for suffix in ("", "_low", "_high"))
                resolved = np.array([bool(c[field + "_significant"]) for c in curve])
                colour, marker = styles[solver[0]]
                dashed = not stochastic(curve[0])
                ax.plot(x, np.where(y > 0, y, np.nan), "--" if dashed else "-", color=colour,
                        label=solver[0] + (" (ODE)" if dashed else ""))
                ax.fill_between(x, np.maximum(low, floor), np.maximum(high, floor), color=colour, alpha=0.12, linewidth=0)
                ax.plot(x[resolved], y[resolved], marker, color=colour, linestyle="none")
                ax.plot(x[~resolved & (y > 0)], y[~resolved & (y > 0)], marker, color=colour, linestyle="none",
                        markerfacecolor="none")
            ax.set_yscale("log")
            plotting.log2_nfe_axis(ax)
            ax.set_xlabel(plotting.NFE_LABEL)
            ax.set_ylabel(f"weak {name}")
            ax.set_title(title)
            ax.grid(True, which="both", alpha=0.3)
    # One legend for the figure: plan blocks may give each panel different solvers.
    handles = {}
    for ax in axes:
        for handle, text in zip(*ax.get_legend_handles_labels()):
            handles.setdefault(text, handle)
    fig.legend(list(handles.values()), list(handles), loc="upper center", bbox_to_anchor=(0.5, 0),
               ncol=min(4, len(handles)), fontsize=9, frameon=False)
    plotting.suptitle(fig, f"Weak error (law of the samples vs the exact p(x; t_N)) vs NFE — {results['stem']}",
                      common)
    return fig


def weak_order_rows(results):
    """Series with weak errors: theory and the fitted orders of the three distances."""
    rows = []
    for s in results["series"]:
        if not any(c.get("weak_samples", 0) > 0 for c in s["cell_records"]):
            continue
        row = {key: s[key] for key in ("model", "schedule", "spacing", "solver", "seed")}
        row["strong theory"] = s["cell_records"][0].get("strong_order_theory", s["order_theory"])
        row["strong"] = s["gte_order"] if stochastic(s["cell_records"][0]) else float("nan")
        row["weak theory"] = s.get("weak_order_theory", 0)
        for field, _ in WEAK_METRICS:
            row[field] = s.get(field + "_order", float("nan"))
            row[field + "_se"] = s.get(field + "_order_stderr", float("nan"))
        rows.append(row)
    return rows


def markdown_weak_orders(rows):
    out = ("| model | schedule | spacing | solver | seed | strong theory | strong | weak theory | MMD | "
           "covariance | mean |\n|---|---|---|---|---|---:|---:|---:|---:|---:|---:|\n")
    for r in rows:
        weak = [plotting.fmt_order(r[f], r[f + "_se"]) for f, _ in WEAK_METRICS]
        out += (f"| {r['model']} | {r['schedule']} | {r['spacing']} | {r['solver']} | {r['seed']} | "
                f"{r['strong theory'] or 'none'} | {plotting.fmt_order(r['strong'])} | {r['weak theory'] or 'none'} | "
                + " | ".join(weak) + " |\n")
    return out


# ---- summary --------------------------------------------------------------------------------

def cell_counts(results):
    lines = ["| model | schedule | spacing | cells | ok | diverged | step control failed | near floor |",
             "|---|---|---|---:|---:|---:|---:|---:|"]
    for key, cells in group(results["cells"], plotting.PANEL_KEYS):
        count = {status: sum(c["status"] == status for c in cells) for status in FAILED_STATUSES + ("ok",)}
        floor = sum(bool(c["near_floor"]) for c in cells)
        lines.append(f"| {' | '.join(key)} | {len(cells)} | {count['ok']} | {count['diverged']} | "
                     f"{count['step_control_failed']} | {floor} |")
    return "\n".join(lines)


def reference_notes(results):
    """Reference solves, with notes on what limits how small an error the file can resolve."""
    lines = ["| reference | times | tolerance | NFE mean | error estimate | exact error | failed samples |",
             "|---|---:|---:|---:|---:|---:|---:|"]
    notes = []
    for name, r in results["references"].items():
        exact = "n/a" if r["exact_error"] < 0 else f"{r['exact_error']:.2e}"
        lines.append(f"| {name} | {r['times']} | {r['tolerance']:.0e} | {r['nfe_mean']:.0f} | "
                     f"{r['error_estimate']:.2e} | {exact} | {r['failed_samples']} |")
        if r["error_estimate"] == 0:
            notes.append(f"{name}: the reference error estimate is exactly 0, so no cell can be marked near_floor"
                         + (f" (the closed-form error is {exact})." if r["exact_error"] > 0 else "."))
        elif r["exact_error"] > r["error_estimate"]:
            notes.append(f"{name}: the closed-form error ({exact}) exceeds the estimate "
                         f"({r['error_estimate']:.2e}), so near_floor may miss cells at the floor.")
        if r["failed_samples"]:
            notes.append(f"{name}: {r['failed_samples']} reference samples failed.")
    return "\n".join(lines), notes


def summary(results, rows, tolerance, not_drawn, readme_link=None):
    """not_drawn: {figure name: why it was not drawn}; readme_link: the README relative to the
    summary's folder (links of the flags)."""
    p = results["provenance"]
    prov = [("pfode version", "pfode_version"), ("git commit", "git_commit"), ("Kokkos version", "kokkos_version"),
            ("execution space", "execution_space"), ("MPI ranks", "mpi_ranks"), ("host", "host"),
            ("UTC start", "utc_start"), ("UTC end", "utc_end"), ("command line", "command_line"),
            ("config file", "config_path")]
    cells = results["cells"]
    ok = sum(c["status"] == "ok" for c in cells)
    floor = sum(bool(c["near_floor"]) for c in cells)
    refs, notes = reference_notes(results)
    flags, too_few = order_flags(results["series"], tolerance, readme_link, results["models"])
    if "external_runs" in p:
        prov += [("scored runs", "external_runs"), ("problem file", "problem_file"), ("problem id", "problem_id")]
    files = " + ".join(os.path.basename(path) for path, _ in results["sources"])
    out = [f"# pfode report: {files}", "", "## Provenance", ""]
    if len(results["sources"]) > 1:
        out += ["Of the first file; the others:", ""]
        out += [f"- `{path}`: `{q.get('command_line', 'n/a')}` ({q.get('utc_end', 'n/a')})" for path, q in
                results["sources"][1:]] + [""]
    out += ["| | |", "|---|---|"]
    out += [f"| {label} | `{p.get(key, 'n/a')}` |" for label, key in prov]
    out += ["", "## Cells", "",
            f"{len(cells)} cells: {ok} ok, {len(cells) - ok} not (a fixed-grid solver diverged, or an adaptive "
            f"one's step control gave up); {floor} near the reference-error floor "
            f"(GTE within 10x of the reference error; excluded from the order fits).", "", cell_counts(results),
            "", "## Reference solutions", "", refs, ""]
    out += [f"- {n}" for n in notes] + ([""] if notes else [])
    out += ["## Measured convergence orders", "",
            "Least-squares slopes of log error vs log NFE over each series' asymptotic range (the fit NFE "
            "range); theory: GTE order p, LTE order p + 1. Exact numbers: orders.csv.", "", markdown_orders(rows),
            f"## Flags (measured order off theory by more than {tolerance:g})", "",
            f"Only fits over at least {MIN_FIT_POINTS} points spanning a factor {MIN_FIT_SPAN:g} or more in NFE are "
            "compared with theory; a known reason is named with the README section that explains it.", ""]
    out += [f"- {f}" for f in flags] or [f"None: every such GTE and LTE order is within {tolerance:g} of theory."]
    if too_few:
        out += ["", "### Too few points to compare with theory", ""] + [f"- {f}" for f in too_few]
    out += ["", "## Figures", ""] + [f"- `{name}`: {not_drawn.get(name, text)}." for name, text in FIGURES.items()]
    out += ["", "## Configuration", "", "```ini", results["config"].rstrip(), "```", ""]
    return "\n".join(out)


def report_alone(parser, args, module, command):
    """The report of one file of `pfode COMMAND` (module: likelihood_report or optimize_report)."""
    if len(args.results) > 1 or args.nfe is not None:
        parser.exit(2, f"{parser.prog}: error: a pfode {command} file is reported alone (no other file, no --nfe)\n")
    path = args.results[0]
    try:
        results = module.load(path)
    except ResultsError as error:
        parser.exit(2, f"{parser.prog}: error: {error}\n")
    print(module.write_report(results, args.outdir or os.path.join(os.path.dirname(path), results["stem"])))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("results", nargs="+", help="pfode results files (HDF5), e.g. pfode run's and pfode score's")
    parser.add_argument("--outdir", help="output folder (default: <stem>/ next to the first file, the stems joined "
                        "by '+' for several)")
    parser.add_argument("--nfe", type=int, help="draw only the spacing heatmap at this NFE budget, as "
                        "spacing_heatmap_nfe<N>.png, and leave the rest of the report as it is")
    parser.add_argument("--tolerance", type=float, default=0.15,
                        help="flag series whose order misses theory by more than this (default 0.15)")
    args = parser.parse_args(argv)
    for module, command in ((likelihood_report, "likelihood"), (optimize_report, "optimize")):
        if any(has_group(p, command) for p in args.results):  # their own groups, reported alone
            report_alone(parser, args, module, command)
            return
    results = merge([load_or_exit(path) for path in args.results])

    def fail(message):
        parser.exit(2, f"{parser.prog}: error: {results['path']}: {message}\n")

    if not results["series"]:
        fail("no convergence series in the file")
    budgets = sorted({c["nfe_budget"] for c in results["cells"]})
    if args.nfe is not None and args.nfe not in budgets:
        fail(f"no NFE budget {args.nfe}; the file's budgets: {' '.join(map(str, budgets))}")
    spacings = sorted({c["spacing"] for c in results["cells"]})
    # A heatmap of one spacing would be one row of colours comparing nothing.
    no_heatmap = f"one spacing ({spacings[0]}); the spacing heatmap needs two or more" if len(spacings) < 2 else ""
    if args.nfe is not None and no_heatmap:
        fail(no_heatmap)
    outdir = args.outdir or os.path.join(os.path.dirname(args.results[0]), results["stem"])
    os.makedirs(outdir, exist_ok=True)

    def path(name):
        return os.path.join(outdir, name)

    if args.nfe is not None:
        # The other outputs do not depend on the budget: a heatmap per budget joins the report.
        print(plotting.save(heatmap_figure(results, args.nfe), path(f"spacing_heatmap_nfe{args.nfe}.png")))
        return
    plotting.save(plotting.convergence_figure(results), path("gte_vs_nfe.png"))
    plotting.save(lte_figure(results), path("lte_vs_lambda.png"))
    plotting.save(global_error_figure(results), path("global_error_steps.png"))
    not_drawn = {}
    if no_heatmap:
        not_drawn["spacing_heatmap.png"] = f"not drawn: {no_heatmap}"
        print(f"spacing_heatmap.png not drawn: {no_heatmap}")
    else:
        plotting.save(heatmap_figure(results), path("spacing_heatmap.png"))
    if len({c["schedule"] for c in results["cells"]}) < 2:
        not_drawn["schedule_comparison.png"] = "not drawn: one schedule; the comparison needs two or more"
    else:
        plotting.save(schedule_figure(results), path("schedule_comparison.png"))
    if any(c.get("weak_samples", 0) > 0 for c in results["cells"]):
        plotting.save(weak_figure(results), path("weak_vs_nfe.png"))
        with open(path("weak_orders.md"), "w") as out:
            out.write("# Strong and weak orders: " + " + ".join(os.path.basename(p) for p in args.results)
                      + "\n\nStrong: the GTE fit against the same sampler's refined run on the same Brownian path. "
                      "Weak: fits over the cells whose bias the Monte Carlo resolves (n/a: fewer than 3).\n\n"
                      + markdown_weak_orders(weak_order_rows(results)))
    else:
        not_drawn["weak_vs_nfe.png"] = "not drawn: no cell with weak errors (run.weak_samples = 0)"
    if split_series(results):
        plotting.save(error_split_figure(results), path("error_split.png"))
    else:
        not_drawn["error_split.png"] = "not drawn: no imperfect model (kind = perturbed)"
    rows = order_rows(results)
    write_csv(rows, path("orders.csv"))
    with open(path("orders.md"), "w") as out:
        out.write(f"# Convergence orders: {' + '.join(os.path.basename(p) for p in args.results)}\n\n"
                  + markdown_orders(rows))
    with open(path("summary.md"), "w") as out:
        out.write(summary(results, rows, args.tolerance, not_drawn, os.path.relpath(README, outdir)))
    print(outdir)


if __name__ == "__main__":
    main()
