// Throughput benchmark of pfode's kernels: the model evaluation alone, the fixed-grid solvers as a
// sweep runs them (solver::run_solver, no LTE) and the DOP853 reference, on one problem: a
// diagonal Gaussian mixture and start states, on the EDM schedule (alpha = 1, so x = y and t = s,
// and every solver integrates the canonical ODE dy/ds = (y - D(y, s))/s on a Karras grid).
// Throughput is sample-evaluations per second: samples x NFE per sample / wall seconds.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "model/model_spec.hpp"
#include "schedule/schedule.hpp"
#include "lane/layout.hpp"

namespace pfode::bench {

// Cost of one model evaluation D(y, s) (DiagonalMixture::denoise, through lane::PackLane) for one
// sample, when `pack` samples share the terms that depend on s only (1/(c^2 + s^2), the
// log-determinants), which are then counted once per pack and divided by it.
// Convention: add, sub, mul, div each 1 FLOP, a fused multiply-add 2; exp and log are counted
// separately, not as FLOPs; each operation the formula needs is counted once. Bytes: every
// distinct double an evaluation reads or writes, once (model parameters 2 K dim + K, input and
// output 2 dim) -- the traffic if nothing stayed in cache between evaluations.
// Full covariances (FullCovarianceMixture) add two d x d rotations per component and sample,
// z = U^T y and U (the eigenbasis mean): 2 d^2 fma, 4 d^2 FLOPs, and K d^2 doubles of parameters.
struct EvalCost {
  double flops = 0, divisions = 0, exps = 0, logs = 0, bytes = 0;
};
EvalCost denoise_cost(int dim, int components, int pack, bool full_covariance = false);

struct Problem {
  model::ModelSpec model;
  std::vector<double> y_start;  // samples x dim, canonical y_T = x_T / alpha(t_max)
  int samples = 0;
  schedule::Schedule schedule;  // edm (t in [0.002, 80]) unless load_problem names another
};

// A random mixture (means in [-3, 3], stds in [0.2, 1]) with exact marginal start states; with
// full_covariance, every component also gets a random rotation.
Problem random_problem(int dim, int components, int samples, std::uint64_t seed = 1, bool full_covariance = false);
// Datasets weights (K), means and stds (K x dim), x_T (samples x dim, x at the schedule's t_max)
// from one HDF5 file; samples 0: every row of x_T.
Problem load_problem(const std::string& path, int samples = 0, const std::string& schedule = "edm");

// A trained network (`kind = network`, model/network_file.hpp) on the EDM schedule, with start
// states drawn from the marginal at t_max of the mixture it was trained on.
Problem network_problem(const std::string& path, int samples, std::uint64_t seed = 1);

// Best-of-`repeats` wall time of a kernel that evaluates D `evals` times per sample at varying s.
double time_model(const Problem& p, int evals, int repeats);
// D(y_start, s) of every sample (samples x dim, row-major), through the kernel time_model times.
std::vector<double> denoise_at(const Problem& p, double s);

struct Timing {
  std::string name;
  int steps = 0;             // solver steps (0 for the adaptive reference)
  double nfe = 0;            // model evaluations per sample (mean for the reference and the adaptive solvers)
  double seconds = 0;        // best of the repeats, wall time of the whole call
  std::vector<double> final_state;  // samples x dim at t_min, in x = alpha y
  std::vector<double> times;        // the grid (solvers)
  double evals_per_second(int samples) const { return samples * nfe / seconds; }
};

// One fixed-grid solver ("rk4", "heun", "ddim", any registry label) with an NFE budget, on a
// Karras grid, or a preset ("k-diffusion:heun") on its own grid, through solver::run_solver
// without LTE, in the given kernel layout.
Timing time_solver(const Problem& p, const std::string& label, int nfe_budget, int repeats,
                   const lane::KernelLayout& layout = {});
// How the timed DOP853 steps: each sample with its own steps (what one scipy solve_ivp per sample
// does), steps shared per pack of 16 (what solve_ivp on all samples stacked does, per 16 samples
// instead of all), or each sample's own steps in the team layout (lane/team_lane.hpp).
enum class Dop853Steps { own, shared_per_pack, own_in_teams };
// DOP853 from s_max to s_min (rtol = atol = tol) for every sample.
Timing time_dop853(const Problem& p, double tol, int repeats, Dop853Steps steps = Dop853Steps::own);
// reference::solve_reference as a sweep calls it: outputs at every point of a grid of `points`,
// plus its second solve for the error estimate.
Timing time_solve_reference(const Problem& p, double tol, int points, int repeats);

// RMS over samples of the per-sample RMS-over-coordinates difference.
double rms_error(const std::vector<double>& a, const std::vector<double>& b, int dim);

}  // namespace pfode::bench
