#!/bin/sh
# analysis/pfode_exact.py against the C++: every schedule's alpha, sigma, lambda, s, t(lambda), f
# and g^2, and every model's x0 = D, eps, score and v at random points of every schedule, to 1e-13
# (NumPy, and torch where it is installed). analysis/pfode_problem.py reads the problem file as
# pfode wrote it: start states, grids (their alpha, sigma, lambda, s are the schedule's).
# Usage: test_exact.sh PFODE_EXECUTABLE EVALUATOR SOURCE_DIR
set -eu
pfode=$1
evaluator=$2
src=$3
python=/usr/bin/python3
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# Every registered schedule (so a new one fails here until pfode_exact.py has it; non-default
# parameters where the schedule has some), a Gaussian (one narrow coordinate), a 2-D mixture, a
# 16-D mixture of 8 components and the shipped trained network (kind = network).
schedules=$("$pfode" list | awk '/^Noise schedules/ { listing = 1; next } /^$/ { listing = 0 } listing { print $1 }' | tr '\n' ' ')
cat >"$work/exact.ini" <<INI
[run]
out = $work/exact.h5
samples = 5
seeds = 0 3

[sweep]
models = gaussian mixture mix16 full fullgauss noisy network
schedules = $schedules
spacings = uniform-lambda karras
solvers = ddim heun
nfe = 4 6

[schedule.vp-linear]
beta_max = 18

[schedule.ve]
sigma_max = 80

[model.gaussian]
kind = gaussian
dim = 3
means = 0.5 -0.5 1.0
stds = 0.3 0.5 0.02

[model.mixture]
kind = mixture
dim = 2
weights = 0.5 0.3 0.2
means = -1 0 ; 1 0.5 ; 0 -1
stds = 0.4 0.5 ; 0.5 0.35 ; 0.45 0.4

[model.mix16]
kind = random-mixture
dim = 16
components = 8
seed = 1

[model.network]
kind = network
file = $src/experiments/networks/eight-gaussians.h5

[model.full]
kind = random-mixture
dim = 4
components = 3
seed = 2
rank = 3
rotations = random

[model.fullgauss]
kind = gaussian
dim = 3
means = 0.5 -0.5 1.0
stds = 0.3 0 0.02
rotations = random
rotation_seed = 4

[model.noisy]
kind = perturbed
exact = full
error_size = 0.05
error_profile = low-noise
error_scale = 0.5
features = 6
INI

"$pfode" export "$work/exact.ini" -o "$work/problem.h5" -q || { echo "pfode export failed"; exit 1; }
"$evaluator" "$work/problem.h5" "$work/cpp.h5" 96 || { echo "pfode_evaluate_exact failed"; exit 1; }

PYTHONPATH="$src/analysis" "$python" - "$work/problem.h5" "$work/cpp.h5" <<'PY'
import sys

import h5py
import numpy as np

from pfode_problem import load_problem

problem = load_problem(sys.argv[1])
cpp = h5py.File(sys.argv[2], "r")
failures = []
worst = {}


def compare(what, python, reference, scale=1.0):
    """|python - reference| <= 1e-13 max(1, |reference|) scale. eps, v and score take a scale: like
    the C++, they lose digits to x - alpha x0 where sigma is small (and v to sigma x0 where it is
    large)."""
    python, reference = np.asarray(python, dtype=float), np.asarray(reference, dtype=float)
    bound = 1e-13 * np.maximum(1.0, np.abs(reference)) * scale
    excess = float(np.max(np.abs(python - reference) / bound))
    name = what.split(" ")[0]
    worst[name] = max(worst.get(name, 0.0), excess)
    if not excess <= 1.0:
        failures.append(f"{what}: off by {float(np.max(np.abs(python - reference))):.3g} "
                        f"({excess:.3g} x the bound)")


