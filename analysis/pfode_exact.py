"""pfode's noise schedules and exact denoisers in Python, for samplers written outside pfode.

A sampler calls an ExactDenoiser as its model: x0, eps, score and v of states x at time t of any
of pfode's schedules, or the canonical denoiser D(y, s) with y = x/alpha and s = sigma/alpha.
Inputs may be NumPy arrays, Python floats or (when PyTorch is installed) torch tensors on any
device; everything is computed in float64 and returned as the input's kind. The formulas are
those of src/schedule/schedule.hpp and src/model/ (mixture, full covariance, perturbed, network,
guided); tests/analysis/test_exact.sh checks them against the C++ to 1e-13.

Models and schedules are read from the /models/<name> and /schedules/<name> groups of a pfode
problem or results file (model_from_group, schedule_from_group; analysis/pfode_problem.py loads
whole problem files). A new model kind is one class with from_group(group) and denoise(y, s),
plus one line in MODEL_KINDS; a new schedule kind likewise in SCHEDULE_KINDS.
"""
import math
import sys

import numpy as np


# ---- array operations: NumPy or torch, whichever the inputs are --------------------------------

class _NumpyOps:
    exp, log, log1p, expm1, sqrt = np.exp, np.log, np.log1p, np.expm1, np.sqrt
    sin, cos, tan, atan2, where = np.sin, np.cos, np.tan, np.arctan2, np.where

    @staticmethod
    def array(values, like=None):
        return np.asarray(values, dtype=np.float64)

    @staticmethod
    def sum(a, axis, keepdims=False):
        return np.sum(a, axis=axis, keepdims=keepdims)

    @staticmethod
    def amax(a, axis):
        return np.max(a, axis=axis, keepdims=True)

    @staticmethod
    def segment(x, n):
        """floor(x) clamped to 0..n-2, as integer indices."""
        return np.clip(np.floor(x), 0, n - 2).astype(np.int64)

    @staticmethod
    def count_below(ascending, x):
        """How many of the ascending values are below each x."""
        return np.searchsorted(ascending, x, side="left")

    @staticmethod
    def take(values, k):
        return np.asarray(values, dtype=np.float64)[k]


class _TorchOps:
    """Made on first use: torch is optional, and slow to import where no tensor is involved."""

    def __init__(self, torch):
        self.torch = torch
        for name in ("exp", "log", "log1p", "expm1", "sqrt", "sin", "cos", "tan", "atan2", "where"):
            setattr(self, name, getattr(torch, name))

    def array(self, values, like=None):
        device = like.device if isinstance(like, self.torch.Tensor) else None
        return self.torch.as_tensor(values, dtype=self.torch.float64, device=device)

    def sum(self, a, axis, keepdims=False):
        return self.torch.sum(a, dim=axis, keepdim=keepdims)

    def amax(self, a, axis):
        return self.torch.amax(a, dim=axis, keepdim=True)

    def segment(self, x, n):
        return self.torch.clamp(self.torch.floor(x), 0, n - 2).long()

    def count_below(self, ascending, x):
        ascending = self.torch.as_tensor(ascending, dtype=self.torch.float64, device=x.device)
        return self.torch.searchsorted(ascending, x.contiguous(), right=False)

    def take(self, values, k):
        return self.torch.as_tensor(values, dtype=self.torch.float64, device=k.device)[k]


_torch_ops = []


def _ops(*values):
    """torch operations if any value is a tensor, else NumPy's. A tensor means torch is imported."""
    torch = sys.modules.get("torch")
    if torch is not None and any(isinstance(v, torch.Tensor) for v in values):
        if not _torch_ops:
            _torch_ops.append(_TorchOps(torch))
        return _torch_ops[0]
    return _NumpyOps


def _like(value, *inputs):
    """A NumPy result back as a Python float where every input was a plain number."""
    if isinstance(value, np.ndarray) and value.ndim == 0 and all(np.ndim(i) == 0 and not hasattr(i, "device")
                                                                for i in inputs):
        return float(value)
    return value


def _attr(group, name):
    value = group.attrs[name]
    return value.decode() if isinstance(value, bytes) else value


# ---- noise schedules ----------------------------------------------------------------------------

