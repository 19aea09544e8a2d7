#!/usr/bin/python3
"""Baselines for `pfode bench`, on the same problem, in the same run (so ratios hold on a noisy machine).

Writes a 16-D, 8-component diagonal Gaussian mixture and 256 start states to HDF5, runs
`pfode bench --problem` on it (fixed-grid solvers at an NFE budget on the EDM/Karras grid, and
DOP853 at the same tolerance, with each sample's own steps and with steps shared per pack of 16
samples), then times the same computations written the
way they usually are in Python, single-threaded:
  - the rk4 / heun / ddim loops, batched, in PyTorch (float64, torch.set_num_threads(1)) and NumPy;
  - the reference with scipy.integrate.solve_ivp(method="DOP853") on dy/du = y - D(y, e^u),
    u = log s, as one vectorised system (all samples stacked) and as one solve per sample.
Every final state is compared with a tight pfode DOP853 solution (tol 1e-13); the errors are
printed next to the times. The timings run in interleaved rounds (pfode, then every baseline),
each keeping its best, so a slow spell of a shared machine weighs on both sides of a ratio. Usage: /usr/bin/python3 bench/compare.py [--pfode build/pfode] [--quick]
"""
import argparse, os, subprocess, sys, tempfile, time

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
import h5py
import numpy as np
import scipy
from scipy.integrate import solve_ivp

try:
    import torch
    torch.set_num_threads(1)
except ImportError:  # the NumPy and SciPy baselines still run
    torch = None


def make_problem(path, dim, components, samples, seed=0):
    rng = np.random.default_rng(seed)
    w = rng.uniform(1, 2, components); w /= w.sum()
    mu = rng.uniform(-3, 3, (components, dim))
    sd = rng.uniform(0.2, 1.0, (components, dim))
    k = rng.choice(components, samples, p=w)  # exact marginal at s = 80 (EDM t_max)
    x = mu[k] + np.sqrt(sd[k] ** 2 + 80.0 ** 2) * rng.standard_normal((samples, dim))
    with h5py.File(path, "w") as f:
        f["weights"], f["means"], f["stds"], f["x_T"] = w, mu, sd, x
    return w, mu, sd, x


# --- The denoiser D(y, s) of the mixture, batched over samples, as one writes it in each library.
def numpy_denoiser(w, mu, sd):
    logw, c2 = np.log(w), sd ** 2
    def D(y, s):
        v = c2 + s * s                                  # K x d
        diff = y[:, None, :] - mu                       # N x K x d
        logr = logw - 0.5 * ((diff * diff / v).sum(-1) + np.log(v).sum(-1))
        logr -= logr.max(1, keepdims=True)
        r = np.exp(logr); r /= r.sum(1, keepdims=True)
        return np.einsum("nk,nkd->nd", r, mu + c2 / v * diff)
    return D


def torch_denoiser(w, mu, sd):
    logw = torch.log(torch.tensor(w)); mu = torch.tensor(mu); c2 = torch.tensor(sd) ** 2
    def D(y, s):
        v = c2 + s * s
        diff = y[:, None, :] - mu
        logr = logw - 0.5 * ((diff * diff / v).sum(-1) + torch.log(v).sum(-1))
        r = torch.softmax(logr, dim=1)
        return (r[:, :, None] * (mu + c2 / v * diff)).sum(1)
    return D


# --- The solver loops on the EDM schedule: x = y, s = t, dy/ds = (y - D(y, s)) / s.
def run_solver(name, D, x, t):
    f = lambda y, s: (y - D(y, s)) / s
    for i in range(len(t) - 1):
        s0, s1 = float(t[i]), float(t[i + 1]); h = s1 - s0
        if name == "ddim":      # Euler in s
            x = x + h * f(x, s0)
        elif name == "heun":    # explicit trapezoid
            k0 = f(x, s0); k1 = f(x + h * k0, s1)
            x = x + h * 0.5 * (k0 + k1)
        elif name == "rk4":
            k0 = f(x, s0); k1 = f(x + 0.5 * h * k0, s0 + 0.5 * h)
            k2 = f(x + 0.5 * h * k1, s0 + 0.5 * h); k3 = f(x + h * k2, s1)
            x = x + h * (k0 / 6 + k1 / 3 + k2 / 3 + k3 / 6)
        else:
            raise ValueError(name)
    return x


