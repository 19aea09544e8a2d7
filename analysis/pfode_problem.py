"""Read a pfode problem file and write the runs file that `pfode score` scores.

    problem = load_problem("results/external-problem.h5")   # written by `pfode export CONFIG`
    x = problem.start("gaussian", "vp-linear", seed=0)       # samples x dim, at t_max
    grid = problem.grid("vp-linear", "uniform-lambda", steps=10)
    model = problem.denoiser("gaussian", "vp-linear")        # model.x0(x, t), eps, score, v, D
    ... run the sampler from x over grid.t, keeping the states ...
    write_runs("results/runs.h5", problem, [dict(label="my-ddim", model="gaussian",
               schedule="vp-linear", seed=0, t=grid.t, x=states, nfe=10, order_theory=1)])

The layouts are README.md's "Output" section; the C++ reader (src/io/problem_file.cpp) defines
the problem file, and this module follows it.
"""
import os
from dataclasses import dataclass, field

import h5py
import numpy as np

from pfode_exact import ExactDenoiser, model_from_group, schedule_from_group

PROBLEM_FORMAT = "pfode-problem-1"
RUNS_FORMAT = "pfode-runs-1"


class ProblemError(Exception):
    """A problem file that cannot be read, or a run that does not fit its problem."""


def _text(value):
    return value.decode() if isinstance(value, bytes) else str(value)


@dataclass
class Grid:
    """One time grid: t from t_max down to t_min (steps + 1 points), and the schedule's alpha,
    sigma, lambda and s = sigma/alpha there, as pfode's solvers use them."""
    schedule: str
    spacing: str
    steps: int
    nfe_budgets: list
    t: np.ndarray
    alpha: np.ndarray
    sigma: np.ndarray
    lambda_: np.ndarray
    s: np.ndarray


@dataclass
class Problem:
    path: str
    id: str
    samples: int
    config: str
    models: dict                                 # name -> model (pfode_exact.MODEL_KINDS)
    schedules: dict                              # name -> pfode_exact.Schedule
    starts: dict = field(default_factory=dict)   # (model, schedule, seed) -> x_T, samples x dim
    grids: list = field(default_factory=list)    # Grid

    def start(self, model, schedule, seed=0):
        """The start states x_T (samples x dim) of a (model, schedule, seed) group, at t_max."""
        key = (model, schedule, int(seed))
        if key not in self.starts:
            raise ProblemError(f"{self.path}: no start states for model {model!r}, schedule {schedule!r}, seed "
                               f"{seed} (groups: {sorted(self.starts)})")
        return self.starts[key].copy()

    def grid(self, schedule, spacing, steps):
        for g in self.grids:
            if (g.schedule, g.spacing, g.steps) == (schedule, spacing, int(steps)):
                return g
        have = sorted(g.steps for g in self.grids if (g.schedule, g.spacing) == (schedule, spacing))
        raise ProblemError(f"{self.path}: no grid of {steps} steps for schedule {schedule!r}, spacing {spacing!r} "
                           f"(its step counts: {have or 'none'})")

    def denoiser(self, model, schedule):
        """The exact model `model` under schedule `schedule` (pfode_exact.ExactDenoiser)."""
        if model not in self.models or schedule not in self.schedules:
            raise ProblemError(f"{self.path}: no model {model!r} or schedule {schedule!r}")
        return ExactDenoiser(self.models[model], self.schedules[schedule])