def _softplus(xp, x):
    """log(1 + e^x) without overflow or loss of digits: math::softplus's two branches in one."""
    return xp.where(x > 0, x, 0.0 * x) + xp.log1p(xp.exp(-abs(x)))


class Schedule:
    """x_t = alpha_t x_0 + sigma_t n on [t_min, t_max]: alpha, sigma, lambda = log(alpha/sigma), its
    inverse t_of_lambda, s = sigma/alpha, f = d log alpha/dt and g2 = -2 sigma^2 dlambda/dt.
    A subclass gives log_alpha, sigma, lambda_, t_of_lambda, f and dlambda_dt for one kind; t may
    be a float, a NumPy array or a torch tensor."""
    kind = None
    parameter_names = ()

    def __init__(self, t_min, t_max, **parameters):
        self.t_min, self.t_max = float(t_min), float(t_max)
        unknown = set(parameters) - set(self.parameter_names)
        missing = set(self.parameter_names) - set(parameters)
        if unknown or missing:
            raise ValueError(f"schedule {self.kind}: parameters {sorted(self.parameter_names)} expected, "
                             f"got {sorted(parameters)}")
        self.parameters = {k: float(v) for k, v in parameters.items()}

    def __repr__(self):
        params = "".join(f", {k}={v!r}" for k, v in self.parameters.items())
        return f"{type(self).__name__}(t_min={self.t_min!r}, t_max={self.t_max!r}{params})"

    def _t(self, t):
        xp = _ops(t)
        return xp, xp.array(t)

    def alpha(self, t):
        xp, tt = self._t(t)
        return _like(xp.exp(self._log_alpha(xp, tt)), t)

    def sigma(self, t):
        xp, tt = self._t(t)
        return _like(self._sigma(xp, tt), t)

    def lambda_(self, t):
        """Half log-SNR log(alpha/sigma)."""
        xp, tt = self._t(t)
        return _like(self._lambda(xp, tt), t)

    def s(self, t):
        """sigma/alpha = exp(-lambda): the time of the canonical ODE."""
        xp, tt = self._t(t)
        return _like(xp.exp(-self._lambda(xp, tt)), t)

    def t_of_lambda(self, lam):
        xp, ll = self._t(lam)
        return _like(self._t_of_lambda(xp, ll), lam)

    def f(self, t):
        xp, tt = self._t(t)
        return _like(self._f(xp, tt), t)

    def g2(self, t):
        xp, tt = self._t(t)
        sig = self._sigma(xp, tt)
        return _like(-2.0 * sig * sig * self._dlambda_dt(xp, tt), t)

    # VP schedules: sigma^2 = 1 - alpha^2, lambda = log alpha - log(1 - alpha^2)/2.
    def _vp_sigma(self, xp, t):
        return xp.sqrt(-xp.expm1(2.0 * self._log_alpha(xp, t)))

    def _vp_lambda(self, xp, t):
        la = self._log_alpha(xp, t)
        return la - 0.5 * xp.log(-xp.expm1(2.0 * la))

    def _vp_dlambda_dt(self, xp, t):
        sig = self._vp_sigma(xp, t)
        return self._f(xp, t) / (sig * sig)


class VpLinear(Schedule):
    """VP, beta(t) = beta_min + t (beta_max - beta_min) (Song et al. 2021)."""
    kind, parameter_names = "vp-linear", ("beta_min", "beta_max")

    def _log_alpha(self, xp, t):
        b0, b1 = self.parameters["beta_min"], self.parameters["beta_max"]
        return -0.25 * t * t * (b1 - b0) - 0.5 * t * b0

    _sigma, _lambda, _dlambda_dt = Schedule._vp_sigma, Schedule._vp_lambda, Schedule._vp_dlambda_dt

    def _t_of_lambda(self, xp, lam):
        b0, b1 = self.parameters["beta_min"], self.parameters["beta_max"]
        l = _softplus(xp, -2.0 * lam)
        return 2.0 * l / (b0 + xp.sqrt(b0 * b0 + 2.0 * (b1 - b0) * l))

    def _f(self, xp, t):
        b0, b1 = self.parameters["beta_min"], self.parameters["beta_max"]
        return -0.5 * (b0 + t * (b1 - b0))


