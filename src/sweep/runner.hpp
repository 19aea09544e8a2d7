// Runs a plan: per (model, schedule, seed) group the start states and one reference solve at the
// union of the group's grid times, then every cell's trajectory and LTE on the device.
#pragma once

#include <functional>
#include <set>
#include <stdexcept>
#include <vector>

#include "sweep/plan.hpp"
#include "sweep/results.hpp"

namespace pfode::sweep {

// A reference's states y (sample, time, coordinate), row-major on the host.
struct ReferenceStates {
  const double* data = nullptr;
  std::vector<unsigned long long> shape;
};

struct RunCallbacks {
  std::function<void(const CellResult&)> cell_done;  // after each cell (writing, progress)
  // After each reference solve; `states` is empty unless keep_reference_states.
  std::function<void(int group, const ReferenceRecord&, const ReferenceStates& states)> reference_done;
  bool keep_reference_states = false;
  // A group's reference kept by an earlier run: fills `record` and `states` (samples x times x dim
  // doubles, row-major) and returns true, or returns false to have it solved.
  std::function<bool(int group, ReferenceRecord& record, double* states, size_t count)> stored_reference;
};

// A reference solve that failed: the same config fails the same way, so only a changed config
// (model, schedule, tolerance) can go on.
class ReferenceFailed : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Runs the cells of `plan` whose ids are not in `skip` (already finished, e.g. on resume), each
// group's reference first. A group whose cells are all skipped is solved only when listed in
// `solve_groups` (its reference record is missing).
void run_plan(const Experiment& e, const Plan& plan, const std::set<int>& skip, const RunCallbacks& callbacks,
              const std::set<int>& solve_groups = {});

// Turns one solver run into a cell result (statistics, status, floor flag); exposed for tests.
CellResult make_cell_result(const Experiment& e, const Cell& cell);

}  // namespace pfode::sweep
