#!/usr/bin/python3
"""Trains an MLP denoiser (training/edm_mlp.py) on samples of an exact pfode mixture and writes it
for pfode's `kind = network`.

    /usr/bin/python3 training/train_denoiser.py --mixture eight-gaussians -o experiments/networks/eight-gaussians.h5

Denoising score matching with EDM's loss (Karras et al. 2022, eq. 2 and Table 1): for data x_0 of
the mixture, log s normal (median s_median, standard deviation s_log_std) or, for a fraction
s_uniform of the batch, uniform over [log s_low, log s_high], and y = x_0 + s n,
    loss = lambda(s) |D(y, s) - x_0|^2 / dim,  lambda(s) = (s^2 + sd^2) / (s sd)^2,
which is |F - F_target|^2 with a target of unit variance at every s. Adam with a cosine decay of
the learning rate. The noise levels concentrate where the mixture's structure is learned (its
modes merge near s ~ 1): at the ends F's best value is near 0 and the loss near 1 whatever the
network does, and a log-uniform draw over [1e-3, 200] alone left the network at D = c_skip y after
6000 steps; the log-uniform share keeps the ends of a sampler's range (EDM: 2e-3 to 80) trained. Seeded and deterministic on a given number of threads (the data come from a
NumPy generator, the initial weights from torch's; the thread count is recorded). Writes:
  OUT             the network (pfode-network-1) with the mixture and the training's provenance,
                  and the denoiser error |D_net - D_exact| against s on fresh samples (/training)
  OUT-forward.h5  reference values D(y, s) of the network in float64 PyTorch at random points over
                  s in [1e-4, 1e4]: tests/test_network.cpp checks pfode's forward pass against them
"""
import argparse
import datetime
import math
import os
import subprocess
import sys
import time

import h5py
import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from edm_mlp import EdmMlp, write_network  # noqa: E402
from mixtures import MIXTURES, sample, sigma_data  # noqa: E402


def git_commit():
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    try:
        head = subprocess.run(["git", "-C", root, "rev-parse", "HEAD"], capture_output=True, text=True, check=True)
        dirty = subprocess.run(["git", "-C", root, "status", "--porcelain", "--untracked-files=no"],
                               capture_output=True, text=True, check=True)
        return head.stdout.strip() + ("-dirty" if dirty.stdout.strip() else "")
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


