#!/usr/bin/python3
"""Throughput of the weak error: samples per CPU second of one cell, and the Brownian tree's share.

A weak cell runs `run.weak_samples` samples through the sampler and measures their law (mean,
covariance, exact-target MMD). This script times one cell per (solver, brownian_depth) on the
experiment's 2-D mixture (vp-linear, uniform-lambda), as `pfode run` does it, from the CPU time of
the whole process (user + system, so a busy shared machine matters little) minus that of the same
run with run.weak_samples = 0. A query of the Brownian tree draws depth + 1 nodes (one Philox block
each), so the stochastic samplers' cost is fitted as a + b (depth + 1) per sample-step: b is one
node's cost, and the ODE solver (ddim, no path) at the same NFE plus b what a per-step
increment-only draw would cost.

Usage: /usr/bin/python3 bench/weak_throughput.py [--pfode build/pfode] [--samples 100000] [--nfe 32]
           [--depths 8 16 26] [--solvers euler-maruyama dpm++2m-sde] [--rounds 2]
"""
import argparse, os, resource, subprocess, sys, tempfile

import h5py
import numpy as np

CONFIG = """[run]
samples = 8
seeds = 0
lte = false
sde_refinement = 2
brownian_depth = {depth}
weak_samples = {weak}
mmd_block = 1024

[sweep]
models = mixture
schedules = vp-linear
spacings = uniform-lambda
solvers = {solver}
nfe = {nfe}

[model.mixture]
kind = mixture
dim = 2
weights = 0.5 0.3 0.2
means = -1 0 ; 1 0.5 ; 0 -1
stds = 0.4 0.5 ; 0.5 0.35 ; 0.45 0.4
"""


def cpu_seconds(pfode, work, solver, depth, weak, nfe):
    """CPU seconds of `pfode run` on one cell, and the cell's weak_wall_time and step count."""
    config = os.path.join(work, "cell.ini")
    with open(config, "w") as f:
        f.write(CONFIG.format(depth=depth, weak=weak, solver=solver, nfe=nfe))
    out = os.path.join(work, "cell.h5")
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    subprocess.run([pfode, "run", config, "-o", out, "--force", "-q"], check=True, env=dict(os.environ, OMP_NUM_THREADS="1"))
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    with h5py.File(out, "r") as f:
        cell = next(iter(f["cells"].values()))
        wall, steps = float(cell.attrs.get("weak_wall_time", 0.0)), int(cell.attrs["steps"])
    return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime), wall, steps


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--pfode", default=os.path.join(here, "..", "build", "pfode"))
    ap.add_argument("--samples", type=int, default=100000, help="run.weak_samples of the timed cells")
    ap.add_argument("--nfe", type=int, default=32)
    ap.add_argument("--depths", type=int, nargs="+", default=[8, 16, 26], help="run.brownian_depth values")
    ap.add_argument("--solvers", nargs="+", default=["euler-maruyama", "dpm++2m-sde"],
                    help="stochastic samplers (the ODE solver ddim is always timed)")
    ap.add_argument("--rounds", type=int, default=2, help="each timing keeps the least CPU time of this many runs")
    a = ap.parse_args()
    if a.samples < 1024 or len(a.depths) < 1:
        sys.exit("weak_throughput.py: error: --samples must be >= 1024 and --depths non-empty")
    pfode = os.path.abspath(a.pfode)
    work = tempfile.mkdtemp(prefix="pfode_weak_throughput_")

    def weak_cpu(solver, depth):
        best = None
        for _ in range(a.rounds):  # interleaved with the baseline, so a slow spell weighs on both
            full, wall, steps = cpu_seconds(pfode, work, solver, depth, a.samples, a.nfe)
            base, _, _ = cpu_seconds(pfode, work, solver, depth, 0, a.nfe)
            if best is None or full - base < best[0]:
                best = (full - base, wall, steps)
        return best

    print(f"weak cells: {a.samples} samples, 2-D 3-component mixture, vp-linear, NFE {a.nfe}; CPU seconds of the weak "
          f"part (the run minus the same run without weak samples), least of {a.rounds} rounds")
    print(f"{'solver':<16} {'depth':>5} {'steps':>5} {'CPU s':>8} {'wall s':>8} {'samples/s':>10} "
          f"{'us/sample-step':>14} {'s/cell at 1e5':>13} {'s/cell at 1e6':>13}")

    def row(solver, depth, seconds, wall, steps):
        rate = a.samples / seconds
        print(f"{solver:<16} {depth if depth is not None else '-':>5} {steps:>5} {seconds:>8.2f} {wall:>8.2f} "
              f"{rate:>10.4g} {seconds / (a.samples * steps) * 1e6:>14.3f} {1e5 / rate:>13.2f} {1e6 / rate:>13.1f}")

    seconds, wall, steps = weak_cpu("ddim", a.depths[0])
    row("ddim (ODE)", None, seconds, wall, steps)
    ode = seconds / (a.samples * steps)
    for solver in a.solvers:
        per_step = []
        for depth in a.depths:
            seconds, wall, steps = weak_cpu(solver, depth)
            row(solver, depth, seconds, wall, steps)
            per_step.append(seconds / (a.samples * steps))
        if len(a.depths) >= 2:
            b = np.polyfit(np.array(a.depths, float) + 1, per_step, 1)[0]
            one_draw = ode + b  # the ODE step plus one node's draw per coordinate
            print(f"  {solver}: each tree level costs b = {b * 1e6:.3f} us per sample-step; above the ODE's {ode * 1e6:.3f} "
                  f"us the noise costs {(per_step[-1] - ode) * 1e6:.3f} us at depth {a.depths[-1]}; one draw per step "
                  f"(increment only, ODE + b) ~ {one_draw * 1e6:.3f} us: the tree at depth {a.depths[-1]} is "
                  f"{per_step[-1] / one_draw:.1f}x that")

if __name__ == "__main__":
    main()
