// Runs a plan: per (model, schedule, seed) group the start states and one reference solve at the
// union of the group's grid times, then every cell's trajectory and LTE on the device.
#pragma once

#include <functional>
#include <set>

#include "sweep/plan.hpp"
#include "results/records.hpp"

namespace pfode::sweep {

struct RunCallbacks {
  std::function<void(const results::CellResult&)> cell_done;         // after each cell (writing, progress)
  std::function<void(int group, const results::ReferenceRecord&)> reference_done;
};

// Runs the cells of `plan` whose ids are not in `skip` (already finished, e.g. on resume).
// Groups whose cells are all skipped are not solved.
void run_plan(const Experiment& e, const Plan& plan, const std::set<int>& skip, const RunCallbacks& callbacks);

// Turns one solver run into a cell result (statistics, status, floor flag); exposed for tests.
results::CellResult make_cell_result(const Experiment& e, const Cell& cell);

}  // namespace pfode::sweep
