"""Figures and tables of a `pfode optimize` file (report.py hands such a file here).

Output in the report folder: optimize_grids.png, optimize_heldout_vs_nfe.png and optimize.md.
Numbers are the file's own (grid_lambda: lambda = log(alpha/sigma) of every grid time).
"""
import math
import os

import h5py
import numpy as np

import plotting
from pfode_results import ResultsError, _attrs, _datasets

FIGURES = {
    "optimize_grids.png": "the grid points of every standard spacing, the dynamic programme's grid (dp) and the "
                          "optimised grid against lambda = log(alpha/sigma), one panel per (schedule, solver, NFE budget); "
                          "lambda rises from t_max (left) to t_min (right)",
    "optimize_heldout_vs_nfe.png": "held-out GTE (RMS or median over samples: the objective) of each grid against NFE, one panel per (schedule, solver), "
                                   "log-log; the optimised grid is drawn thick, dp dashed",
}
# Grids the optimiser adds to the standard spacings (grid_names, in this order, last; with several
# starts "from-<start>" rows come between them).
OWN_GRIDS = ("dp", "optimized")


def own(name):
    """Whether a grid is the optimiser's own (not a standard spacing to beat)."""
    return name in OWN_GRIDS or name.startswith("from-")
# The standard spacings' colours: the matplotlib cycle without dp's (C1) and the optimum's (C3).
STANDARD_COLORS = ["C0", "C2", "C4", "C5", "C6", "C7", "C8", "C9"]


def load(path):
    """One dict per optimised problem: its attributes and datasets, grid_names as a list."""
    try:
        with h5py.File(path, "r") as f:
            problems = []
            for key in sorted(f["optimize"], key=int):
                p = dict(_attrs(f["optimize"][key]), **_datasets(f["optimize"][key]))
                names = p["grid_names"]
                p["grid_names"] = (names.item().decode() if isinstance(names.item(), bytes) else str(names.item())).split("\n")
                problems.append(p)
            provenance = _attrs(f)
            # The statistic the grids were optimised for is the one reported.
            statistic = "median" if provenance.get("objective") == "gte_median" else "rms"
            for p in problems:
                p["heldout"] = p[f"heldout_gte_{statistic}"]
    except (OSError, KeyError) as error:
        raise ResultsError(f"{path}: not a readable pfode optimize file ({error})") from error
    if not problems:
        raise ResultsError(f"{path}: no optimised problems")
    return {"path": path, "stem": os.path.splitext(os.path.basename(path))[0], "problems": problems,
            "provenance": provenance, "statistic": statistic}


def problems_by_panel(problems):
    """(schedule, solver) -> problems by increasing NFE, in the file's order of first appearance."""
    panels = {}
    for p in problems:
        panels.setdefault((p["model"], p["schedule"], p["solver"]), []).append(p)
    for key in panels:
        panels[key].sort(key=lambda p: p["nfe_budget"])
    return panels


def ranking(p):
    """Grid names by increasing held-out GTE RMS (non-finite last)."""
    err = np.asarray(p["heldout"], float)
    order = sorted(range(len(err)), key=lambda g: (not math.isfinite(err[g]), err[g]))
    return [p["grid_names"][g] for g in order]


def best_standard(p):
    """(name, held-out GTE RMS) of the best standard spacing of a problem (NaN when all diverged)."""
    best = (None, math.inf)
    for name, value in zip(p["grid_names"], p["heldout"]):
        if not own(name) and math.isfinite(value) and value < best[1]:
            best = (name, value)
    return best if best[0] else (None, math.nan)


