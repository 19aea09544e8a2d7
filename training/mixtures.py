"""The exact mixtures the denoisers are trained on: pfode models whose score is known in closed form.

    eight-gaussians   2-D: 8 equal Gaussians (std 0.2) on the circle of radius 2
    checkerboard      2-D: one Gaussian (std 0.2) on each dark square of a 4 x 4 board of unit squares
    mixture16         16-D, 8 components: pfode's `kind = random-mixture` with dim 16, components 8,
                      seed 1, spread 1.5, std_min 0.3, std_max 0.6 (experiments/convergence-orders.ini),
                      drawn with the same counter-based generator as src/model/model_spec.cpp
"""
import math
import os
import sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "analysis"))
from pfode_exact import DiagonalMixture  # noqa: E402

_MASK32 = 0xFFFFFFFF


def _philox4x32_10(ctr, key0, key1):
    """Philox4x32-10 (Salmon et al. 2011) as src/model/counter_rng.hpp computes it."""
    c = list(ctr)
    for _ in range(10):
        p0, p1 = 0xD2511F53 * c[0], 0xCD9E8D57 * c[2]
        c = [((p1 >> 32) ^ c[1] ^ key0) & _MASK32, p1 & _MASK32, ((p0 >> 32) ^ c[3] ^ key1) & _MASK32, p0 & _MASK32]
        key0, key1 = (key0 + 0x9E3779B9) & _MASK32, (key1 + 0xBB67AE85) & _MASK32
    return c


def _uniform_open(hi, lo):
    return (float(((hi << 32) | lo) >> 11) + 0.5) * (1.0 / 9007199254740992.0)


def _counter_uniform2(seed, sample, coord, stream):
    r = _philox4x32_10((sample, coord, stream, 0), seed & _MASK32, (seed >> 32) & _MASK32)
    return _uniform_open(r[0], r[1]), _uniform_open(r[2], r[3])


def random_mixture(dim, components, seed, spread, std_min, std_max):
    """pfode's model::random_mixture: the same weights, means and stds, bit for bit."""
    weights = np.empty(components)
    means, stds = np.empty((components, dim)), np.empty((components, dim))
    for k in range(components):
        weights[k] = 1.0 + _counter_uniform2(seed, k, dim, 2)[0]
        for j in range(dim):
            u1, u2 = _counter_uniform2(seed, k, j, 2)
            means[k, j] = spread * (2.0 * u1 - 1.0)
            stds[k, j] = std_min + (std_max - std_min) * u2
    return DiagonalMixture(weights, means, stds)


def eight_gaussians():
    angles = 2 * math.pi * np.arange(8) / 8
    means = 2.0 * np.stack([np.cos(angles), np.sin(angles)], axis=1)
    return DiagonalMixture(np.ones(8), means, np.full((8, 2), 0.2))


def checkerboard():
    means = [(i - 1.5, j - 1.5) for i in range(4) for j in range(4) if (i + j) % 2 == 0]
    return DiagonalMixture(np.ones(len(means)), np.array(means), np.full((len(means), 2), 0.2))


MIXTURES = {
    "eight-gaussians": eight_gaussians,
    "checkerboard": checkerboard,
    "mixture16": lambda: random_mixture(16, 8, 1, 1.5, 0.3, 0.6),
}


def sample(mixture, n, rng):
    """n draws x_0 ~ mixture from a numpy Generator."""
    k = rng.choice(mixture.weights.size, size=n, p=mixture.weights)
    return mixture.means[k] + mixture.stds[k] * rng.standard_normal((n, mixture.dim))


def sigma_data(mixture):
    """RMS over coordinates of the data's standard deviation: EDM's sigma_data."""
    w = mixture.weights[:, None]
    mean = (w * mixture.means).sum(0)
    var = (w * (mixture.stds ** 2 + mixture.means ** 2)).sum(0) - mean ** 2
    return float(np.sqrt(var.mean()))