class VpCosine(Schedule):
    """VP, improved-DDPM cosine alpha-bar with offset s (Nichol & Dhariwal 2021)."""
    kind, parameter_names = "vp-cosine", ("s",)

    def _angle(self, t):
        offset = self.parameters["s"]
        return (t + offset) / (1.0 + offset) * 0.5 * math.pi

    def _log_alpha(self, xp, t):
        a, half_b_minus_a = self._angle(0.0), 0.25 * math.pi * t / (1.0 + self.parameters["s"])
        return xp.log1p(-2.0 * xp.sin(a + half_b_minus_a) * xp.sin(half_b_minus_a) / math.cos(a))

    _sigma, _lambda, _dlambda_dt = Schedule._vp_sigma, Schedule._vp_lambda, Schedule._vp_dlambda_dt

    def _t_of_lambda(self, xp, lam):
        offset, a = self.parameters["s"], self._angle(0.0)
        la = -0.5 * _softplus(xp, -2.0 * lam)
        x = xp.exp(la) * math.cos(a)
        sin_half = math.sin(0.5 * a)
        one_minus_x = 2.0 * sin_half * sin_half - math.cos(a) * xp.expm1(la)
        angle = xp.atan2(xp.sqrt(one_minus_x * (1.0 + x)), x)
        return angle * 2.0 * (1.0 + offset) / math.pi - offset

    def _f(self, xp, t):
        return -xp.tan(self._angle(t)) * 0.5 * math.pi / (1.0 + self.parameters["s"])


class Ve(Schedule):
    """VE, alpha = 1, sigma = sigma_min (sigma_max/sigma_min)^t (Song et al. 2021)."""
    kind, parameter_names = "ve", ("sigma_min", "sigma_max")

    def _log_alpha(self, xp, t):
        return 0.0 * t

    def _sigma(self, xp, t):
        p0, p1 = self.parameters["sigma_min"], self.parameters["sigma_max"]
        return p0 * xp.exp(t * math.log(p1 / p0))

    def _lambda(self, xp, t):
        p0, p1 = self.parameters["sigma_min"], self.parameters["sigma_max"]
        return -(math.log(p0) + t * math.log(p1 / p0))

    def _t_of_lambda(self, xp, lam):
        p0, p1 = self.parameters["sigma_min"], self.parameters["sigma_max"]
        return (-lam - math.log(p0)) / math.log(p1 / p0)

    def _f(self, xp, t):
        return 0.0 * t

    def _dlambda_dt(self, xp, t):
        p0, p1 = self.parameters["sigma_min"], self.parameters["sigma_max"]
        return -math.log(p1 / p0) + 0.0 * t


class Edm(Schedule):
    """EDM, alpha = 1, sigma = t (Karras et al. 2022)."""
    kind = "edm"

    def _log_alpha(self, xp, t):
        return 0.0 * t

    def _sigma(self, xp, t):
        return t

    def _lambda(self, xp, t):
        return -xp.log(t)

    def _t_of_lambda(self, xp, lam):
        return xp.exp(-lam)

    def _f(self, xp, t):
        return 0.0 * t

    def _dlambda_dt(self, xp, t):
        return -1.0 / t


class Flow(Schedule):
    """Flow matching / rectified flow, alpha = 1 - t, sigma = t."""
    kind = "flow"

    def _log_alpha(self, xp, t):
        return xp.log1p(-t)

    def _sigma(self, xp, t):
        return t

    def _lambda(self, xp, t):
        return xp.log1p(-t) - xp.log(t)

    def _t_of_lambda(self, xp, lam):
        return 1.0 / (1.0 + xp.exp(lam))

    def _f(self, xp, t):
        return -1.0 / (1.0 - t)

    def _dlambda_dt(self, xp, t):
        return -1.0 / (t * (1.0 - t))


