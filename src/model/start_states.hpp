// Start states of the sampler at t_max, in canonical form y_T = x_T / alpha_T. Random states come
// from the counter generator keyed by (seed, sample, coordinate): sample p is the same number on
// every backend, thread count, batch split and MPI rank.
#pragma once

#include <cstdint>
#include <string>

#include "model/model_spec.hpp"

namespace pfode::model {

enum class StartMode {
  marginal,  // exact draw from p(x; t_max): component k ~ w, y = mu_k + sqrt(c_k^2 + s_T^2) z
  prior,     // x_T ~ N(0, (alpha_T^2 + sigma_T^2) I), the usual prior (exact for unit-variance data)
  file,      // x_T read from an HDF5 dataset (samples x dim), e.g. the inputs another tool used
};

StartMode parse_start_mode(const std::string& name);  // throws std::invalid_argument
const char* start_mode_name(StartMode mode);

struct StartSpec {
  StartMode mode = StartMode::marginal;
  // mode file: the dataset's name may hold {model} and {schedule}, replaced by the group's names,
  // so that one file holds a dataset per model, or per (model, schedule).
  std::string file, dataset = "x_T";
};

// The dataset a (model, schedule) group reads: start.dataset with {model} and {schedule} replaced;
// throws std::invalid_argument for any other {...}.
std::string start_dataset(const StartSpec& start, const std::string& model, const std::string& schedule);

// Host array samples x dim (row-major) of y_T; `schedule` names the group's schedule (for a file's
// {schedule} placeholder).
std::vector<double> start_states(const ModelSpec& model, const StartSpec& start, std::uint64_t seed, int samples,
                                 double alpha_T, double sigma_T, const std::string& schedule = "");

}  // namespace pfode::model
