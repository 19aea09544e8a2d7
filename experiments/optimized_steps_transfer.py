#!/usr/bin/python3
"""Does an optimised time grid transfer? The grids `pfode optimize experiments/optimized-steps.ini`
found on the 16-D mixture (VP-linear) are scored on other models: each target is optimised again
with the source's grid file added to its spacings as custom[file=...], so one record holds the
transferred grid, the target's own optimum and the standard spacings on the same held-out states.

Usage (after the source run, from the repository root):
    /usr/bin/python3 experiments/optimized_steps_transfer.py [--pfode build/pfode] [--out results/transfer]
Prints a Markdown table: held-out GTE RMS of the transferred grid, of the target's own optimised grid
and of its best standard spacing or KL-optimal grid (the seed-set transfer is the source's own
held-out column).
"""
import argparse
import os
import subprocess
import sys

import h5py

SOURCE = "experiments/optimized-steps.ini"
SPACINGS = "uniform-t uniform-lambda quadratic-t karras uniform-log-sigma"
# (name, [model.*] keys): another mixture of the same size, and another dimension.
TARGETS = [
    ("mix16-seed2", "kind = random-mixture\ndim = 16\ncomponents = 8\nseed = 2\nspread = 1.5\nstd_min = 0.3\nstd_max = 0.6\n"),
    ("mix8", "kind = random-mixture\ndim = 8\ncomponents = 8\nseed = 1\nspread = 1.5\nstd_min = 0.3\nstd_max = 0.6\n"),
]
PROBLEMS = [("ddim", 5), ("ddim", 10), ("dpm-solver++2m", 5), ("dpm-solver++2m", 10)]


def text(v):
    return v.decode() if isinstance(v, bytes) else str(v)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pfode", default="build/pfode")
    parser.add_argument("--out", default="results/transfer")
    args = parser.parse_args()
    os.makedirs(args.out, exist_ok=True)
    source_h5 = "results/optimized-steps-optimize.h5"
    with h5py.File(source_h5, "r") as f:
        source = {}
        for k in f["optimize"]:
            g = f["optimize"][k]
            if text(g.attrs["schedule"]) == "vp-linear":
                source[(text(g.attrs["solver"]), int(g.attrs["nfe_budget"]))] = (
                    text(g.attrs["grid_file"]), float(g["heldout_gte_rms"][-1]))
    rows = ["| target | solver | NFE | transferred | target's optimum | best standard (name) | transferred / optimum "
            "| transferred / best standard |", "|---|---|---|---|---|---|---|---|"]
    for solver, nfe in PROBLEMS:
        grid_file, source_heldout = source[(solver, nfe)]
        rows.append(f"| mixture16, held-out seed set | {solver} | {nfe} | {source_heldout:.4g} | (the source) | | | |")
        for name, keys in TARGETS:
            ini = os.path.join(args.out, f"{name}.ini")
            with open(ini, "w") as out:
                out.write(f"[run]\nout = {args.out}/{name}.h5\nsamples = 256\nseeds = 0\n\n[sweep]\nmodels = {name}\n"
                          f"schedules = vp-linear\nspacings = {SPACINGS}\nsolvers = ddim\nnfe = 5\n\n"
                          f"[model.{name}]\n{keys}")
            h5 = os.path.join(args.out, f"{name}-{solver}-{nfe}.h5")
            subprocess.run([args.pfode, "optimize", ini, "--out", h5, "--force", "-q",
                            "--set", f"sweep.spacings={SPACINGS} custom[file={grid_file}]",
                            "--set", f"sweep.solvers={solver}", "--set", f"sweep.nfe={nfe}"], check=True)
            with h5py.File(h5, "r") as f:
                g = f["optimize"]["000000"]
                names = text(g["grid_names"][()]).split("\n")
                held = list(g["heldout_gte_rms"][()])
            transferred = held[next(i for i, n in enumerate(names) if n.startswith("custom"))]
            standard = {n: v for n, v in zip(names, held) if n in SPACINGS.split() + ["kl-optimal"]}
            best = min(standard, key=standard.get)
            rows.append(f"| {name} | {solver} | {nfe} | {transferred:.4g} | {held[-1]:.4g} | {standard[best]:.4g} "
                        f"({best}) | {transferred / held[-1]:.3f} | {transferred / standard[best]:.3f} |")
    print("\n".join(rows))


if __name__ == "__main__":
    sys.exit(main())