class DdpmLinear(Schedule):
    """Discrete DDPM over 1000 training timesteps, beta linear in [beta_start, beta_end]: log alpha at
    t_n = (n + 1)/1000 is 1/2 cumsum log(1 - beta), linear in t in between and beyond (the official
    DPM-Solver's NoiseScheduleVP("discrete"))."""
    kind, parameter_names = "ddpm-linear", ("beta_start", "beta_end")
    timesteps = 1000

    def __init__(self, t_min, t_max, **parameters):
        super().__init__(t_min, t_max, **parameters)
        b0, b1 = self.parameters["beta_start"], self.parameters["beta_end"]
        self.table = 0.5 * np.cumsum(np.log1p(-self._betas(b0, b1, np.arange(self.timesteps) / (self.timesteps - 1))))

    @staticmethod
    def _betas(b0, b1, f):
        return b0 + f * (b1 - b0)

    def _log_alpha(self, xp, t):
        x = t * self.timesteps - 1.0
        k = xp.segment(x, self.timesteps)
        a0, a1 = xp.take(self.table, k), xp.take(self.table, k + 1)
        return a0 + (x - k) * (a1 - a0)

    _sigma, _lambda, _dlambda_dt = Schedule._vp_sigma, Schedule._vp_lambda, Schedule._vp_dlambda_dt

    def _t_of_lambda(self, xp, lam):
        # log alpha from lambda, then the piece of the decreasing table holding it, inverted.
        la = -0.5 * _softplus(xp, -2.0 * lam)
        n = self.timesteps
        lo = n - 1 - xp.count_below(self.table[::-1].copy(), la)
        lo = xp.segment(lo + 0.0 * la, n)
        a0, a1 = xp.take(self.table, lo), xp.take(self.table, lo + 1)
        return (lo + 1 + (la - a0) / (a1 - a0)) / n

    def _f(self, xp, t):
        k = xp.segment(t * self.timesteps - 1.0, self.timesteps)
        return (xp.take(self.table, k + 1) - xp.take(self.table, k)) * self.timesteps


class DdpmScaledLinear(DdpmLinear):
    """Discrete DDPM as Stable Diffusion: sqrt(beta) linear in [sqrt(beta_start), sqrt(beta_end)]."""
    kind = "ddpm-scaled-linear"

    @staticmethod
    def _betas(b0, b1, f):
        return (math.sqrt(b0) + f * (math.sqrt(b1) - math.sqrt(b0))) ** 2


SCHEDULE_KINDS = {cls.kind: cls for cls in (VpLinear, VpCosine, Ve, Edm, Flow, DdpmLinear, DdpmScaledLinear)}


def schedule_from_group(group):
    """The schedule an HDF5 group /schedules/<name> of a problem or results file describes."""
    kind = _attr(group, "kind") if "kind" in group.attrs else group.name.rsplit("/", 1)[-1]
    if kind not in SCHEDULE_KINDS:
        raise ValueError(f"schedule {group.name}: unknown kind {kind!r} (known: {', '.join(SCHEDULE_KINDS)})")
    cls = SCHEDULE_KINDS[kind]
    return cls(float(group.attrs["t_min"]), float(group.attrs["t_max"]),
               **{k: float(group.attrs[k]) for k in cls.parameter_names})


# ---- exact models -------------------------------------------------------------------------------

