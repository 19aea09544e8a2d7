// The time grid of one (model, schedule, solver, NFE budget) that minimises the RMS over training
// start states of the global truncation error at t_min, measured against exact reference states:
//   1. one DOP853 reference solve through `candidates + 1` times uniform in lambda gives the exact
//      state of every training sample at each of them;
//   2. the one-step error of every candidate pair (i, j), from x*(t_i) to t_j, is the cost of a
//      GITS-style dynamic programme whose cheapest path of N steps is the "dp" grid. The costs are
//      exact for single-step solvers (a step's result depends only on its start state), which are
//      the only ones accepted; their sum is a proxy of the global error, not the global error;
//   3. a local search in lambda (grid_search.hpp) on the true objective starts from the best, on
//      that objective, of the dp grid and every standard spacing given, so the result is never
//      worse than any of them on the training states;
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

// Throws std::invalid_argument naming why a solver cannot be optimised here: only single-step
// methods whose every step is the same formula (not multistep or adaptive methods, EDM's Heun
// with its Euler last step, DPM-Solver-fast, final=denoise or stages=spacing).
void check_solver(const solver::SolverSpec& spec, const std::string& label);

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
  std::string name;       // a spacing's label, "dp" or "optimized"
  std::vector<double> t;  // t_max ... t_min
  double train_rms = 0, heldout_rms = 0;  // RMS over samples of the final error in x
};

struct GridOptimum {
  int steps = 0, nfe = 0;
  std::vector<double> candidate_t;  // decreasing, candidates + 1
  std::vector<double> step_cost;    // (candidates + 1)^2 row-major: RMS one-step error i -> j (i < j)
  CheapestPath dp;
  std::string search_start;         // the grid the local search started from
  LocalSearchResult search;         // in lambda
  std::vector<ScoredGrid> grids;    // the spacings, then "dp", then "optimized" (last)
  double reference_seconds = 0, dp_seconds = 0, search_seconds = 0, heldout_seconds = 0;
  double reference_error = 0;       // the training reference's error estimate (in x)
};

// Throws std::invalid_argument for bad input (solver, budget, candidates, spacings), and
// std::runtime_error when a reference solve fails.
GridOptimum optimize_grid(const GridProblem& problem);

}  // namespace pfode::optimize
