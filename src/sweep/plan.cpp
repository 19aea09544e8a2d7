#include "sweep/plan.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <tuple>
#include <stdexcept>

#include "brownian/brownian_path.hpp"

namespace pfode::sweep {

namespace {

// The grid of `steps` steps a cell runs on. Singlestep DPM-Solver with stages=spacing (the official
// skip_type placement): the spacing's grid of sum(orders) intervals, whose points at the steps'
// boundaries are the grid and whose points in between are the stages. On uniform-lambda that is
// stages=lambda, and the official code keeps K steps uniform in lambda there (logSNR), so the
// spacing's own grid is used.
std::vector<double> cell_grid(const solver::SolverSpec& spec, const spacing::Spacing& sp, const schedule::Schedule& sched,
                              int steps, std::vector<double>& stage_times) {
  const auto offsets = solver::stage_offsets(spec, steps);
  if (offsets.empty() || sp.kind == spacing::Kind::uniform_lambda) return spacing::make_grid(sp, sched, steps);
  if (sp.kind == spacing::Kind::custom)
    throw std::invalid_argument("stages=spacing needs a spacing that can place points inside a step; a custom grid "
                                "fixes its points");
  const auto fine = spacing::make_grid(sp, sched, offsets.back());
  std::vector<double> times;
  stage_times.assign(2 * static_cast<size_t>(steps), std::numeric_limits<double>::quiet_NaN());
  for (int i = 0; i < steps; ++i) {
    times.push_back(fine[offsets[i]]);
    for (int k = 1; k < offsets[i + 1] - offsets[i]; ++k) stage_times[2 * i + k - 1] = fine[offsets[i] + k];
  }
  times.push_back(fine.back());
  return times;
}

// A stochastic sampler's grid must lie where the Brownian path is defined, and its strong
// reference (steps x run.sde_refinement) must stay affordable.
void check_stochastic(const Experiment& e, const solver::SolverSpec& spec, const schedule::Schedule& sched,
                      const Cell& c) {
  for (double t : c.times) {
    const double u = -sched.lambda(t);
    if (!(u >= brownian::BrownianPath::u_low && u <= brownian::BrownianPath::u_high))
      throw std::invalid_argument("the Brownian path covers s = sigma/alpha in [e^-32, e^32]; the grid reaches s = " +
                                  std::to_string(std::exp(u)));
  }
  if (solver::strong_order(spec) > 0 && static_cast<long>(c.steps) * e.sde_refinement > 10000000L)
    throw std::invalid_argument("the strong reference would take " + std::to_string(c.steps) + " x " +
                                std::to_string(e.sde_refinement) + " steps (run.sde_refinement; at most 1e7)");
}

}  // namespace

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

  // The blocks whose products make the plan: the experiment's own lists, or its [plan.NAME] blocks.
  std::vector<Experiment::PlanBlock> blocks = e.blocks;
  if (blocks.empty()) {
    Experiment::PlanBlock all;
    all.name = "sweep";
    for (int m = 0; m < n_models; ++m) all.models.push_back(m);
    for (int sc = 0; sc < n_schedules; ++sc) all.schedules.push_back(sc);
    for (size_t b = 0; b < e.nfe.size(); ++b) all.nfe.push_back(static_cast<int>(b));
    all.spacing_solver_pairs = e.spacing_solver_pairs;
    blocks.push_back(std::move(all));
  }
  // A cell two blocks both name would run twice and put one point twice into its series.
  std::map<std::tuple<int, int, int, int, int, int>, std::string> named_by;
  for (const auto& block : blocks)
    for (int m : block.models)
      for (int sc : block.schedules)
        for (const auto& [sp, so] : block.spacing_solver_pairs)
          for (int b : block.nfe)
            for (int seed = 0; seed < n_seeds; ++seed) {
              Cell c;
              c.id = static_cast<int>(plan.cells.size());
              c.model = m;
              c.schedule = sc;
              c.spacing = static_cast<int>(sp);
              c.solver = static_cast<int>(so);
              c.budget = b;
              c.seed = seed;
              const auto [at, fresh] = named_by.emplace(std::make_tuple(m, sc, c.spacing, c.solver, b, seed), block.name);
              if (!fresh)
                throw std::invalid_argument(block.name + ": cell " + describe(e, c) + " is also in " + at->second +
                                            " (a cell is listed once)");
              const auto spec = solver::with_budget(e.solvers[so].spec, e.nfe[b]);
              try {
                c.steps = solver::steps_for_budget(spec, e.nfe[b]);
                c.nfe_stated = solver::nfe_for_steps(spec, c.steps);
                c.times = cell_grid(spec, e.spacings[sp].spacing, e.schedules[sc].schedule, c.steps, c.stage_times);
                if (solver::is_stochastic(spec)) check_stochastic(e, spec, e.schedules[sc].schedule, c);
              } catch (const std::invalid_argument& err) {
                if (invalid++ == 0) first_invalid = "cell " + describe(e, c) + ": " + err.what();
                if (std::find(reasons.begin(), reasons.end(), err.what()) == reasons.end()) reasons.push_back(err.what());
                continue;
              }
              group_of(m, sc, seed).cells.push_back(c.id);
              plan.cells.push_back(std::move(c));
            }
  // Blocks may leave some (model, schedule) pairs out: no reference for them.
  plan.groups.erase(std::remove_if(plan.groups.begin(), plan.groups.end(), [](const CellGroup& g) { return g.cells.empty(); }),
                    plan.groups.end());
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

std::vector<double> reference_times(const Experiment& e, const Plan& plan, const CellGroup& group) {
  std::vector<double> times{e.schedules[group.schedule].schedule.t_max};
  for (int id : group.cells) times.insert(times.end(), plan.cells[id].times.begin(), plan.cells[id].times.end());
  std::sort(times.begin(), times.end(), std::greater<double>());
  times.erase(std::unique(times.begin(), times.end()), times.end());
  return times;
}

}  // namespace pfode::sweep