class DiagonalMixture:
    """sum_k w_k N(mu_k, diag(c_k^2)); one component is a Gaussian. Its canonical denoiser is
        D(y, s) = sum_k r_k(y, s) [mu_k + c_k^2 / (c_k^2 + s^2) (y - mu_k)],
    with responsibilities r_k proportional to w_k N(y; mu_k, diag(c_k^2 + s^2)) (DESIGN.md section 1)."""
    kind = "diagonal-mixture"

    def __init__(self, weights, means, stds):
        self.weights = np.asarray(weights, dtype=np.float64).reshape(-1)
        k = self.weights.size
        self.means = np.asarray(means, dtype=np.float64).reshape(k, -1)
        self.stds = np.asarray(stds, dtype=np.float64).reshape(k, -1)
        if self.stds.shape != self.means.shape or not np.all(self.stds >= 0) or not np.all(self.weights > 0):
            raise ValueError("diagonal mixture: needs positive weights (K), stds >= 0, means and stds of K x dim")
        self.weights = self.weights / self.weights.sum()
        self.dim = self.means.shape[1]
        self._constants = {}  # per torch device: the parameters as tensors

    @classmethod
    def from_group(cls, group):
        return cls(group["weights"][()], group["means"][()], group["stds"][()])

    def _parameters(self, xp, like):
        key = (xp, str(getattr(like, "device", "")))
        if key not in self._constants:
            self._constants[key] = tuple(xp.array(a, like=like) for a in
                                         (np.log(self.weights), self.means, self.stds * self.stds))
        return self._constants[key]

    def denoise(self, y, s):
        """D(y, s) for y of shape (..., dim) and s a number or of shape (...)."""
        xp = _ops(y, s)
        y = xp.array(y, like=y)
        log_w, mu, var = self._parameters(xp, y)
        s = xp.array(s, like=y)[..., None, None]  # broadcast over components and coordinates
        v = var + s * s                            # (..., K, dim)
        d = y[..., None, :] - mu
        log_r = log_w - 0.5 * (xp.sum(d * d / v, -1) + xp.sum(xp.log(v), -1))  # up to a common constant
        r = xp.exp(log_r - xp.amax(log_r, -1))
        r = r / xp.sum(r, -1, keepdims=True)
        return xp.sum(r[..., None] * (mu + var / v * d), -2)


class FullCovarianceMixture:
    """sum_k w_k N(mu_k, U_k diag(c_k^2) U_k^T) with U_k orthogonal (DESIGN.md section 4). In
    component k's eigenbasis, z = U_k^T y and m_k = U_k^T mu_k, it is the diagonal mixture:
        D_k(y, s) = U_k [c_k^2 / (c_k^2 + s^2) z + s^2 / (c_k^2 + s^2) m_k],
    with log-responsibilities log w_k - 1/2 sum_j ((z_j - m_kj)^2 / (c_kj^2 + s^2) + log(c_kj^2 + s^2))
    up to a common constant (src/model/full_covariance.hpp). Zero c_kj are allowed for s > 0."""
    kind = "full-covariance-mixture"

    def __init__(self, weights, means, stds, rotations):
        self.weights = np.asarray(weights, dtype=np.float64).reshape(-1)
        k = self.weights.size
        self.means = np.asarray(means, dtype=np.float64).reshape(k, -1)
        self.stds = np.asarray(stds, dtype=np.float64).reshape(k, -1)
        self.dim = self.means.shape[1]
        self.rotations = np.asarray(rotations, dtype=np.float64).reshape(k, self.dim, self.dim)
        if self.stds.shape != self.means.shape or not np.all(self.stds >= 0) or not np.all(self.weights > 0):
            raise ValueError("full-covariance mixture: needs positive weights (K), stds >= 0 and means of K x dim")
        gram = np.einsum("kij,kil->kjl", self.rotations, self.rotations)
        if not np.all(np.abs(gram - np.eye(self.dim)) <= 1e-10):
            raise ValueError("full-covariance mixture: rotations must be orthogonal")
        self.weights = self.weights / self.weights.sum()
        self.eigen_means = np.einsum("kij,ki->kj", self.rotations, self.means)  # U_k^T mu_k
        self._constants = {}

    @classmethod
    def from_group(cls, group):
        return cls(group["weights"][()], group["means"][()], group["stds"][()], group["rotations"][()])

    def _parameters(self, xp, like):
        key = (xp, str(getattr(like, "device", "")))
        if key not in self._constants:
            self._constants[key] = tuple(xp.array(a, like=like) for a in
                                         (np.log(self.weights), self.eigen_means, self.stds * self.stds,
                                          self.rotations))
        return self._constants[key]

    def denoise(self, y, s):
        """D(y, s) for y of shape (..., dim) and s a number or of shape (...)."""
        xp = _ops(y, s)
        y = xp.array(y, like=y)
        log_w, m, var, u = self._parameters(xp, y)
        s = xp.array(s, like=y)[..., None, None]
        z = xp.sum(u * y[..., None, :, None], -2)           # (..., K, dim): U_k^T y
        v = var + s * s
        d = z - m
        log_r = log_w - 0.5 * (xp.sum(d * d / v, -1) + xp.sum(xp.log(v), -1))
        r = xp.exp(log_r - xp.amax(log_r, -1))
        r = r / xp.sum(r, -1, keepdims=True)
        mean = xp.sum(u * (m + var / v * d)[..., None, :], -1)  # (..., K, dim): U_k (eigenbasis mean)
        return xp.sum(r[..., None] * mean, -2)


