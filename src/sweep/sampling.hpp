// The measurements of a cell that need no ODE reference (solver/sample.hpp): the strong error of a
// stochastic sampler against the same SDE on the same Brownian path, and the weak error of any
// fixed-grid solver's law against the exact one (metrics/weak_error.hpp).
#pragma once

#include <vector>

#include "metrics/weak_error.hpp"
#include "solver/sample.hpp"
#include "sweep/plan.hpp"

namespace pfode::sweep {

// Every step of `times` split into `factor` steps of equal length in lambda (the ends kept exactly,
// so the grids nest and a path's fine increments sum to the coarse ones).
std::vector<double> refine_times(const schedule::Schedule& sched, const std::vector<double>& times, int factor);

// The strong error of a stochastic sampler on one grid: its run x and the reference x*, the same
// sampler on the grid refined `refinement` times, on the same path from the same start states;
// x** at half the refinement estimates the reference's error as RMS_samples |x*_N - x**_N| /
// (2^p - 1), p the strong order (the error of an order-p sampler halves p times per halving).
struct StrongRun {
  solver::SampleRun run;                  // the cell's own run
  int points = 0, dim = 0;                // N + 1 grid points
  std::vector<double> error;              // samples x points: RMS over coordinates of x_i - x*_i
  std::vector<double> exact_final_rms;    // samples: RMS of x*_N
  std::vector<double> states, reference;  // host, samples x points x dim: x and x*
  double reference_error = 0;
  double reference_seconds = 0;
};
StrongRun strong_run(const solver::SolverSpec& spec, const schedule::Schedule& sched, const std::vector<double>& times,
                     const model::DeviceModel& model, Kokkos::View<const double**> y_start,
                     const solver::SampleSettings& settings, int refinement, double final_alpha);

// The weak error of a cell's solver: e.weak_samples final states, from start states drawn at the
// grid's first time (seed, sample) as for the cell, in chunks of whole MMD blocks, against
// `target`. grid: the cell's grid in t; final_alpha as for solver::sample_solver.
metrics::WeakErrors weak_run(const Experiment& e, const Cell& cell, const solver::StepGrid& grid,
                             const model::DeviceModel& model, const metrics::TargetMixture& target, double final_alpha,
                             double& seconds);

}  // namespace pfode::sweep
