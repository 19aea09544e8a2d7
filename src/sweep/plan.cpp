#include "sweep/plan.hpp"

#include <algorithm>
#include <stdexcept>

namespace pfode::sweep {

Plan make_plan(const Experiment& e) {
  Plan plan;
  // Every invalid cell is found before any compute; the one-line error names the first and the
  // other distinct reasons, so one edit of the config can fix them all.
  std::string first_invalid;
  std::vector<std::string> reasons;
  int invalid = 0;
  const int n_models = static_cast<int>(e.models.size()), n_schedules = static_cast<int>(e.schedules.size());
  const int n_seeds = static_cast<int>(e.seeds.size());
  for (int m = 0; m < n_models; ++m)
    for (int sc = 0; sc < n_schedules; ++sc)
      for (int seed = 0; seed < n_seeds; ++seed) plan.groups.push_back({m, sc, seed, {}});
  auto group_of = [&](int m, int sc, int seed) -> CellGroup& { return plan.groups[(m * n_schedules + sc) * n_seeds + seed]; };

  for (int m = 0; m < n_models; ++m)
    for (int sc = 0; sc < n_schedules; ++sc)
      for (const auto& [sp, so] : e.spacing_solver_pairs)
        for (size_t b = 0; b < e.nfe.size(); ++b)
          for (int seed = 0; seed < n_seeds; ++seed) {
            Cell c;
            c.id = static_cast<int>(plan.cells.size());
            c.model = m;
            c.schedule = sc;
            c.spacing = static_cast<int>(sp);
            c.solver = static_cast<int>(so);
            c.budget = static_cast<int>(b);
            c.seed = seed;
            const auto spec = solver::with_budget(e.solvers[so].spec, e.nfe[b]);
            try {
              c.steps = solver::steps_for_budget(spec, e.nfe[b]);
              c.nfe_stated = solver::nfe_for_steps(spec, c.steps);
              c.times = spacing::make_grid(e.spacings[sp].spacing, e.schedules[sc].schedule, c.steps);
            } catch (const std::invalid_argument& err) {
              if (invalid++ == 0) first_invalid = "cell " + describe(e, c) + ": " + err.what();
              if (std::find(reasons.begin(), reasons.end(), err.what()) == reasons.end()) reasons.push_back(err.what());
              continue;
            }
            group_of(m, sc, seed).cells.push_back(c.id);
            plan.cells.push_back(std::move(c));
          }
  if (invalid > 0) {
    std::string message = first_invalid;
    if (invalid > 1) message += "; " + std::to_string(invalid - 1) + " more invalid cells";
    for (size_t k = 1; k < reasons.size() && k <= 3; ++k) message += (k == 1 ? ": " : "; ") + reasons[k];
    if (reasons.size() > 4) message += "; ...";
    throw std::invalid_argument(message);
  }
  return plan;
}

std::string describe(const Experiment& e, const Cell& c) {
  return e.models[c.model].name + "/" + e.schedules[c.schedule].name + "/" + e.spacings[c.spacing].label + "/" +
         e.solvers[c.solver].label + "/nfe=" + std::to_string(e.nfe[c.budget]) + "/seed=" +
         std::to_string(e.seeds[c.seed]);
}

std::string describe(const Experiment& e, const CellGroup& g) {
  return e.models[g.model].name + "/" + e.schedules[g.schedule].name + "/seed=" + std::to_string(e.seeds[g.seed]);
}

std::vector<double> reference_times(const Plan& plan, const CellGroup& group) {
  std::vector<double> times;
  for (int id : group.cells) times.insert(times.end(), plan.cells[id].times.begin(), plan.cells[id].times.end());
  std::sort(times.begin(), times.end(), std::greater<double>());
  times.erase(std::unique(times.begin(), times.end()), times.end());
  return times;
}

}  // namespace pfode::sweep