class PerturbedModel:
    """An exact model with a controlled denoiser error (src/model/perturbed.hpp):
        D_m(y, s) = D(y, s) + eps(s) e(y / sqrt(1 + s^2)),  e(u) = b + sum_f a_f cos(omega_f . u + phi_f),
    eps(s) = size (constant), size s^p (power), size c^2/(c^2 + s^2) (low-noise), size
    s^2/(c^2 + s^2) (high-noise), with p = error_exponent and c = error_scale. Not the denoiser of
    any distribution: the flow it drives is the imperfect model's, not the data's."""

    def __init__(self, exact, bias, frequencies, amplitudes, phases, profile, size, exponent, scale):
        self.exact, self.dim, self.kind = exact, exact.dim, "perturbed-" + exact.kind
        self.bias = np.asarray(bias, dtype=np.float64).reshape(self.dim)
        self.phases = np.asarray(phases, dtype=np.float64).reshape(-1)
        self.frequencies = np.asarray(frequencies, dtype=np.float64).reshape(self.phases.size, self.dim)
        self.amplitudes = np.asarray(amplitudes, dtype=np.float64).reshape(self.phases.size, self.dim)
        if profile not in ("constant", "power", "low-noise", "high-noise") or not size >= 0 or not scale > 0:
            raise ValueError(f"perturbed model: bad error profile {profile!r} (size {size}, scale {scale})")
        self.profile, self.size, self.exponent, self.scale = profile, size, exponent, scale
        self._constants = {}

    @classmethod
    def from_group(cls, group):
        kind = _attr(group, "kind")[len("perturbed-"):]
        exact = MODEL_KINDS[kind].from_group(group)
        features = group["error_phases"][()] if "error_phases" in group else np.zeros(0)
        zeros = np.zeros((features.size, exact.dim))
        return cls(exact, group["error_bias"][()], group["error_frequencies"][()] if features.size else zeros,
                   group["error_amplitudes"][()] if features.size else zeros, features,
                   _attr(group, "error_profile"), float(group.attrs["error_size"]),
                   float(group.attrs["error_exponent"]), float(group.attrs["error_scale"]))

    def eps(self, xp, s):
        if self.profile == "power":
            return self.size * s ** self.exponent
        c2 = self.scale * self.scale
        if self.profile == "low-noise":
            return self.size * (c2 / (c2 + s * s))
        if self.profile == "high-noise":
            return self.size * (s * s / (c2 + s * s))
        return self.size + 0.0 * s

    def denoise(self, y, s):
        xp = _ops(y, s)
        y = xp.array(y, like=y)
        key = (xp, str(getattr(y, "device", "")))
        if key not in self._constants:
            self._constants[key] = tuple(xp.array(a, like=y) for a in
                                         (self.bias, self.frequencies, self.amplitudes, self.phases))
        bias, omega, a, phi = self._constants[key]
        s_ = xp.array(s, like=y)
        c_in = 1 / xp.sqrt(1 + s_ * s_)  # the field sees the normalised input, as a network does
        e = bias + xp.sum(a * xp.cos(c_in[..., None] * xp.sum(omega * y[..., None, :], -1) + phi)[..., None], -2)
        return self.exact.denoise(y, s) + self.eps(xp, s_)[..., None] * e


