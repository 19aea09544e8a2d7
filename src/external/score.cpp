#include "external/score.hpp"

#include <algorithm>
#include <cmath>
#include <iomanip>
#include <map>
#include <set>
#include <sstream>
#include <stdexcept>
#include <tuple>

#include "sweep/runner.hpp"

namespace pfode::external {

namespace {

std::string exact(double v) {
  std::ostringstream out;
  out << std::setprecision(17) << v;
  return out.str();
}

template <class Items, class Name>
std::string names(const Items& items, const Name& name_of) {
  std::string out;
  for (const auto& item : items) out += (out.empty() ? "" : ", ") + name_of(item);
  return out;
}

void check_run(const Problem& problem, const ExternalRun& run) {
  const auto fail = [&](const std::string& why) { throw std::invalid_argument("run '" + run.name + "': " + why); };
  const auto* model = problem.find_model(run.model);
  if (!model)
    fail("unknown model '" + run.model + "' (the problem's: " +
         names(problem.models, [](const model::ModelSpec& m) { return m.name; }) + ")");
  const auto* entry = problem.find_schedule(run.schedule);
  if (!entry)
    fail("unknown schedule '" + run.schedule + "' (the problem's: " +
         names(problem.schedules, [](const results::ScheduleEntry& s) { return s.name; }) + ")");
  if (!problem.find_start(run.model, run.schedule, run.seed))
    fail("the problem has no start states for seed " + std::to_string(run.seed) + " (its groups: " +
         names(problem.starts, [](const StartStates& s) { return start_name(s); }) + ")");
  if (run.samples != problem.samples || run.dim != model->dim)
    fail("states of " + std::to_string(run.samples) + " samples x " + std::to_string(run.dim) +
         " coordinates; the problem's start states are " + std::to_string(problem.samples) + " x " +
         std::to_string(model->dim));
  const auto& sched = entry->schedule;
  for (size_t i = 0; i < run.t.size(); ++i) {
    const double t = run.t[i];
    if (!std::isfinite(t)) fail("time " + std::to_string(i) + " is not finite");
    if (t < sched.t_min || t > sched.t_max)
      fail("time " + exact(t) + " lies outside schedule " + run.schedule + "'s [t_min, t_max] = [" + exact(sched.t_min) +
           ", " + exact(sched.t_max) + "]");
    if (i > 0 && !(t < run.t[i - 1])) fail("times must decrease (from t_max towards t_min)");
  }
  if (static_cast<int>(run.nfe.size()) != run.samples)
    fail("nfe holds " + std::to_string(run.nfe.size()) + " values, one per sample needs " + std::to_string(run.samples));
  for (long n : run.nfe)
    if (n < 1) fail("nfe must be >= 1 (got " + std::to_string(n) + ")");
  if (run.order_theory < 0) fail("order_theory must be >= 0 (0: not stated)");
  if (run.target != "grid_end" && run.target != "zero")
    fail("target '" + run.target + "' (grid_end: x*(t) at the last time | zero: x*(0), after a step to sigma = 0)");
}

double mean(const std::vector<long>& values) {
  double sum = 0;
  for (long v : values) sum += static_cast<double>(v);
  return sum / values.size();
}

// One run as a cell: its description and NFE (the errors come later).
results::CellResult describe_run(const Problem& problem, const ExternalRun& run, int id) {
  results::CellResult r;
  r.id = id;
  r.model = run.model;
  r.schedule = run.schedule;
  r.spacing = run.spacing;
  r.solver = run.label;
  r.options = run.options;
  r.seed = run.seed;
  r.samples = problem.samples;
  r.nfe = *std::max_element(run.nfe.begin(), run.nfe.end());
  r.nfe_mean = mean(run.nfe);
  r.nfe_uniform = std::all_of(run.nfe.begin(), run.nfe.end(), [&](long v) { return v == r.nfe; });
  r.nfe_budget = run.nfe_budget >= 0 ? run.nfe_budget : r.nfe;
  r.steps = run.steps >= 0 ? run.steps : run.points() - 1;
  r.order_theory = run.order_theory;
  r.lte_order_theory = run.order_theory > 0 ? run.order_theory + 1 : 0;
  r.layout = "external";
  r.gte_target = run.target;
  r.wall_time = run.wall_time;
  r.t = run.t;
  const auto& sched = problem.find_schedule(run.schedule)->schedule;
  for (double t : run.t) r.lambda.push_back(sched.lambda(t));
  return r;
}

}  // namespace

void check_runs(const Problem& problem, const std::string& problem_path, const RunsFile& runs) {
  if (runs.problem_id != problem.id)
    throw std::invalid_argument("runs '" + runs.path + "' started from problem " + runs.problem_id + ", not from '" +
                                problem_path + "' (problem " + problem.id + ")");
  using Key = std::tuple<std::string, std::string, std::string, std::string, long, double>;
  std::map<Key, std::string> seen;
  for (const auto& run : runs.runs) {
    check_run(problem, run);
    const Key key{run.label, run.model, run.schedule, run.spacing, run.seed, mean(run.nfe)};
    const auto [at, fresh] = seen.emplace(key, run.name);
    if (!fresh)
      throw std::invalid_argument("runs '" + at->second + "' and '" + run.name +
                                  "' are the same cell (label, model, schedule, spacing, seed and NFE)");
  }
}

Scores score_runs(const Problem& problem, const RunsFile& file,
                  const std::function<void(const results::ReferenceRecord&)>& reference_done) {
  Scores scores;
  scores.cells.resize(file.runs.size());
  // Runs by (model, schedule, seed) group, groups in the order of their first run.
  std::vector<const StartStates*> groups;
  std::map<const StartStates*, std::vector<int>> members;
  for (size_t k = 0; k < file.runs.size(); ++k) {
    const auto& run = file.runs[k];
    const auto* start = problem.find_start(run.model, run.schedule, run.seed);
    if (!members.count(start)) groups.push_back(start);
    members[start].push_back(static_cast<int>(k));
  }
  for (const auto* start : groups) {
    const auto& spec = *problem.find_model(start->model);
    const auto& entry = *problem.find_schedule(start->schedule);
    const auto& sched = entry.schedule;
    std::vector<double> times{sched.t_max};  // the reference starts where the start states are
    auto settings = problem.reference;
    for (int k : members[start]) {
      times.insert(times.end(), file.runs[k].t.begin(), file.runs[k].t.end());
      settings.to_zero = settings.to_zero || file.runs[k].target == "zero";  // continued to s = 0
    }
    const auto reference = sweep::solve_group_reference(spec, entry, start->seed, start->y_T, times, settings);
    scores.references.push_back(reference.record);
    if (reference_done) reference_done(reference.record);
    if (reference.solution.failed_samples > 0)
      throw std::runtime_error("reference solve failed for " + std::to_string(reference.solution.failed_samples) +
                               " samples of " + start_name(*start) + " (step budget exhausted or non-finite states)");
    const auto y = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), reference.solution.y);
    const int samples = problem.samples, dim = spec.dim;
    for (int k : members[start]) {
      const auto& run = file.runs[k];
      const int points = run.points();
      const auto index = reference.indices(run.t);
      // The arithmetic of the solvers' kernels (solver/drivers.hpp): the RMS over coordinates of
      // x - alpha y*, and of the exact final state (x*(0) = y*(0) for target zero).
      std::vector<double> error(static_cast<size_t>(samples) * points), final_rms(samples);
      std::vector<double> final_state(static_cast<size_t>(samples) * dim);  // x_N, for the error split
      for (int i = 0; i < points; ++i) {
        const bool at_zero = i == points - 1 && run.target == "zero";
        const double alpha = at_zero ? 1.0 : sched.alpha(run.t[i]);
        const int m = at_zero ? reference.zero : index[i];
        for (int p = 0; p < samples; ++p) {
          double sum = 0.0, norm = 0.0;
          for (int c = 0; c < dim; ++c) {
            const double x = run.x[(static_cast<size_t>(p) * points + i) * dim + c], x_exact = alpha * y(p, m, c);
            const double d = x - x_exact;
            sum += d * d;
            norm += x_exact * x_exact;
            if (i == points - 1) final_state[static_cast<size_t>(p) * dim + c] = x;
          }
          error[static_cast<size_t>(p) * points + i] = std::sqrt(sum / dim);
          if (i == points - 1) final_rms[p] = std::sqrt(norm / dim);
        }
      }
      results::CellResult cell = describe_run(problem, run, k);
      sweep::set_global_errors(cell, error, final_rms, samples, points, reference.solution.error_estimate, false);
      if (reference.split())  // an imperfect model (never a run to sigma = 0): the error split
        sweep::set_error_split(cell, reference, index, final_state, sched.alpha(run.t.back()), samples);
      scores.cells[k] = std::move(cell);
    }
  }
  return scores;
}

}  // namespace pfode::external
