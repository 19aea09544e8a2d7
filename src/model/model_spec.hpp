// Host-side description of an exact model (a diagonal Gaussian mixture; one component is the
// Gaussian), from config values, an HDF5 file or a seeded random draw, and its device form.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "model/kinds.hpp"

namespace pfode::model {

struct NetworkSpec;  // model/network_file.hpp

struct ModelSpec {
  std::string name;
  std::string source;           // how it was defined: "config", "random(seed=...)", or the file path
  int dim = 0, components = 0;
  std::vector<double> weights;  // K, sum 1
  std::vector<double> means;    // K x dim, row-major
  std::vector<double> stds;     // K x dim, row-major
  // A learned denoiser (`kind = network`): it is the model, and the mixture above is the exact
  // one it was trained on (start states, its denoiser error). Null for the exact mixture.
  std::shared_ptr<const NetworkSpec> network;

  bool is_gaussian() const { return components == 1 && !network; }
  // The kind of model, as the results and problem files record it.
  std::string kind() const { return network ? "network" : "diagonal-mixture"; }
};

// Beyond this scale (|means|, stds and 1/stds) the squares the exact denoiser and the error norms
// take would overflow or underflow.
inline constexpr double max_model_scale = 1e100;

// Validates shapes and values (weights positive and finite, |means| <= 1e100, stds in
// [1e-100, 1e100]) and normalises the weights; throws std::invalid_argument naming the model and
// the problem.
ModelSpec make_model(const std::string& name, int dim, std::vector<double> weights, std::vector<double> means,
                     std::vector<double> stds, const std::string& source);

// Weights a user gives (config, file) must sum to 1, to 1e-6 (the rounding of their last digits,
// normalised away): other sums are a typo more often than a choice, and are refused.
void require_unit_sum(const std::string& name, const std::vector<double>& weights);

// Reads datasets "weights" (K), "means" (K x dim) and "stds" (K x dim) from an HDF5 file.
ModelSpec load_model_file(const std::string& name, const std::string& path);

// A reproducible random mixture: means uniform in [-spread, spread]^dim, stds uniform in
// [std_min, std_max], weights uniform in [1, 2] normalised; drawn from the counter generator.
ModelSpec random_mixture(const std::string& name, int dim, int components, std::uint64_t seed, double spread,
                         double std_min, double std_max);

// The device form of the model: the kind that evaluates it (model/kinds.hpp).
DeviceModel to_device(const ModelSpec& spec);

}  // namespace pfode::model