class Network:
    """A trained MLP denoiser with EDM preconditioning (src/model/network.hpp, training/edm_mlp.py):
        D(y, s) = c_skip y + c_out F([c_in y, cos(2 pi f c_noise), sin(2 pi f c_noise)]),
    c_skip = sd^2/(s^2 + sd^2), c_out = s sd/sqrt(s^2 + sd^2), c_in = 1/sqrt(s^2 + sd^2),
    c_noise = log(s)/4, F Linear layers with SiLU between them. `exact` is the mixture it was
    trained on (the group's weights, means and stds), the network the group's "network"."""
    kind = "network"

    def __init__(self, weights, biases, frequencies, sigma_data, exact):
        self.weights = [np.asarray(w, dtype=np.float64) for w in weights]
        self.biases = [np.asarray(b, dtype=np.float64) for b in biases]
        self.frequencies = np.asarray(frequencies, dtype=np.float64).reshape(-1)
        self.sigma_data, self.exact, self.dim = float(sigma_data), exact, exact.dim
        self._constants = {}

    @classmethod
    def from_group(cls, group):
        net = group["network"]
        n = int(net.attrs["layers"])
        if _attr(net, "activation") != "silu":
            raise ValueError(f"model {group.name}: unknown activation {_attr(net, 'activation')!r} (known: silu)")
        return cls([net[f"layers/{l}/weight"][()] for l in range(n)], [net[f"layers/{l}/bias"][()] for l in range(n)],
                   net["embedding/frequencies"][()], float(net.attrs["sigma_data"]), DiagonalMixture.from_group(group))

    def denoise(self, y, s):
        """D(y, s) for y of shape (..., dim) and s a number or of shape (...)."""
        xp = _ops(y, s)
        y = xp.array(y, like=y)
        key = (xp, str(getattr(y, "device", "")))
        if key not in self._constants:
            self._constants[key] = ([xp.array(w.T, like=y) for w in self.weights],
                                    [xp.array(b, like=y) for b in self.biases], xp.array(self.frequencies, like=y))
        weights, biases, freqs = self._constants[key]
        s = xp.array(s, like=y)[..., None] + 0.0 * y[..., :1]  # (..., 1)
        sd = self.sigma_data
        norm = xp.sqrt(s * s + sd * sd)
        angle = (2 * math.pi) * (xp.log(s) / 4) * freqs
        h = _concat(xp, [y * (1.0 / norm), xp.cos(angle), xp.sin(angle)])
        for w, b in zip(weights[:-1], biases[:-1]):
            h = h @ w + b
            e = xp.exp(-xp.where(h >= 0, h, -h))  # SiLU without overflow
            h = xp.where(h >= 0, h, h * e) / (1 + e)
        return sd * sd / (s * s + sd * sd) * y + s * sd / norm * (h @ weights[-1] + biases[-1])


class GuidedModel:
    """Classifier-free guidance on a class-conditional diagonal mixture (src/model/guided.hpp):
        D_w(y, s) = (1 + w) D(y, s | c) - w D(y, s)  for s_lo <= s <= s_hi,  D(y, s | c) elsewhere,
    D(y | c) the mixture of class c's components (component k in class component_classes[k]) with
    their weights renormalised, D(y) the mixture of every component. Each point has a class:
    denoise(y, s, classes) takes them (shape (...)); sample_classes(seed) gives those of the
    run's samples of a run seed, as the results file records them."""
    kind = "guided-diagonal-mixture"

    def __init__(self, weights, means, stds, component_classes, weight, s_lo=0.0, s_hi=math.inf,
                 sample_classes=None):
        self.unconditional = DiagonalMixture(weights, means, stds)
        self.dim = self.unconditional.dim
        self.component_classes = np.asarray(component_classes, dtype=np.int64).reshape(-1)
        u = self.unconditional
        if self.component_classes.size != u.weights.size or np.any(self.component_classes < 0):
            raise ValueError("guided model: needs one class >= 0 per component")
        self.conditional = []
        for c in range(int(self.component_classes.max()) + 1):
            rows = self.component_classes == c
            if not np.any(rows):
                raise ValueError(f"guided model: class {c} has no components")
            self.conditional.append(DiagonalMixture(u.weights[rows], u.means[rows], u.stds[rows]))
        if not weight >= 0 or not s_lo <= s_hi:
            raise ValueError(f"guided model: bad guidance weight {weight} or interval [{s_lo}, {s_hi}]")
        self.weight, self.s_lo, self.s_hi = float(weight), float(s_lo), float(s_hi)
        self._sample_classes = dict(sample_classes or {})  # run seed -> classes of its samples

    @classmethod
    def from_group(cls, group):
        classes = {}
        if "sample_classes" in group:
            seeds = group["sample_class_seeds"][()]
            rows = group["sample_classes"][()].reshape(seeds.size, -1)
            classes = {int(seed): row for seed, row in zip(seeds, rows)}
        return cls(group["weights"][()], group["means"][()], group["stds"][()], group["component_classes"][()],
                   float(group.attrs["guidance_weight"]), float(group.attrs["guidance_s_lo"]),
                   float(group.attrs["guidance_s_hi"]), classes)

    def sample_classes(self, seed):
        """The classes of the run's samples of run seed `seed` (the results file's record)."""
        return self._sample_classes[int(seed)]

    def denoise(self, y, s, classes):
        """D_w(y, s) for y of shape (..., dim), s a number or of shape (...), classes of shape (...)."""
        xp = _ops(y, s)
        y = xp.array(y, like=y)
        s = xp.array(s, like=y) + 0.0 * y[..., 0]
        classes = xp.array(np.asarray(classes, dtype=np.float64), like=y)[..., None] + 0.0 * y
        out = 0.0 * y
        for c, mixture in enumerate(self.conditional):
            out = xp.where(classes == c, mixture.denoise(y, s), out)
        if self.weight == 0:
            return out
        on = ((s >= self.s_lo) & (s <= self.s_hi))[..., None]
        return xp.where(on, (1 + self.weight) * out - self.weight * self.unconditional.denoise(y, s), out)


