// Convergence series: a sweep's cells grouped by (model, schedule, spacing, solver, seed, theory)
// over their NFE budgets, with the fitted orders of GTE and LTE.
#pragma once

#include <vector>

#include "results/records.hpp"

namespace pfode::sweep {

std::vector<results::SeriesFit> fit_series(const std::vector<results::CellResult>& cells);

}  // namespace pfode::sweep
