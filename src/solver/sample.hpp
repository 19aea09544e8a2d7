// Host entry point of sampling runs: any solver -- deterministic or stochastic -- over a batch of
// start states on one grid, keeping the states at every `stride`-th grid point on the device. No
// reference is involved: the strong error compares two such runs on one Brownian path
// (sweep/strong_error.cpp), the weak error the final states' law with the exact one
// (metrics/weak_error.hpp).
#pragma once

#include <string>
#include <vector>

#include "brownian/brownian_path.hpp"
#include "lane/layout.hpp"
#include "model/kinds.hpp"
#include "solver/registry.hpp"
#include "solver/step_grid.hpp"

namespace pfode::solver {

struct SampleSettings {
  brownian::BrownianPath path;  // the noise of stochastic solvers
  long first_sample = 0;        // batch row p is sample first_sample + p of the run (its path)
  int stride = 1;               // keep x at grid points 0, stride, 2 stride, ..., N (stride divides N)
  lane::KernelLayout layout;
};

struct SampleRun {
  int samples = 0, points = 0, dim = 0;
  // (sample, point, coordinate): x at the kept grid points in the schedule's scale; the last point
  // after a final denoise (alpha = its alpha: alpha_N, or 1 under denoise_to_zero).
  Kokkos::View<double***> states;
  std::vector<long> nfe;  // per sample, counted by the model
  double seconds = 0;     // kernel wall time
  std::string layout;     // "packs" or "teams"
};

// y_start: (sample, coordinate) canonical states y = x/alpha at the grid's first time.
// final_alpha: the alpha of a final denoise's state (alpha_N, or 1 for sigma = 0). Throws
// std::invalid_argument for adaptive solvers (their steps are their own) and a stride that does
// not divide the steps.
SampleRun sample_solver(const SolverSpec& spec, const StepGrid& grid, const model::DeviceModel& model,
                        Kokkos::View<const double**> y_start, const SampleSettings& settings, double final_alpha);

template <class Model>
SampleRun sample_solver(const SolverSpec& spec, const StepGrid& grid, const Model& model,
                        Kokkos::View<const double**> y_start, const SampleSettings& settings, double final_alpha);

// The host copy of run.states (sample, point, coordinate), row-major.
std::vector<double> states_on_host(const SampleRun& run);

}  // namespace pfode::solver
