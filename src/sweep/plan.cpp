#include "sweep/plan.hpp"

#include <stdexcept>

namespace pfode::sweep {

Plan make_plan(const Experiment& e) {
  Plan plan;
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
              throw std::invalid_argument("cell " + describe(e, c) + ": " + err.what());
            }
            group_of(m, sc, seed).cells.push_back(c.id);
            plan.cells.push_back(std::move(c));
          }
  return plan;
}

std::string describe(const Experiment& e, const Cell& c) {
  return e.models[c.model].name + "/" + e.schedules[c.schedule].name + "/" + e.spacings[c.spacing].label + "/" +
         e.solvers[c.solver].label + "/nfe=" + std::to_string(e.nfe[c.budget]) + "/seed=" +
         std::to_string(e.seeds[c.seed]);
}

}  // namespace pfode::sweep
