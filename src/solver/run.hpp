// Host entry point: run one solver over a batch of samples on one grid and bring back the
// per-sample global errors along the grid, the LTE of every step and the NFE each sample spent.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "lane/layout.hpp"
#include "model/kinds.hpp"
#include "solver/drivers.hpp"
#include "solver/registry.hpp"

namespace pfode::solver {

struct SolverRun {
  int samples = 0, steps = 0;
  std::vector<double> global_error;     // samples x (steps + 1), row-major
  std::vector<double> local_error;      // samples x steps (empty unless requested; adaptive solvers:
                                        // NaN, LTE is not defined for them)
  std::vector<double> exact_final_rms;  // samples: RMS of the final target (x*(t_N), or x*(0))
  std::vector<double> final_state;      // samples x dim, row-major: x_N (after a final denoise)
  std::vector<long> nfe;                // samples, counted by the model during the trajectory
  std::vector<long> local_error_nfe;    // samples, counted during the LTE runs (empty without them)
  std::vector<long> accepted_steps, rejected_steps;  // samples; adaptive solvers only (else empty)
  // The trace of sample 0: the s of each of its model evaluations (every one, unless it spent more
  // than the room kept: eval_s holds the first), and each step's order and corrector flag
  // (fixed-grid solvers; empty for adaptive ones).
  std::vector<double> eval_s;
  std::vector<int> step_order, step_corrected;
  double trajectory_seconds = 0, local_error_seconds = 0;  // kernel wall times
  std::string layout;  // how the kernels ran: "packs" or "teams"
};

// The solver on whichever kind of model `model` holds. exact.zero >= 0: a final=denoise spec ends
// at sigma = 0 and is measured against x*(0). record: where to keep the states at every grid point
// of chosen samples (empty: none).
SolverRun run_solver(const SolverSpec& spec, const StepGrid& grid, const model::DeviceModel& model,
                     const ExactStates& exact, int samples, bool measure_local_error,
                     const lane::KernelLayout& layout = {}, const StateRecord& record = {});

// The solver on one kind of model (model/concept.hpp): defined in solver/run_impl.hpp and compiled
// for every kind of model/kinds.hpp in its own translation unit (src/kinds/).
template <class Model>
SolverRun run_solver(const SolverSpec& spec, const StepGrid& grid, const Model& model, const ExactStates& exact,
                     int samples, bool measure_local_error, const lane::KernelLayout& layout = {},
                     const StateRecord& record = {});

}  // namespace pfode::solver