def best_time(repeats, fn):
    best, out = 1e300, None
    for _ in range(repeats):
        t0 = time.perf_counter(); out = fn(); best = min(best, time.perf_counter() - t0)
    return best, out


def rms_error(a, b):
    return float(np.sqrt(np.mean(np.mean((np.asarray(a) - b) ** 2, axis=1))))


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--pfode", default=os.path.join(here, "..", "build", "pfode"))
    ap.add_argument("--dim", type=int, default=16)
    ap.add_argument("--components", type=int, default=8)
    ap.add_argument("--samples", type=int, default=256)
    ap.add_argument("--nfe", type=int, default=64)
    ap.add_argument("--tolerance", type=float, default=1e-10)
    ap.add_argument("--repeats", type=int, default=3, help="back-to-back runs per timing in a round")
    ap.add_argument("--rounds", type=int, default=3,
                    help="rounds of every timing, pfode and baselines interleaved; each keeps its best")
    ap.add_argument("--per-sample", type=int, default=0, help="per-sample DOP853 on this many samples (0: all)")
    ap.add_argument("--quick", action="store_true", help="small sizes: checks the script runs")
    ap.add_argument("--markdown", help="also write the table here")
    a = ap.parse_args()
    if a.quick:
        a.dim, a.components, a.samples, a.nfe, a.repeats, a.rounds, a.per_sample = 4, 3, 16, 16, 1, 1, 4

    work = tempfile.mkdtemp(prefix="pfode_bench_")
    problem, result = os.path.join(work, "problem.h5"), os.path.join(work, "pfode.h5")
    w, mu, sd, x0 = make_problem(problem, a.dim, a.components, a.samples)
    cmd = [a.pfode, "bench", "--problem", problem, "--out", result, "--force", "--nfe", str(a.nfe), "--tolerance",
           str(a.tolerance), "--repeats", str(a.repeats), "--no-sizes", "--no-scaling", "--solvers", "rk4,heun,ddim"]
    Dn = numpy_denoiser(w, mu, sd)
    Dt = torch_denoiser(w, mu, sd) if torch is not None else None

    # Reference: dy/du = y - D(y, e^u) from u = log 80 to log 0.002, rtol = atol = tolerance.
    u0, u1 = np.log(80.0), np.log(0.002)
    n, d = x0.shape
    m = a.per_sample or n
    def vectorised():
        return solve_ivp(lambda u, z: (z.reshape(n, d) - Dn(z.reshape(n, d), np.exp(u))).ravel(), (u0, u1),
                         x0.ravel(), method="DOP853", rtol=a.tolerance, atol=a.tolerance)
    def per_sample():
        out, nfev = [], 0
        for i in range(m):
            r = solve_ivp(lambda u, z: z - Dn(z[None, :], np.exp(u))[0], (u0, u1), x0[i], method="DOP853",
                          rtol=a.tolerance, atol=a.tolerance)
            out.append(r.y[:, -1]); nfev += r.nfev
        return np.array(out), nfev / m

    # Every round times pfode and then every baseline (each the best of `repeats` back-to-back runs),
    # so a slow spell of a shared machine weighs on both sides of a ratio; each computation keeps
    # its best time over the rounds.
    best = {}  # key -> (seconds, NFE/sample, final states)
    def keep(key, sec, nfe, final):
        if key not in best or sec < best[key][0]:
            best[key] = (sec, nfe, final)
    for r in range(a.rounds):
        round_cmd = cmd + (["--no-layouts"] if r > 0 else [])  # the layout table once is enough
        print("$", " ".join(round_cmd), flush=True)
        subprocess.run(round_cmd, check=True)
        with h5py.File(result, "r") as f:
            tight = f["tight"][()]
            for name in ("rk4", "heun", "ddim", "dop853", "dop853_pack"):
                g = f[name]
                keep(("pfode", name), g.attrs["seconds"], g.attrs["nfe"], g["final"][()])
            grids = {name: f[name]["t"][()] for name in ("rk4", "heun", "ddim")}
        for name, t in grids.items():
            sec, xn = best_time(a.repeats, lambda: run_solver(name, Dn, x0.copy(), t))
            keep(("numpy", name), sec, best[("pfode", name)][1], xn)
            if Dt is not None:
                with torch.no_grad():
                    sec, xt = best_time(a.repeats, lambda: run_solver(name, Dt, torch.tensor(x0), t))
                keep(("torch", name), sec, best[("pfode", name)][1], xt.numpy())
        sec, sol = best_time(a.repeats, vectorised)
        keep(("scipy", "vectorised"), sec, sol.nfev, sol.y[:, -1].reshape(n, d))
        sec, (ys, nfev) = best_time(1, per_sample)  # 256 solves: warm after the first
        keep(("scipy", "per sample"), sec * n / m, nfev, ys)  # per-sample cost is linear in samples

    def row(computation, baseline, key, pfode_key):
        sec, nfe, final = best[key]
        p_sec, p_nfe, p_final = best[pfode_key]
        return (computation, baseline, nfe, sec, rms_error(final, tight[:len(final)]), p_nfe, p_sec,
                rms_error(p_final, tight))
    rows = []  # (computation, baseline, NFE/sample, seconds, error, pfode NFE, pfode seconds, pfode error)
    for name in ("rk4", "heun", "ddim"):
        rows += [row(name, impl, (impl, name), ("pfode", name)) for impl in ("numpy", "torch") if (impl, name) in best]
    # scipy's vectorised system shares one step among all samples: set against pfode's shared steps too.
    rows.append(row("dop853, steps shared per 16 samples", "scipy vectorised", ("scipy", "vectorised"),
                    ("pfode", "dop853_pack")))
    rows.append(row("dop853, own steps per sample", "scipy vectorised", ("scipy", "vectorised"), ("pfode", "dop853")))
    rows.append(row("dop853, own steps per sample", "scipy per sample" + ("" if m == n else f" (x{n}/{m})"),
                    ("scipy", "per sample"), ("pfode", "dop853")))

    lines = [f"{a.dim}-D, {a.components}-component mixture, {n} samples, EDM schedule s = 80 -> 0.002, Karras grid "
             f"(rho 7), NFE {a.nfe}, DOP853 tol {a.tolerance:g}; one core; errors: RMS over samples of the per-sample "
             f"RMS difference to pfode DOP853 at tol 1e-13",
             f"(numpy {np.__version__}, scipy {scipy.__version__}, torch {torch.__version__ if torch else 'absent'}; "
             f"best of {a.rounds} interleaved rounds of {a.repeats} runs)",
             "", "| computation | baseline | NFE/sample | baseline s | baseline error | pfode NFE/sample | pfode s | "
             "pfode error | speed-up |", "|---|---|---|---|---|---|---|---|---|"]
    for comp, impl, nfe, sec, err, p_nfe, p_sec, p_err in rows:
        lines.append(f"| {comp} | {impl} | {nfe:.0f} | {sec:.4g} | {err:.2e} | {p_nfe:.0f} | {p_sec:.4g} | "
                     f"{p_err:.2e} | {sec / p_sec:.1f}x |")
    print("\n" + "\n".join(lines))
    if a.markdown:
        with open(a.markdown, "w") as f:
            f.write("\n".join(lines) + "\n")
    # The fixed-grid loops compute the same thing as pfode: their final states agree to round-off,
    # or the comparison is not of the same computation.
    for (impl, name), (_, _, final) in best.items():
        if impl in ("numpy", "torch") and rms_error(final, best[("pfode", name)][2]) > 1e-9:
            print(f"compare.py: {impl} {name} differs from pfode's {name} by "
                  f"{rms_error(final, best[('pfode', name)][2]):.2e}", file=sys.stderr)
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
