// Scoring runs of an outside sampler against pfode's ground truth: each (model, schedule, seed)
// group's reference is solved once, through every time any of its runs records, with the
// sweep's own reference solve (sweep::solve_group_reference); each run becomes a cell with the
// statistics of pfode's own solvers (sweep::set_global_errors; for an imperfect model also the
// error split, sweep::set_error_split), so the results file is the usual one and convergence
// series and orders are fitted the usual way.
#pragma once

#include <functional>
#include <vector>

#include "external/problem.hpp"
#include "external/runs.hpp"
#include "results/records.hpp"

namespace pfode::external {

// Everything the runs must share with their problem, checked before any compute: the problem id,
// the model, schedule and seed of each run, the states' shape (the problem's samples x the
// model's dim), finite times decreasing inside the schedule's [t_min, t_max], finite positive
// NFE, and no two runs of the same label, model, schedule, spacing, seed and NFE. Non-finite
// states are allowed: their run is recorded as diverged. Throws std::invalid_argument naming the run.
void check_runs(const Problem& problem, const std::string& problem_path, const RunsFile& runs);

struct Scores {
  std::vector<results::CellResult> cells;  // one per run, in the file's order; id = position
  std::vector<results::ReferenceRecord> references;
};

// reference_done (optional) sees each reference as it is solved. Throws std::runtime_error when
// a reference solve fails.
Scores score_runs(const Problem& problem, const RunsFile& runs,
                  const std::function<void(const results::ReferenceRecord&)>& reference_done = {});

}  // namespace pfode::external