def grids_figure(results):
    panels = problems_by_panel(results["problems"])
    ncols = max(len(v) for v in panels.values())
    fig, axes = plotting.plt.subplots(len(panels), ncols, figsize=(3.6 * ncols, 0.35 * len(
        results["problems"][0]["grid_names"]) * len(panels) + 0.8 * len(panels)), squeeze=False)
    for row, ((model, schedule, solver), problems) in enumerate(panels.items()):
        for col in range(ncols):
            ax = axes[row][col]
            if col >= len(problems):
                ax.axis("off")
                continue
            p = problems[col]
            names = p["grid_names"]
            grid_lambda = np.asarray(p["grid_lambda"], float).reshape(len(names), -1)
            for g, name in enumerate(names):
                lam = grid_lambda[g]
                color = "C3" if name == "optimized" else ("C1" if own(name) else "0.35")
                ax.plot(lam, np.full_like(lam, g), "o-" if name == "optimized" else ".-", lw=0.6,
                        ms=5 if own(name) else 4, color=color)
            ax.set_yticks(range(len(names)))
            ax.set_yticklabels(names if col == 0 else [], fontsize=7)
            ax.tick_params(axis="x", labelsize=7)
            spent = "" if p["nfe"] == p["nfe_budget"] else f", NFE {p['nfe']}"
            ax.set_title(f"{schedule} / {solver} / budget {p['nfe_budget']} ({p['steps']} steps{spent})", fontsize=8)
            if row == len(panels) - 1:
                ax.set_xlabel("lambda = log(alpha/sigma)", fontsize=7)
    fig.suptitle(f"{results['stem']}: time grids against lambda ({results['problems'][0]['model']})", fontsize=10)
    fig.tight_layout(rect=(0, 0, 1, 0.985))
    return fig


def heldout_figure(results):
    panels = problems_by_panel(results["problems"])
    fig, axes = plotting.grid(len(panels), width=4.2, height=3.4, ncols=min(4, len(panels)))
    for ax, ((model, schedule, solver), problems) in zip(axes, panels.items()):
        names = problems[0]["grid_names"]
        # Budgets that buy the same steps (edm-heun: 5 and 6) are one point, at the NFE spent.
        problems = [p for k, p in enumerate(problems) if k == 0 or p["nfe"] != problems[k - 1]["nfe"]]
        nfe = [p["nfe"] for p in problems]
        for g, name in enumerate(names):
            err = [p["heldout"][g] for p in problems]
            style = dict(lw=2.4, color="C3", zorder=3) if name == "optimized" else (
                dict(ls="--", color="C1") if own(name) else dict(lw=1, color=STANDARD_COLORS[g % len(STANDARD_COLORS)]))
            ax.plot(nfe, err, marker="o", ms=3, label=name, **style)
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xticks(nfe)
        ax.set_xticklabels([str(n) for n in nfe])
        ax.xaxis.set_minor_formatter(plotting.matplotlib.ticker.NullFormatter())
        ax.set_xlabel("NFE")
        ax.set_ylabel(f"held-out GTE {results['statistic']}")
        ax.set_title(f"{schedule} / {solver}", fontsize=9)
        ax.legend(fontsize=6)
    fig.suptitle(f"{results['stem']}: held-out global error ({results['problems'][0]['model']})", fontsize=10)
    fig.tight_layout()
    return fig


def markdown(results):
    prov = results["provenance"]
    lines = [f"# Optimised time grids: {os.path.basename(results['path'])}", "",
             f"`{prov.get('command_line', '')}` (git {prov.get('git_commit', '?')}, held-out seed "
             f"{prov.get('heldout_seed', '?')}). Held-out GTE {results['statistic']} over samples of each grid (the objective); `opt/best` is the optimised grid's "
             "over the best standard spacing's; the ranking is by held-out GTE, best first.", ""]
    names = results["problems"][0]["grid_names"]
    lines.append("| model | schedule | solver | NFE budget | NFE | steps | " + " | ".join(names) +
                 " | opt/best | best standard | ranking | wall time |")
    lines.append("|---" * (10 + len(names)) + "|")
    for p in results["problems"]:
        name, value = best_standard(p)
        ratio = p["heldout"][-1] / value if value == value else math.nan
        cells = " | ".join(f"{v:.4g}" for v in p["heldout"])
        lines.append(f"| {p['model']} | {p['schedule']} | {p['solver']} | {p['nfe_budget']} | {p['nfe']} | {p['steps']} | {cells} | "
                     f"{ratio:.3f} | {name} | {' < '.join(ranking(p))} | {p['wall_time']:.1f} s |")
    lines += ["", "Figures:", ""] + [f"- `{name}`: {text}" for name, text in FIGURES.items()]
    return "\n".join(lines) + "\n"


def write_report(results, outdir):
    os.makedirs(outdir, exist_ok=True)
    plotting.save(grids_figure(results), os.path.join(outdir, "optimize_grids.png"))
    plotting.save(heldout_figure(results), os.path.join(outdir, "optimize_heldout_vs_nfe.png"))
    with open(os.path.join(outdir, "optimize.md"), "w") as out:
        out.write(markdown(results))
    return outdir
