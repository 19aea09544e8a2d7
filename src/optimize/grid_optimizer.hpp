// The time grid of one (model, schedule, solver, NFE budget) that minimises the RMS over training
// start states of the global truncation error at t_min, measured against exact reference states:
//   1. one DOP853 reference solve through `candidates + 1` times uniform in lambda gives the exact
//      state of every training sample at each of them;
//   2. a GITS-style dynamic programme over the candidates: its cheapest path of N steps is the
//      "dp" grid. A step's cost is its RMS local error from exact inputs, measured by running the
//      solver. For single-step solvers whose every step is the same formula that is the one-step
//      error from x*(t_i) to t_j, exact and independent of the path. Multistep solvers read the
//      model at earlier grid points, and EDM's Heun, UniPC and lower_order_final change the last
//      steps: their cost is the LTE of step n (exact state and exact history, as the sweep's LTE)
//      on the grid the programme's own cheapest prefix to t_i makes, extended to t_j and padded
//      to N steps, so warm-up and last steps are priced as what they are. That is a heuristic
//      (the cheapest prefix is not the best history); the sum of step costs is a proxy of the
//      global error in either case;
//   3. a local search in lambda (grid_search.hpp) on the true objective starts from the best, on
//      that objective, of the dp grid and every standard spacing given, so the result is never
//      worse than any of them on the training states, whatever the solver;
//   4. every grid is then scored on held-out start states (their own reference through t_max, t_min).
#pragma once

#include <string>
#include <vector>

#include "model/model_spec.hpp"
#include "optimize/grid_search.hpp"
#include "results/records.hpp"
#include "solver/registry.hpp"
#include "sweep/experiment.hpp"
#include "sweep/runner.hpp"

namespace pfode::optimize {

// Throws std::invalid_argument naming why a solver cannot be optimised here: adaptive and
// stochastic solvers, PNDM (its Runge-Kutta warm-up), DPM-Solver-fast (its step orders depend on
// the budget), final=denoise and stages=spacing.
void check_solver(const solver::SolverSpec& spec, const std::string& label);

// Whether the dynamic programme's step costs are exact (a step depends on its start and end only):
// single-step solvers with one formula for every step.
bool exact_step_costs(const solver::SolverSpec& spec);

// The "KL-optimal" grid of Align Your Steps (Sabour, Fidler & Kreis, ICML 2024), closed form for
// unit-variance Gaussian data: s_i = tan((1 - u) atan s_max + u atan s_min), u = i / steps, in
// s = sigma/alpha (EDM's sigma), from t_max to t_min. A competitor scored beside the spacings.
std::vector<double> kl_optimal_grid(const schedule::Schedule& sched, int steps);

struct GridProblem {
  model::ModelSpec model;
  results::ScheduleEntry schedule;
  std::string solver_label;
  solver::SolverSpec solver;
  int nfe_budget = 0;
  std::vector<double> y_train, y_heldout;  // samples x dim, row-major: canonical start states at t_max
  int candidates = 64;                     // intervals of the candidate set (candidates + 1 times)
  std::vector<sweep::SpacingEntry> spacings;  // standard spacings: scored and tried as starts
  sweep::ReferenceSettings reference;
  LocalSearchSettings search;
};

struct ScoredGrid {
  std::string name;       // a spacing's label, "kl-optimal", "dp" or "optimized"
  std::vector<double> t;  // t_max ... t_min
  double train_rms = 0, heldout_rms = 0;  // RMS over samples of the final error in x
};

struct GridOptimum {
  int steps = 0, nfe = 0;
  std::vector<double> candidate_t;  // decreasing, candidates + 1
  std::vector<double> step_cost;    // exact_step_costs: (candidates + 1)^2 row-major, RMS one-step
                                    // error i -> j (i < j); otherwise empty (costs depend on the path)
  CheapestPath dp;                  // dp.step_cost: the cost of each of its steps
  bool dp_exact = false;            // exact_step_costs(solver)
  long cost_runs = 0;               // solver runs that measured step costs
  std::string search_start;         // the grid the local search started from
  LocalSearchResult search;         // in lambda
  std::vector<ScoredGrid> grids;    // the spacings, "kl-optimal", "dp", then "optimized" (last)
  double reference_seconds = 0, dp_seconds = 0, search_seconds = 0, heldout_seconds = 0;
  double reference_error = 0;       // the training reference's error estimate (in x)
};

// Throws std::invalid_argument for bad input (solver, budget, candidates, spacings), and
// std::runtime_error when a reference solve fails.
GridOptimum optimize_grid(const GridProblem& problem);

}  // namespace pfode::optimize
