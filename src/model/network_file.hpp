// The host side of `kind = network` (model/network.hpp): the `pfode-network-1` format that
// training/train_denoiser.py writes (layout in training/edm_mlp.py), read and validated, written
// back into problem and results files, and copied to the device.
//
//   attrs     format = "pfode-network-1", activation = "silu", preconditioning = "edm",
//             noise_embedding = "fourier", sigma_data, dim, layers (Linear layers, >= 2)
//   embedding/frequencies   F Fourier frequencies
//   layers/<l>/weight       out x in (PyTorch's layout); layer 0 takes dim + 2F inputs, the last
//   layers/<l>/bias         gives dim outputs, each takes the previous layer's outputs
//   exact/                  (network files) the mixture it was trained on: weights, means, stds
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "common/fingerprint.hpp"
#include "io/hdf5.hpp"
#include "model/model_spec.hpp"
#include "model/network.hpp"

namespace pfode::model {

struct NetworkSpec {
  int dim = 0;
  double sigma_data = 1.0;
  std::vector<double> frequencies;                  // F
  std::vector<std::vector<double>> weights, biases;  // per layer: out x in row-major, out
  std::vector<int> inputs, outputs;                 // per layer
  std::string exact_name;                           // the mixture it was trained on, as the file names it
  std::string training;                             // the file's provenance, as "key=value; ..."
};

// The network stored under `g` (a network file's root, or a model group's "network"); throws
// std::invalid_argument "what: problem", one problem per message: not the format, an unknown
// activation, preconditioning or embedding, a missing layer, a weight or bias of the wrong shape,
// a non-finite parameter.
NetworkSpec read_network(const io::Group& g, const std::string& what);
void write_network(const io::Group& g, const NetworkSpec& net);

// The model of a network file: the network, and in weights/means/stds the mixture it was trained
// on (its exact denoiser, and where start states are drawn). Throws std::invalid_argument naming
// the model and the file; also when the network's dimension differs from the mixture's or from
// `dim` (> 0: the config's).
ModelSpec load_network_model(const std::string& name, const std::string& path, int dim = 0);

// Every parameter that changes D, into a checkpoint's or problem file's fingerprint.
inline void add_to(Fingerprint& f, const NetworkSpec& net) {
  f.add(net.sigma_data);
  f.add(net.frequencies);
  for (size_t l = 0; l < net.weights.size(); ++l) {
    f.add(net.weights[l]);
    f.add(net.biases[l]);
  }
}

// The device kind, with its parameters copied to the device.
Network network_device(const NetworkSpec& net);

// FLOPs of one evaluation per sample when `pack` samples share s (the terms of s divided among
// them), as bench::denoise_cost counts: a multiply-add 2, SiLU's exp apart (`exps`).
struct NetworkCost {
  double flops = 0, exps = 0;
};
NetworkCost network_cost(const NetworkSpec& net, int pack);

}  // namespace pfode::model