def _concat(xp, arrays):
    if xp is _NumpyOps:
        return np.concatenate(arrays, axis=-1)
    return xp.torch.cat(arrays, dim=-1)


MODEL_KINDS = {cls.kind: cls for cls in (DiagonalMixture, FullCovarianceMixture)}
MODEL_KINDS.update({"perturbed-" + kind: PerturbedModel for kind in list(MODEL_KINDS)})
MODEL_KINDS[Network.kind] = Network  # (not perturbed: a network is already an imperfect model)
MODEL_KINDS[GuidedModel.kind] = GuidedModel  # denoise(y, s, classes): each point's class


def model_from_group(group):
    """The model an HDF5 group /models/<name> of a problem or results file describes."""
    kind = _attr(group, "kind") if "kind" in group.attrs else DiagonalMixture.kind  # files before kinds
    if kind not in MODEL_KINDS:
        raise ValueError(f"model {group.name}: unknown kind {kind!r} (known: {', '.join(MODEL_KINDS)})")
    return MODEL_KINDS[kind].from_group(group)


# ---- predictions at a time of a schedule --------------------------------------------------------

class ExactDenoiser:
    """The exact model of `model` under `schedule`, in the parametrisations samplers use: for x of
    shape (..., dim) at t (a number, or of shape (...) for one time per state)
        x0 = D(x/alpha, s),  eps = (x - alpha x0)/sigma,  score = -eps/sigma,  v = alpha eps - sigma x0
    (the conventions of DESIGN.md section 1 and model/mixture.hpp)."""

    def __init__(self, model, schedule):
        self.model, self.schedule = model, schedule

    def D(self, y, s):
        """Canonical denoiser E[x_0 | x_0 + s n = y]."""
        return self.model.denoise(y, s)

    def _at(self, x, t):
        xp = _ops(x, t)
        tt = xp.array(t, like=x)
        alpha = xp.exp(self.schedule._log_alpha(xp, tt))[..., None]
        sigma = self.schedule._sigma(xp, tt)[..., None]
        s = xp.exp(-self.schedule._lambda(xp, tt))
        x = xp.array(x, like=x)
        x0 = self.model.denoise(x * (1.0 / alpha), s)  # as the solvers rescale (solver/lane.hpp)
        return x, x0, alpha, sigma

    def x0(self, x, t):
        return self._at(x, t)[1]

    def eps(self, x, t):
        x, x0, alpha, sigma = self._at(x, t)
        return (x - alpha * x0) / sigma

    def score(self, x, t):
        x, x0, alpha, sigma = self._at(x, t)
        return -((x - alpha * x0) / sigma) / sigma

    def v(self, x, t):
        x, x0, alpha, sigma = self._at(x, t)
        return alpha * ((x - alpha * x0) / sigma) - sigma * x0
