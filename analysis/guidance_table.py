#!/usr/bin/env python3
"""Tables of how guidance changes the solvers (experiments/guidance.ini): per solver and guidance
weight w, the fitted GTE order and error constant C (GTE ~ C NFE^-p over the fit range, C the
geometric mean of GTE NFE^p there), and per w and NFE the solvers ranked by GTE (RMS over samples).
Models are the guided models NAME[w=VALUE] of one results file; Markdown on stdout.

Usage: guidance_table.py RESULTS.h5 [--nfe 8,16,32,64]
"""
import argparse
import math
import re
import sys

import numpy as np

import pfode_results


def weight_of(model):
    found = re.search(r"\[w=([^\]]+)\]$", model)
    return float(found.group(1)) if found else None


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("results")
    parser.add_argument("--nfe", default="8,16,32,64", help="budgets at which solvers are ranked")
    args = parser.parse_args()
    results = pfode_results.load_or_exit(args.results, "guidance_table.py")
    budgets = [int(n) for n in args.nfe.split(",")]
    series = [s for s in results["series"] if weight_of(s["model"]) is not None]
    if not series:
        sys.exit(f"guidance_table.py: {args.results} has no guided models (NAME[w=VALUE])")
    weights = sorted({weight_of(s["model"]) for s in series})
    solvers = list(dict.fromkeys(s["solver"] for s in series))
    by_key = {(s["solver"], weight_of(s["model"])): s for s in series}

    def fit(s):
        p = s.get("gte_order", math.nan)
        if not math.isfinite(p):
            return math.nan, math.nan
        nfe, gte = np.asarray(s["nfe"], float), s["gte_rms"]
        inside = (nfe >= s["gte_fit_nfe_min"]) & (nfe <= s["gte_fit_nfe_max"])
        return p, float(np.exp(np.mean(np.log(gte[inside]) + p * np.log(nfe[inside]))))

    print("GTE order p and error constant C (GTE ~ C NFE^-p) per solver and guidance weight w:\n")
    print("| solver | " + " | ".join(f"w = {w:g}" for w in weights) + " |")
    print("|---|" + "---|" * len(weights))
    for solver in solvers:
        row = []
        for w in weights:
            p, c = fit(by_key[(solver, w)]) if (solver, w) in by_key else (math.nan, math.nan)
            row.append("-" if not math.isfinite(p) else f"{p:.2f} / {c:.2g}")
        print(f"| {solver} | " + " | ".join(row) + " |")

    print("\nSolvers by GTE (best first) at each NFE and w; in brackets the GTE of the best:\n")
    print("| w | " + " | ".join(f"NFE {n}" for n in budgets) + " |")
    print("|---|" + "---|" * len(budgets))
    for w in weights:
        row = []
        for n in budgets:
            scored = []
            for solver in solvers:
                s = by_key.get((solver, w))
                if s is None:
                    continue
                at = np.nonzero(np.asarray(s["nfe_budget"]) == n)[0]
                if at.size:
                    scored.append((float(s["gte_rms"][at[0]]), solver))
            scored.sort()
            row.append(", ".join(name for _, name in scored) + (f" ({scored[0][0]:.1e})" if scored else ""))
        print(f"| {w:g} | " + " | ".join(row) + " |")

    model_error = {}
    for s in series:
        if math.isfinite(s.get("model_error", math.nan)):
            model_error[weight_of(s["model"])] = s["model_error"]
    if model_error:
        print("\nModel error (the guided flow against the class-conditional flow, at t_min): " +
              ", ".join(f"w = {w:g}: {model_error[w]:.3g}" for w in sorted(model_error)))


if __name__ == "__main__":
    main()