def dense_denoise(m, y, s):
    """D(y, s) of a full-covariance mixture from its dense covariances C_k = U_k diag(c_k^2) U_k^T:
    r_k proportional to w_k N(y; mu_k, C_k + s^2 I), D = sum_k r_k (mu_k + C_k (C_k + s^2 I)^-1 (y - mu_k))."""
    cov = np.einsum("kij,kj,klj->kil", m.rotations, m.stds ** 2, m.rotations)
    out = np.empty_like(y)
    for p in range(y.shape[0]):
        log_r, means = [], []
        for k in range(len(m.weights)):
            a = cov[k] + s[p] ** 2 * np.eye(m.dim)
            d = y[p] - m.means[k]
            x = np.linalg.solve(a, d)
            log_r.append(np.log(m.weights[k]) - 0.5 * (d @ x + np.linalg.slogdet(a)[1]))
            means.append(m.means[k] + cov[k] @ x)
        r = np.exp(np.array(log_r) - max(log_r))
        out[p] = (r / r.sum()) @ np.array(means)
    return out


backends = [("numpy", lambda a: a, lambda a: a)]
try:
    import torch
    backends.append(("torch", torch.as_tensor, lambda a: a.numpy()))
except ImportError:
    print("torch is not installed: NumPy only")

for name, schedule in problem.schedules.items():
    g = cpp["schedules"][name]
    t, lam = g["t"][()], g["lambda"][()]
    for backend, to, back in backends:
        for what, python, reference in [
                ("alpha", schedule.alpha(to(t)), g["alpha"][()]), ("sigma", schedule.sigma(to(t)), g["sigma"][()]),
                ("lambda", schedule.lambda_(to(t)), lam), ("s", schedule.s(to(t)), g["s"][()]),
                ("t_of_lambda", schedule.t_of_lambda(to(lam)), g["t_of_lambda"][()]),
                ("f", schedule.f(to(t)), g["f"][()]), ("g2", schedule.g2(to(t)), g["g2"][()])]:
            compare(f"{what} {backend} {name}", back(python), reference)
    if not isinstance(schedule.alpha(float(t[1])), float):
        failures.append(f"{name}: alpha of a float is not a float")

for key, g in cpp["models"].items():
    model, schedule = g.attrs["model"], g.attrs["schedule"]
    denoiser = problem.denoiser(model, schedule)
    sched = problem.schedules[schedule]
    t, x, s, y = g["t"][()], g["x"][()], g["s"][()], g["y"][()]
    condition = 1.0 + np.abs(x) / sched.sigma(t)[:, None]
    for backend, to, back in backends:
        compare(f"D {backend} {key}", back(denoiser.D(to(y), to(s))), g["x0"][()])
        compare(f"x0 {backend} {key}", back(denoiser.x0(to(x), to(t))), g["x0"][()])
        compare(f"eps {backend} {key}", back(denoiser.eps(to(x), to(t))), g["eps"][()], condition)
        compare(f"v {backend} {key}", back(denoiser.v(to(x), to(t))), g["v"][()],
                condition + sched.sigma(t)[:, None])  # v = alpha eps - sigma x0
        compare(f"score {backend} {key}", back(denoiser.score(to(x), to(t))), g["score"][()],
                condition / sched.sigma(t)[:, None])
    # Full covariances: the C++ eigenbasis evaluation against a dense one, (C_k + s^2 I)^-1 by
    # LU, where the system is well conditioned (s >= 0.05).
    m = problem.models[model]
    if m.kind == "full-covariance-mixture":
        dense = dense_denoise(m, y, s)
        usable = s >= 0.05
        compare(f"dense {key}", dense[usable], g["x0"][()][usable])
        if usable.sum() < 10:
            failures.append(f"dense {key}: only {usable.sum()} points with s >= 0.05")
    # One time for a batch of states, as a sampler calls it, equals one time per state.
    compare(f"x0-one-t {key}", denoiser.x0(x[5:9], float(t[7])), denoiser.x0(x[5:9], np.full(4, t[7])))

# The problem file as pfode wrote it: start states x_T = alpha(t_max) y_T; grids from t_max to
# t_min carrying the schedule's values.
with h5py.File(sys.argv[1], "r") as f:
    for g in f["starts"].values():
        key = (g.attrs["model"], g.attrs["schedule"], int(g.attrs["seed"]))
        sched = problem.schedules[key[1]]
        x_T = problem.start(*key)
        if x_T.shape != (5, problem.models[key[0]].dim) or not np.array_equal(x_T, g["x_T"][()]):
            failures.append(f"start {key}: not the file's x_T")
        compare(f"x_T {key}", x_T, sched.alpha(sched.t_max) * g["y_T"][()])
