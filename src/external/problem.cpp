#include "external/problem.hpp"

#include <algorithm>
#include <cmath>
#include <map>
#include <string>
#include <tuple>
#include <type_traits>

#include "common/fingerprint.hpp"
#include "model/network_file.hpp"

namespace pfode::external {

const model::ModelSpec* Problem::find_model(const std::string& name) const {
  for (const auto& m : models)
    if (m.name == name) return &m;
  return nullptr;
}

const results::ScheduleEntry* Problem::find_schedule(const std::string& name) const {
  for (const auto& s : schedules)
    if (s.name == name) return &s;
  return nullptr;
}

const StartStates* Problem::find_start(const std::string& model, const std::string& schedule, long seed) const {
  for (const auto& s : starts)
    if (s.model == model && s.schedule == schedule && s.seed == seed) return &s;
  return nullptr;
}

Problem make_problem(const sweep::Experiment& e, const sweep::Plan& plan) {
  for (const auto& m : e.models)
    if (m.is_guided())  // an outside sampler would need each sample's class, which the file does not hold
      throw std::invalid_argument("model " + m.name + " is guided: problem files hold no per-sample classes");
  Problem p;
  p.resolved_config = e.resolved_config;
  p.samples = e.samples;
  p.reference = sweep::reference_settings(e);
  p.models = e.models;
  p.schedules = e.schedules;
  for (const auto& group : plan.groups) {
    const auto& model = e.models[group.model];
    const auto& entry = e.schedules[group.schedule];
    const auto& sched = entry.schedule;
    StartStates start;
    start.model = model.name;
    start.schedule = entry.name;
    start.seed = static_cast<long>(e.seeds[group.seed]);
    const double alpha_T = sched.alpha(sched.t_max);
    start.y_T = model::start_states(model, e.start, e.seeds[group.seed], e.samples, alpha_T, sched.sigma(sched.t_max),
                                    entry.name);
    for (double y : start.y_T) start.x_T.push_back(alpha_T * y);  // solver::load_exact's product
    p.starts.push_back(std::move(start));
  }
  // One grid per (schedule, spacing, steps), in plan order, with the budgets that use it (a
  // preset's spacing may repeat one of the sweep's: the label says which grid it is).
  std::map<std::tuple<int, std::string, int>, size_t> seen;
  for (const auto& cell : plan.cells) {
    const auto key = std::make_tuple(cell.schedule, e.spacings[cell.spacing].label, cell.steps);
    const long budget = e.nfe[cell.budget];
    auto it = seen.find(key);
    if (it == seen.end()) {
      const auto& sched = e.schedules[cell.schedule].schedule;
      Grid g;
      g.schedule = e.schedules[cell.schedule].name;
      g.spacing = e.spacings[cell.spacing].label;
      g.steps = cell.steps;
      g.t = cell.times;
      for (double t : cell.times) {  // as solver::make_step_grid evaluates them
        g.alpha.push_back(sched.alpha(t));
        g.sigma.push_back(sched.sigma(t));
        g.lambda.push_back(sched.lambda(t));
        g.s.push_back(std::exp(-g.lambda.back()));
      }
      it = seen.emplace(key, p.grids.size()).first;
      p.grids.push_back(std::move(g));
    }
    auto& budgets = p.grids[it->second].nfe_budgets;
    if (std::find(budgets.begin(), budgets.end(), budget) == budgets.end()) budgets.push_back(budget);
  }
  for (auto& g : p.grids) std::sort(g.nfe_budgets.begin(), g.nfe_budgets.end());
  p.id = problem_fingerprint(p);
  return p;
}

std::string problem_fingerprint(const Problem& p) {
  // Models, schedules and start states by name (a file lists them so), grids in their order.
  const auto by_name = [](const auto& items, const auto& name_of) {
    std::vector<const std::decay_t<decltype(items[0])>*> sorted;
    for (const auto& item : items) sorted.push_back(&item);
    std::sort(sorted.begin(), sorted.end(), [&](auto* a, auto* b) { return name_of(*a) < name_of(*b); });
    return sorted;
  };
  Fingerprint f;
  f.add(static_cast<long>(p.samples));
  f.add(p.reference.tolerance);
  f.add(static_cast<long>(p.reference.pack_step));
  for (const auto* m : by_name(p.models, [](const model::ModelSpec& m) { return m.name; })) {
    f.add(m->name);
    f.add(m->weights);
    f.add(m->means);
    f.add(m->stds);
    if (m->full_covariance()) f.add(m->rotations);  // (only then: the ids of diagonal models stay)
    if (m->network) model::add_to(f, *m->network);  // (its kind joins below: not exact)
    if (!m->is_exact()) {
      f.add(m->kind());
      f.add(m->error.exact);
      f.add(m->error.profile);
      for (double v : {m->error.size, m->error.exponent, m->error.scale}) f.add(v);
      for (const auto* v : {&m->error.bias, &m->error.frequencies, &m->error.amplitudes, &m->error.phases}) f.add(*v);
    }
  }
  for (const auto* s : by_name(p.schedules, [](const results::ScheduleEntry& s) { return s.name; })) {
    f.add(s->name);
    f.add(static_cast<long>(s->schedule.kind));
    for (double v : {s->schedule.t_min, s->schedule.t_max, s->schedule.p0, s->schedule.p1}) f.add(v);
  }
  for (const auto* s : by_name(p.starts, [](const StartStates& s) { return start_name(s); })) {
    f.add(s->model);
    f.add(s->schedule);
    f.add(s->seed);
    f.add(s->y_T);
    f.add(s->x_T);
  }
  for (const auto& g : p.grids) {
    f.add(g.schedule);
    f.add(g.spacing);
    f.add(g.t);
  }
  return f.hex();
}

std::string start_name(const StartStates& s) {
  return s.model + "__" + s.schedule + "__seed" + std::to_string(s.seed);
}

}  // namespace pfode::external
