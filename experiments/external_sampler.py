#!/usr/bin/python3
"""A sampler written outside pfode, scored by pfode: DDIM and DPM-Solver++(2M) in plain NumPy.

Usage: /usr/bin/python3 experiments/external_sampler.py PROBLEM.h5 RUNS.h5

Runs both samplers from the start states of every (model, schedule, seed) group of a problem
file (`pfode export`), on every grid the file holds, with pfode_exact as the model, and writes
their states at every grid time to RUNS.h5 for `pfode score PROBLEM.h5 RUNS.h5`. The samplers
know nothing of pfode's solvers: they are the published update rules, written the usual way.
"""
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "analysis"))
from pfode_problem import load_problem, write_runs  # noqa: E402


def ddim(model, grid, x):
    """DDIM, eta = 0 (Song et al. 2021): x_{i+1} = alpha_{i+1} x0 + sigma_{i+1} eps. One NFE per step."""
    states = [x]
    for i in range(grid.steps):
        x0 = model.x0(x, grid.t[i])
        eps = (x - grid.alpha[i] * x0) / grid.sigma[i]
        x = grid.alpha[i + 1] * x0 + grid.sigma[i + 1] * eps
        states.append(x)
    return np.stack(states, axis=1), grid.steps


def dpm_solver_pp_2m(model, grid, x):
    """DPM-Solver++(2M) (Lu et al. 2022, Algorithm 2): the first step is DDIM, then
    x_{i+1} = (sigma_{i+1}/sigma_i) x_i - alpha_{i+1} expm1(-h_i) D_i with
    D_i = (1 + 1/(2 r_i)) x0_i - x0_{i-1}/(2 r_i), r_i = h_{i-1}/h_i, h_i = lambda_{i+1} - lambda_i.
    One NFE per step."""
    states, previous = [x], None
    for i in range(grid.steps):
        x0 = model.x0(x, grid.t[i])
        h = grid.lambda_[i + 1] - grid.lambda_[i]
        d = x0
        if previous is not None:
            r = (grid.lambda_[i] - grid.lambda_[i - 1]) / h
            d = (1 + 1 / (2 * r)) * x0 - previous / (2 * r)
        x = grid.sigma[i + 1] / grid.sigma[i] * x - grid.alpha[i + 1] * np.expm1(-h) * d
        previous = x0
        states.append(x)
    return np.stack(states, axis=1), grid.steps


SAMPLERS = [("numpy-ddim", ddim, 1), ("numpy-dpm++2m", dpm_solver_pp_2m, 2)]  # label, update, GTE order


def main(argv):
    if len(argv) != 3:
        sys.exit(__doc__.split("\n\n")[1])
    problem = load_problem(argv[1])
    runs = []
    for (model_name, schedule, seed) in sorted(problem.starts):
        model = problem.denoiser(model_name, schedule)
        for grid in (g for g in problem.grids if g.schedule == schedule):
            for label, sample, order in SAMPLERS:
                start = time.perf_counter()
                states, nfe = sample(model, grid, problem.start(model_name, schedule, seed))
                runs.append(dict(label=label, model=model_name, schedule=schedule, seed=seed, spacing=grid.spacing,
                                 t=grid.t, x=states, nfe=nfe, order_theory=order,
                                 wall_time=time.perf_counter() - start))
    write_runs(argv[2], problem, runs)
    print(f"wrote {argv[2]}: {len(runs)} runs of {problem.samples} samples")


if __name__ == "__main__":
    main(sys.argv)