def load_problem(path):
    """Read a problem file written by `pfode export`; ProblemError if it is not one."""
    if not os.path.isfile(path):
        raise ProblemError(f"{path}: no such file")
    try:
        f = h5py.File(path, "r")
    except OSError:
        raise ProblemError(f"{path}: not an HDF5 file") from None
    with f:
        fmt = _text(f.attrs.get("format", ""))
        if fmt != PROBLEM_FORMAT:
            raise ProblemError(f"{path}: not a pfode problem file (format {fmt!r}, expected {PROBLEM_FORMAT!r})")
        problem = Problem(path=path, id=_text(f.attrs["problem_id"]), samples=int(f.attrs["samples"]),
                          config=f["config"].asstr()[()],
                          models={name: model_from_group(g) for name, g in f["models"].items()},
                          schedules={name: schedule_from_group(g) for name, g in f["schedules"].items()})
        for g in f["starts"].values():
            key = (_text(g.attrs["model"]), _text(g.attrs["schedule"]), int(g.attrs["seed"]))
            problem.starts[key] = np.asarray(g["x_T"][()], dtype=np.float64)
        for name in sorted(f["grids"]):
            g = f["grids"][name]
            problem.grids.append(Grid(schedule=_text(g.attrs["schedule"]), spacing=_text(g.attrs["spacing"]),
                                      steps=int(g.attrs["steps"]), nfe_budgets=[int(n) for n in g.attrs["nfe_budgets"]],
                                      **{k: np.asarray(g[k][()], dtype=np.float64)
                                         for k in ("t", "alpha", "sigma", "s")}, lambda_=g["lambda"][()]))
    return problem


_OPTIONAL = {"spacing": str, "options": str, "order_theory": int, "steps": int, "nfe_budget": int,
             "wall_time": float, "target": str}


def write_runs(path, problem, runs):
    """Write runs for `pfode score` (format pfode-runs-1). Each run is a dict with
        label     the sampler's name (runs of one label form its convergence series)
        model, schedule, seed   the problem group it started from (problem.start(...))
        t         the times of the recorded states, decreasing; the last is the final time
        x         the states there, samples x len(t) x dim (or samples x dim for the final state only)
        nfe       model evaluations spent: one number, or one per sample
    and optionally spacing (the grid's name, default "external"), order_theory (the GTE order the
    sampler should have), target ("zero" when the last state is the sample after a final step to
    sigma = 0, as k-diffusion's samplers end: it is compared with x*(0); default "grid_end", x*(t)
    at the last time), steps, nfe_budget, wall_time (seconds) and options (free text).
    Shapes are checked here; pfode score checks the rest. The file is written under a temporary
    name and renamed into place."""
    tmp = os.path.join(os.path.dirname(os.path.abspath(path)), f".{os.path.basename(path)}.tmp.{os.getpid()}")
    try:
        with h5py.File(tmp, "w") as f:
            f.attrs["format"] = RUNS_FORMAT
            f.attrs["problem_id"] = problem.id
            group = f.create_group("runs")
            for k, run in enumerate(runs):
                missing = [key for key in ("label", "model", "schedule", "seed", "t", "x", "nfe") if key not in run]
                unknown = set(run) - {"label", "model", "schedule", "seed", "t", "x", "nfe"} - set(_OPTIONAL)
                if missing or unknown:
                    raise ProblemError(f"run {k}: missing {missing}, unknown {sorted(unknown)}")
                t = np.atleast_1d(np.asarray(run["t"], dtype=np.float64))
                x = np.asarray(run["x"], dtype=np.float64)
                if x.ndim == 2 and t.size == 1:
                    x = x[:, None, :]
                if x.ndim != 3 or x.shape[1] != t.size:
                    raise ProblemError(f"run {k} ({run['label']}): x has shape {x.shape}, expected samples x "
                                       f"{t.size} x dim")
                g = group.create_group(f"{k:06d}")
                for key in ("label", "model", "schedule"):
                    g.attrs[key] = str(run[key])
                g.attrs["seed"] = np.int64(run["seed"])
                for key, kind in _OPTIONAL.items():
                    if key in run:
                        g.attrs[key] = kind(run[key]) if kind is not int else np.int64(run[key])
                g["t"] = t
                g["x"] = x
                nfe = np.asarray(run["nfe"])
                if nfe.ndim == 0:
                    g.attrs["nfe"] = np.int64(nfe)
                else:
                    g["nfe"] = nfe.astype(np.int64)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)