class Progress:
    """A one-line progress bar on stderr (a line every 10 % when stderr is not a terminal)."""

    def __init__(self, total):
        self.total, self.start, self.shown = total, time.time(), -1
        self.tty = sys.stderr.isatty()

    def update(self, done, text):
        tenth = 10 * done // self.total
        if not self.tty and tenth == self.shown and done != self.total:
            return
        self.shown = tenth
        elapsed = time.time() - self.start
        eta = elapsed / done * (self.total - done) if done else 0.0
        bar = "#" * (30 * done // self.total)
        line = f"[{bar:<30}] {done}/{self.total} {text}  {elapsed:.0f} s, ETA {eta:.0f} s"
        sys.stderr.write(("\r" + line) if self.tty else (line + "\n"))
        if self.tty and done == self.total:
            sys.stderr.write("\n")
        sys.stderr.flush()


def denoiser_error(net, mixture, s_values, n, rng):
    """RMS over samples and coordinates of D_net - D_exact at y ~ p(y; s), for each s."""
    out = []
    with torch.no_grad():
        for s in s_values:
            y = sample(mixture, n, rng) + s * rng.standard_normal((n, mixture.dim))
            d_net = net(torch.as_tensor(y), float(s)).numpy()
            d_exact = mixture.denoise(y, s)
            out.append(math.sqrt(np.mean((d_net - d_exact) ** 2)))
    return np.array(out)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--mixture", choices=sorted(MIXTURES), default="eight-gaussians")
    ap.add_argument("-o", "--out", required=True, help="the network file to write (.h5)")
    ap.add_argument("--width", type=int, default=64)
    ap.add_argument("--layers", type=int, default=4, help="Linear layers (SiLU between them)")
    ap.add_argument("--frequencies", type=int, default=8, help="Fourier frequencies of the noise embedding")
    ap.add_argument("--frequency-scale", type=float, default=1.0, help="their standard deviation")
    ap.add_argument("--steps", type=int, default=6000)
    ap.add_argument("--batch", type=int, default=512)
    ap.add_argument("--lr", type=float, default=1e-2)
    ap.add_argument("--s-median", type=float, default=0.5, help="median of the training noise levels")
    ap.add_argument("--s-log-std", type=float, default=1.2, help="standard deviation of their log")
    ap.add_argument("--s-uniform", type=float, default=0.1, help="share drawn log-uniformly instead")
    ap.add_argument("--s-low", type=float, default=2e-3)
    ap.add_argument("--s-high", type=float, default=100.0)
    ap.add_argument("--seed", type=int, default=0)
    # One thread: on two shared cores a second one spun in its thread pool (8x the CPU time per step).
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--forward-points", type=int, default=64, help="reference forward values written")
    ap.add_argument("--force", action="store_true", help="overwrite existing output files")
    args = ap.parse_args()

    forward_path = os.path.splitext(args.out)[0] + "-forward.h5"
    for path in (args.out, forward_path):
        if os.path.exists(path) and not args.force:
            sys.exit(f"train_denoiser: error: {path} exists (pass --force to overwrite)")

    torch.set_num_threads(args.threads)
    torch.use_deterministic_algorithms(True)
    torch.manual_seed(args.seed)
    rng = np.random.default_rng(args.seed)
    mixture = MIXTURES[args.mixture]()
    sd = sigma_data(mixture)
    frequencies = args.frequency_scale * torch.randn(args.frequencies)
    net = EdmMlp(mixture.dim, args.width, args.layers, frequencies, sd)
    opt = torch.optim.Adam(net.parameters(), lr=args.lr)
    schedule = torch.optim.lr_scheduler.LambdaLR(opt, lambda k: 0.5 * (1 + math.cos(math.pi * k / args.steps)))

    wall, cpu = time.time(), time.process_time()
    progress = Progress(args.steps)
    log_median = math.log(args.s_median)
    running = None
    for step in range(1, args.steps + 1):
        x0 = sample(mixture, args.batch, rng)
        log_s = rng.normal(log_median, args.s_log_std, args.batch)
        uniform = rng.random(args.batch) < args.s_uniform
        log_s[uniform] = rng.uniform(math.log(args.s_low), math.log(args.s_high), int(uniform.sum()))
        s = np.exp(log_s)
        y = x0 + s[:, None] * rng.standard_normal(x0.shape)
        x0, s, y = (torch.as_tensor(a, dtype=torch.float32) for a in (x0, s, y))
        weight = (s * s + sd * sd) / (s * sd) ** 2
        loss = (weight * ((net(y, s) - x0) ** 2).sum(1)).mean() / mixture.dim
        opt.zero_grad()
        loss.backward()
        opt.step()
        schedule.step()
        running = loss.item() if running is None else 0.99 * running + 0.01 * loss.item()
        if step % 50 == 0 or step == args.steps:
            progress.update(step, f"loss {running:.4f}")
    wall, cpu = time.time() - wall, time.process_time() - cpu

    net = net.double()
    s_grid = np.exp(np.linspace(math.log(2e-3), math.log(80.0), 25))
    error = denoiser_error(net, mixture, s_grid, 4096, np.random.default_rng(args.seed + 1))
    provenance = dict(created_by="training/train_denoiser.py", command_line=" ".join(sys.argv),
                      git_commit=git_commit(), utc_written=datetime.datetime.utcnow().isoformat() + "Z",
                      torch_version=str(torch.__version__), numpy_version=np.__version__, mixture=args.mixture,
                      seed=args.seed, steps=args.steps, batch=args.batch, learning_rate=args.lr,
                      s_median=args.s_median, s_log_std=args.s_log_std, s_uniform=args.s_uniform, s_low=args.s_low,
                      s_high=args.s_high, frequency_scale=args.frequency_scale,
                      threads=args.threads, wall_time=wall, cpu_time=cpu, final_loss=running)
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    write_network(args.out, net, mixture, args.mixture, provenance)
    with h5py.File(args.out, "a") as f:
        f["training/s"], f["training/denoiser_error_rms"] = s_grid, error

    # Reference forward values: y drawn from p(y; s) (and a few far-off points), s log-uniform
    # over [1e-4, 1e4], well past the training range at both ends.
    n = args.forward_points
    points = np.random.default_rng(args.seed + 2)
    s = np.exp(points.uniform(math.log(1e-4), math.log(1e4), n))
    y = sample(mixture, n, points) + s[:, None] * points.standard_normal((n, mixture.dim))
    y[: n // 8] *= 10.0
    with torch.no_grad():
        d = net(torch.as_tensor(y), torch.as_tensor(s)).numpy()
    with h5py.File(forward_path, "w") as f:
        f.attrs.update(network=os.path.basename(args.out), created_by="training/train_denoiser.py",
                       torch_version=str(torch.__version__), git_commit=provenance["git_commit"])
        f["y"], f["s"], f["D"] = y, s, d
    print(f"train_denoiser: {args.mixture}, {sum(p.numel() for p in net.parameters())} parameters, "
          f"{args.steps} steps in {wall:.1f} s wall, {cpu:.1f} s CPU ({args.threads} threads); loss {running:.4f}")
    print("  denoiser error RMS |D_net - D_exact| at s = " +
          ", ".join(f"{a:.3g}: {e:.2e}" for a, e in zip(s_grid[::4], error[::4])))
    print(f"  wrote {args.out} ({os.path.getsize(args.out) // 1024} KB) and {forward_path}")


if __name__ == "__main__":
    main()