if len(problem.grids) != len(problem.schedules) * 2 * 4:  # x spacings x step counts (ddim 4, 6; heun 2, 3)
    failures.append(f"{len(problem.grids)} grids, expected {len(problem.schedules) * 8}")
if len(problem.schedules) < 5:
    failures.append(f"only {len(problem.schedules)} schedules: pfode list gave {sorted(problem.schedules)}")
for grid in problem.grids:
    sched = problem.schedules[grid.schedule]
    if grid.t[0] != sched.t_max or grid.t[-1] != sched.t_min or len(grid.t) != grid.steps + 1:
        failures.append(f"grid {grid.schedule}/{grid.spacing}/{grid.steps}: not t_max .. t_min")
    for what, python, stored in [("alpha", sched.alpha(grid.t), grid.alpha), ("sigma", sched.sigma(grid.t), grid.sigma),
                                 ("lambda", sched.lambda_(grid.t), grid.lambda_), ("s", sched.s(grid.t), grid.s)]:
        compare(f"grid-{what} {grid.schedule}", python, stored)

print("largest error / bound:", ", ".join(f"{k} {v:.3g}" for k, v in sorted(worst.items())))
if failures:
    print("\n".join(failures[:20]))
    sys.exit(1)
PY

# Guided models (no problem file takes them: each sample has a class): the evaluator reads a
# config, and pfode_exact.GuidedModel reads the model and its samples' classes per run seed as a
# results file records them. Two run seeds must draw different classes.
cat >"$work/guided.ini" <<INI
[run]
samples = 5
seeds = 0 7

[sweep]
models = cfg given
schedules = vp-linear edm
solvers = euler
nfe = 4

[model.mix]
kind = mixture
dim = 2
weights = 0.4 0.3 0.2 0.1
means = -1 0 ; 1 0.5 ; 0 -1 ; 0.5 1
stds = 0.4 0.5 ; 0.5 0.35 ; 0.45 0.4 ; 0.3 0.3

[model.cfg]
kind = guided
mixture = mix
classes = 0 1 1 2
w = 0 2.5
interval = 0.1 5

[model.given]
kind = guided
mixture = mix
classes = 0 1 1 2
w = 4
sample_classes = 2 0 1
INI
"$evaluator" "$work/guided.ini" "$work/guided.h5" 48 || { echo "pfode_evaluate_exact on a config failed"; exit 1; }

PYTHONPATH="$src/analysis" "$python" - "$work/guided.h5" <<'PY'
import sys

import h5py
import numpy as np

from pfode_exact import model_from_group

f = h5py.File(sys.argv[1], "r")
failures, worst, checked = [], 0.0, 0
backends = [("numpy", lambda a: a, lambda a: a)]
try:
    import torch
    backends.append(("torch", torch.as_tensor, lambda a: a.numpy()))
except ImportError:
    pass
for key, g in f["models"].items():
    name, seed = g.attrs["model"], int(key.rsplit("__", 1)[1])
    model = model_from_group(f["parameters"][name])
    classes = model.sample_classes(seed)
    y, s, x0 = g["y"][()], g["s"][()], g["x0"][()]
    for backend, to, back in backends:
        d = back(model.denoise(to(y), to(s), classes))
        excess = float(np.max(np.abs(d - x0) / (1e-13 * np.maximum(1.0, np.abs(x0)))))
        worst = max(worst, excess)
        checked += 1
        if not excess <= 1.0:
            failures.append(f"guided D {backend} {key}: off by {np.max(np.abs(d - x0)):.3g}")
drawn = f["parameters"]["cfg[w=2.5]"]
given = model_from_group(f["parameters"]["given[w=4]"])
if np.array_equal(model_from_group(drawn).sample_classes(0), model_from_group(drawn).sample_classes(7)):
    failures.append("run seeds 0 and 7 drew the same classes")
if list(given.sample_classes(7)[:4]) != [2, 0, 1, 2]:
    failures.append(f"given classes: {given.sample_classes(7)[:4]}")
if checked != 3 * 2 * 2 * len(backends):
    failures.append(f"{checked} guided evaluations checked")
print(f"guided: {checked} evaluations, largest error / bound {worst:.3g}")
if failures:
    print("\n".join(failures))
    sys.exit(1)
PY
