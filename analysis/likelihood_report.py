"""Figures and tables of a `pfode likelihood` results file (report.py hands such a file here).

Output in the report folder: likelihood_integration_vs_nfe.png, likelihood_budget.png and
likelihood.md. Numbers are the file's own (the order fits are the ones pfode likelihood wrote).
"""
import math
import os

import h5py
import numpy as np

import plotting
from pfode_results import ResultsError, _attrs, _datasets

PARTS = ("integration", "estimator", "truncation", "prior", "total")
FIGURES = {
    "likelihood_integration_vs_nfe.png": "integration error of log p_0 (exact divergence; RMS over samples, nats) vs "
                                         "NFE per fixed-grid solver, log-log, with the order pfode likelihood fitted "
                                         "and NFE^-p guides; the dotted line is the DOP853 reference's own error",
    "likelihood_budget.png": "RMS over samples of each part of the error of log p_0 (integration, Hutchinson "
                             "estimator, truncation at t_min, prior mismatch) and of the total, for the reference "
                             "and each preset, one panel per model; a part that is exactly 0 has no bar",
}


def load(path):
    """Cells (attributes and per-sample datasets) and order fits of a pfode likelihood file."""
    try:
        with h5py.File(path, "r") as f:
            cells = [dict(_attrs(f["likelihood"][k]), **_datasets(f["likelihood"][k]))
                     for k in sorted(f["likelihood"], key=int)]
            fits = f.get("likelihood_orders")
            if fits is None:
                raise ResultsError(f"{path}: no /likelihood_orders (written by pfode likelihood since the order records)")
            orders = [dict(_attrs(fits[k]), **_datasets(fits[k])) for k in sorted(fits, key=int)]
    except (OSError, KeyError) as error:
        raise ResultsError(f"{path}: not a readable pfode likelihood file ({error})") from error
    if not cells:
        raise ResultsError(f"{path}: no likelihood cells")
    return {"path": path, "stem": os.path.splitext(os.path.basename(path))[0], "cells": cells, "orders": orders}


def as_series(fit):
    """An order record in the shape plotting.draw_convergence draws (its GTE is the integration error)."""
    n = len(fit["nfe"])
    return dict(fit, gte_rms=fit["integration_rms"], gte_order=fit["order"], gte_order_stderr=fit["order_stderr"],
                near_floor=np.asarray(fit["flagged"], bool), status=["ok"] * n)


def floors(results):
    """(model, schedule) -> the reference's integration error RMS."""
    return {(c["model"], c["schedule"]): c["integration_rms"] for c in results["cells"] if c["method"] == "reference"}


def integration_figure(results):
    series = [as_series(f) for f in results["orders"]]
    label = plotting.solver_labeller(series)
    styles_of = plotting.panel_styler(series, label)
    groups, common = plotting.panels(series)
    groups = plotting.split_crowded(groups, label)
    entries = max(len(members) for _, members in groups)
    fig, axes = plotting.grid(len(groups), height=4.4 + 0.17 * entries)
    floor = floors(results)
    for ax, (title, members) in zip(axes, groups):
        plotting.draw_convergence(ax, members, styles_of([label(s) for s in members]), label)
        ax.set_ylabel("integration error of log p_0, RMS (nats)")
        ref = floor.get((members[0]["model"], members[0]["schedule"]))
        if ref is not None and ref > 0:
            ax.axhline(ref, color="0.3", ls=":", lw=1.0)
            ax.set_ylim(min(ax.get_ylim()[0], ref / 3), ax.get_ylim()[1])
            ax.annotate(f"reference {ref:.1e}", (ax.get_xlim()[0], ref), xytext=(3, 2), textcoords="offset points",
                        fontsize=8, color="0.3", va="bottom")
        ax.set_title(title)
    plotting.suptitle(fig, f"Likelihood: integration error vs NFE — {results['stem']}", common)
    return fig


def budget_cells(results):
    """The reference and preset cells (one per model, schedule and method): the budgets the README quotes."""
    return [c for c in results["cells"] if c["nfe_budget"] == 0]


def budget_figure(results):
    by_model = plotting.group(budget_cells(results), ("model",))
    fig, axes = plotting.grid(len(by_model), width=6.0, height=4.6, ncols=2)
    cmap = plotting.plt.get_cmap("tab10")
    for ax, ((model,), cells) in zip(axes, by_model):
        width = 0.8 / len(PARTS)
        for i, part in enumerate(PARTS):
            values = [c[f"{part}_rms"] for c in cells]
            x = np.arange(len(cells)) + (i - (len(PARTS) - 1) / 2) * width
            shown = [v if v > 0 else np.nan for v in values]
            ax.bar(x, shown, width, color=cmap(i), label=part)
        ax.set_yscale("log")
        ax.set_xticks(np.arange(len(cells)))
        ax.set_xticklabels([f"{c['method']}\n{c['schedule']}, t_min {c['t_min']:g}\nNFE {c['nfe_mean']:.0f}" for c in cells],
                           fontsize=8)
        ax.set_ylabel("RMS over samples (nats)")
        ax.set_title(f"{model} (d = {dimension(cells[0])})")
        ax.grid(True, axis="y", which="major", alpha=0.3)
        ax.legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.2), ncol=len(PARTS), frameon=False)
    plotting.suptitle(fig, f"Likelihood: the parts of the error of log p_0 — {results['stem']}", "")
    return fig


def dimension(cell):
    """d from the file's own numbers: bits/dim = nats / (d ln 2)."""
    return round(cell["total_rms"] / (cell["total_rms_bits_per_dim"] * math.log(2)))


def markdown(results):
    rows = ["| model | schedule | method | NFE | " + " | ".join(PARTS) + " | total (bits/dim) |",
            "|---" * (len(PARTS) + 5) + "|"]
    for c in budget_cells(results):
        parts = " | ".join(f"{c[f'{p}_rms']:.3g}" for p in PARTS)
        rows.append(f"| {c['model']} | {c['schedule']} | {c['method']} | {c['nfe_mean']:.0f} | {parts} | "
                    f"{c['total_rms_bits_per_dim']:.3g} |")
    orders = ["| model | schedule | spacing | solver | theory | fitted | fit NFE |", "|---" * 7 + "|"]
    for f in results["orders"]:
        fit = plotting.fmt_order(f["order"], f["order_stderr"])
        span = f"{f['fit_nfe_min']:g}-{f['fit_nfe_max']:g}" if math.isfinite(f["order"]) else "too few points"
        orders.append(f"| {f['model']} | {f['schedule']} | {f['spacing']} | {f['solver']} | {f['order_theory']} | "
                      f"{fit} | {span} |")
    figures = "\n".join(f"- `{name}`: {text}" for name, text in FIGURES.items())
    return (f"# Likelihood error budget: {os.path.basename(results['path'])}\n\n"
            "RMS over samples, nats per sample (bits/dim = nats / (d ln 2)); the parts sum to the total per "
            "sample.\n\n" + "\n".join(rows) + "\n\n## Order of the integration error vs NFE\n\n" + "\n".join(orders)
            + "\n\n## Figures\n\n" + figures + "\n")


def write_report(results, outdir):
    os.makedirs(outdir, exist_ok=True)
    if results["orders"]:
        plotting.save(integration_figure(results), os.path.join(outdir, "likelihood_integration_vs_nfe.png"))
    plotting.save(budget_figure(results), os.path.join(outdir, "likelihood_budget.png"))
    with open(os.path.join(outdir, "likelihood.md"), "w") as out:
        out.write(markdown(results))
    return outdir
