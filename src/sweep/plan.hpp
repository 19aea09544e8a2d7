// The plan: the cartesian product models x schedules x spacings x solvers x NFE budgets x seeds,
// each cell with its step count and time grid, all checked before any compute.
#pragma once

#include <string>
#include <vector>

#include "sweep/experiment.hpp"

namespace pfode::sweep {

struct Cell {
  int id = 0;
  int model = 0, schedule = 0, spacing = 0, solver = 0, budget = 0, seed = 0;  // indices into the experiment
  int steps = 0;
  long nfe_stated = 0;        // what the solver's registry entry says these steps cost
  std::vector<double> times;  // t_0 = t_max > ... > t_N = t_min
  // Singlestep DPM-Solver with stages=spacing: the times of each step's two stages (NaN where a
  // step has fewer), 2 N; empty otherwise.
  std::vector<double> stage_times;
};

// Cells with the same model, schedule and seed share start states and one reference solve.
struct CellGroup {
  int model = 0, schedule = 0, seed = 0;
  std::vector<int> cells;  // ids
};

struct Plan {
  std::vector<Cell> cells;
  std::vector<CellGroup> groups;
};

// Throws std::invalid_argument naming the first invalid combination (e.g. an NFE below what a
// solver needs for one step, or a custom grid whose length does not fit).
Plan make_plan(const Experiment& e);

std::string describe(const Experiment& e, const Cell& c);  // "model/schedule/spacing/solver/nfe/seed"
std::string describe(const Experiment& e, const CellGroup& g);  // "model/schedule/seed=k"

// The times a group's reference is solved at, by decreasing t: t_max, where the start states are
// drawn (even where no grid starts there: diffusers-leading), and the union of every grid time of
// all its cells (so the reference, and hence every cell's numbers, are the same whichever cells a
// run or a rank computes).
std::vector<double> reference_times(const Experiment& e, const Plan& plan, const CellGroup& group);

}  // namespace pfode::sweep
