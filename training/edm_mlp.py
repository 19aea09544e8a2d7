"""The learned denoiser pfode evaluates as `kind = network`: an MLP with EDM preconditioning, in PyTorch.

    D(y, s) = c_skip(s) y + c_out(s) F([c_in(s) y, cos(2 pi f c_noise(s)), sin(2 pi f c_noise(s))])
    c_skip = sd^2 / (s^2 + sd^2),  c_out = s sd / sqrt(s^2 + sd^2),  c_in = 1 / sqrt(s^2 + sd^2),
    c_noise = log(s) / 4                                   (Karras et al. 2022, Table 1; sd = sigma_data)

with y = x / alpha and s = sigma / alpha (pfode's canonical variables, DESIGN.md section 1), F a
stack of Linear layers with SiLU between them, and f fixed Fourier frequencies. The file format
(`pfode-network-1`) is written and read here; src/model/network_file.cpp reads the same file.

    /                       attrs format = "pfode-network-1", activation = "silu",
                            preconditioning = "edm", noise_embedding = "fourier", sigma_data,
                            dim, layers (number of Linear layers), provenance (how it was trained)
    /embedding/frequencies  F: the features are [cos(2 pi f c_noise) (F), sin(2 pi f c_noise) (F)]
    /layers/<i>/weight      out x in (PyTorch's layout): layer 0 takes dim + 2F inputs, the last
    /layers/<i>/bias        gives dim outputs, each takes the previous one's outputs
    /exact                  the mixture it was trained on: weights (K), means, stds (K x dim), attr name
"""
import math

import h5py
import numpy as np
import torch

FORMAT = "pfode-network-1"


class EdmMlp(torch.nn.Module):
    def __init__(self, dim, width, layers, frequencies, sigma_data):
        super().__init__()
        if layers < 2:
            raise ValueError("an MLP denoiser needs at least 2 layers")
        self.dim, self.sigma_data = dim, float(sigma_data)
        self.register_buffer("frequencies", torch.as_tensor(frequencies, dtype=torch.float32).reshape(-1))
        n_in = dim + 2 * self.frequencies.numel()
        sizes = [n_in] + [width] * (layers - 1) + [dim]
        self.layers = torch.nn.ModuleList(torch.nn.Linear(a, b) for a, b in zip(sizes[:-1], sizes[1:]))

    def forward(self, y, s):
        """D(y, s) for y of shape (N, dim) and s a number or of shape (N,)."""
        s = torch.as_tensor(s, dtype=y.dtype).reshape(-1, 1).expand(y.shape[0], 1)
        sd = self.sigma_data
        norm = torch.sqrt(s * s + sd * sd)
        c_skip, c_out, c_in = sd * sd / (s * s + sd * sd), s * sd / norm, 1.0 / norm
        angle = (2 * math.pi) * (torch.log(s) / 4) * self.frequencies.to(y.dtype)
        h = torch.cat([c_in * y, torch.cos(angle), torch.sin(angle)], dim=1)
        for layer in self.layers[:-1]:
            h = torch.nn.functional.silu(layer(h))
        return c_skip * y + c_out * self.layers[-1](h)


def write_network(path, net, exact, exact_name, provenance):
    """Writes `net` (its parameters as float64) and the mixture it was trained on to `path`."""
    with h5py.File(path, "w") as f:
        f.attrs.update(format=FORMAT, activation="silu", preconditioning="edm", noise_embedding="fourier",
                       sigma_data=net.sigma_data, dim=net.dim, layers=len(net.layers))
        f.attrs.update(provenance)
        f["embedding/frequencies"] = net.frequencies.double().numpy()
        for i, layer in enumerate(net.layers):
            f[f"layers/{i}/weight"] = layer.weight.detach().double().numpy()
            f[f"layers/{i}/bias"] = layer.bias.detach().double().numpy()
        g = f.create_group("exact")
        g.attrs["name"] = exact_name
        g["weights"], g["means"], g["stds"] = exact.weights, exact.means, exact.stds


def read_network(path, dtype=torch.float64):
    """The EdmMlp a `pfode-network-1` file holds, with its parameters in dtype."""
    with h5py.File(path, "r") as f:
        if f.attrs.get("format") != FORMAT:
            raise ValueError(f"{path}: not a {FORMAT} file")
        n = int(f.attrs["layers"])
        weights = [f[f"layers/{i}/weight"][()] for i in range(n)]
        biases = [f[f"layers/{i}/bias"][()] for i in range(n)]
        freqs = f["embedding/frequencies"][()]
        net = EdmMlp(int(f.attrs["dim"]), weights[0].shape[0], n, freqs, float(f.attrs["sigma_data"]))
    net = net.to(dtype)
    net.frequencies = torch.as_tensor(freqs, dtype=dtype)
    with torch.no_grad():
        for layer, w, b in zip(net.layers, weights, biases):
            layer.weight.copy_(torch.as_tensor(w))
            layer.bias.copy_(torch.as_tensor(b))
    return net
