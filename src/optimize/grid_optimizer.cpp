#include "optimize/grid_optimizer.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <functional>
#include <initializer_list>
#include <limits>
#include <map>
#include <memory>
#include <stdexcept>

#include "solver/run.hpp"
#include "spacing/spacing.hpp"

namespace pfode::optimize {

namespace {

using Clock = std::chrono::steady_clock;
double seconds_since(Clock::time_point start) { return std::chrono::duration<double>(Clock::now() - start).count(); }

// The states a run is measured against: `y` holds the reference states (sample, time, coord) and
// grid point i takes those of time index[i].
struct Exact {
  Kokkos::View<const double***, Kokkos::LayoutStride> y;  // reference::States
  int samples;
};

Kokkos::View<const int*> device_indices(const std::vector<int>& index) {
  Kokkos::View<int*> v("pfode::optimize::index", index.size());
  auto h = Kokkos::create_mirror_view(v);
  for (size_t i = 0; i < index.size(); ++i) h(i) = index[i];
  Kokkos::deep_copy(v, h);
  return v;
}

// RMS and median over samples of the RMS-over-coordinates error at the grid's last point, for a
// run from the exact state at reference time `first` to reference time `last`. Only the final
// error is read, so every interior grid point is mapped to `first`: the interior columns of the
// run's error are not errors and are ignored, and no reference state is needed at interior times.
struct FinalError {
  double rms, median;  // NaN or inf when the solver diverged on a sample: never kept
};
FinalError final_error(const GridProblem& p, const model::DeviceModel& model, const Exact& exact,
                       const std::vector<double>& times, int first, int last, long expected_nfe) {
  const int steps = static_cast<int>(times.size()) - 1;
  std::vector<int> index(times.size(), first);
  index.back() = last;
  const auto grid = solver::make_step_grid(p.schedule.schedule, times, solver::Variable::t);
  const solver::ExactStates states{exact.y, device_indices(index)};
  const auto spec = solver::with_budget(p.solver, p.nfe_budget);
  const auto run = solver::run_solver(spec, grid, model, states, exact.samples, false);
  double sum = 0;
  bool finite = true;
  std::vector<double> errors;
  for (int s = 0; s < exact.samples; ++s) {
    const double e = run.global_error[static_cast<size_t>(s) * (steps + 1) + steps];
    sum += e * e;
    finite = finite && std::isfinite(e);
    errors.push_back(e);
    if (run.nfe[s] != expected_nfe)
      throw std::logic_error("optimize: a run spent " + std::to_string(run.nfe[s]) + " NFE, not " +
                             std::to_string(expected_nfe));
  }
  double median = std::numeric_limits<double>::quiet_NaN();
  if (finite) {
    std::sort(errors.begin(), errors.end());
    const size_t n = errors.size();
    median = n % 2 ? errors[n / 2] : 0.5 * (errors[n / 2 - 1] + errors[n / 2]);
  }
  return {std::sqrt(sum / exact.samples), median};
}

std::vector<double> times_of_lambda(const schedule::Schedule& sched, const std::vector<double>& lambda) {
  std::vector<double> t;
  for (double l : lambda) t.push_back(sched.t_of_lambda(l));
  t.front() = sched.t_max;  // the endpoints exactly, not through round trips
  t.back() = sched.t_min;
  for (size_t k = 1; k < t.size(); ++k)
    if (!(t[k] < t[k - 1])) throw std::invalid_argument("optimize: a grid is not strictly decreasing in t");
  return t;
}

}  // namespace

Objective parse_objective(const std::string& name) {
  if (name == "gte-rms") return Objective::gte_rms;
  if (name == "gte-median") return Objective::gte_median;
  throw std::invalid_argument("unknown objective '" + name + "' (gte-rms or gte-median)");
}

std::vector<double> kl_optimal_grid(const schedule::Schedule& sched, int steps) {
  const double a_max = std::atan(sched.s(sched.t_max)), a_min = std::atan(sched.s(sched.t_min));
  std::vector<double> lambda;
  for (int i = 0; i <= steps; ++i) {
    const double u = static_cast<double>(i) / steps;
    lambda.push_back(-std::log(std::tan((1 - u) * a_max + u * a_min)));
  }
  return times_of_lambda(sched, lambda);
}

namespace {

// The cost of step n = prefix.size() - 1 from candidate prefix.back() to j for a method whose step
// reads earlier grid points or knows its place in the grid: the RMS over samples of its LTE (exact
// state, history observed on exact states) on the grid prefix, j, j + 1, ..., of `steps` steps in
// all (the padding makes later steps count as later, it is not priced). A step reads the last
// `depth` points of its grid and, through warm-up and last-step rules, whether n < depth and
// N - n <= depth; costs are memoised on exactly those, so steps in the middle of the grid share
// them. Not thread-safe (the counter and the memo).
std::function<double(const std::vector<int>&, int)> history_step_cost(const GridProblem& p,
                                                                      const model::DeviceModel& model,
                                                                      const Exact& exact,
                                                                      const std::vector<double>& candidate_t,
                                                                      int steps, long& runs) {
  const auto spec = solver::with_budget(p.solver, p.nfe_budget);
  const int depth = spec.info->id == solver::SolverId::edm_heun ? 1 : solver::multistep_order(spec);
  auto memo = std::make_shared<std::map<std::vector<int>, double>>();
  return [&p, &model, exact, candidate_t, steps, spec, depth, memo, &runs](const std::vector<int>& prefix, int j) {
    const int n = static_cast<int>(prefix.size()) - 1;
    std::vector<int> key{n < depth ? n : -1, steps - n <= depth ? steps - n : -1};
    key.insert(key.end(), prefix.end() - std::min<int>(depth, prefix.size()), prefix.end());
    key.push_back(j);
    const auto found = memo->find(key);
    if (found != memo->end()) return found->second;
    std::vector<int> index = prefix;
    for (int k = j; static_cast<int>(index.size()) <= steps; ++k) index.push_back(k);
    std::vector<double> times;
    for (int k : index) times.push_back(candidate_t[k]);
    const auto grid = solver::make_step_grid(p.schedule.schedule, times, solver::Variable::t);
    const solver::ExactStates states{exact.y, device_indices(index)};
    const auto run = solver::run_solver(spec, grid, model, states, exact.samples, true);
    ++runs;
    double sum = 0;
    for (int s = 0; s < exact.samples; ++s) {
      const double e = run.local_error[static_cast<size_t>(s) * steps + n];
      sum += e * e;
    }
    const double c = std::sqrt(sum / exact.samples);
    return (*memo)[key] = std::isfinite(c) ? c : std::numeric_limits<double>::infinity();  // a diverged step is never taken
  };
}

bool listed(const solver::SolverSpec& spec, std::initializer_list<solver::SolverId> ids) {
  return std::find(ids.begin(), ids.end(), spec.info->id) != ids.end();
}

// Multistep methods whose history is model outputs at grid points (solver/drivers.hpp), and
// single-step methods whose last step differs.
bool history_dependent(const solver::SolverSpec& spec) {
  using solver::SolverId;
  return listed(spec, {SolverId::ab2, SolverId::ab3, SolverId::ab4, SolverId::deis_2, SolverId::deis_3,
                       SolverId::dpm_solver_pp_2m, SolverId::dpm_solver_pp_3m, SolverId::ipndm, SolverId::unipc_1,
                       SolverId::unipc_2, SolverId::unipc_3, SolverId::edm_heun});
}

}  // namespace

bool exact_step_costs(const solver::SolverSpec& spec) {
  using solver::SolverId;
  return listed(spec, {SolverId::euler, SolverId::midpoint, SolverId::heun, SolverId::rk3, SolverId::rk4,
                       SolverId::ddim, SolverId::dpm_solver_1, SolverId::dpm_solver_2, SolverId::dpm_solver_3,
                       SolverId::dpm_solver_pp_2s, SolverId::deis_1});
}

void check_solver(const solver::SolverSpec& spec, const std::string& label) {
  if (!exact_step_costs(spec) && !history_dependent(spec))
    throw std::invalid_argument("optimize: solver " + label +
                                " is not supported (adaptive, stochastic, pndm and dpm-solver-fast are not)");
  if (spec.final_denoise) throw std::invalid_argument("optimize: solver " + label + ": final=denoise is not supported");
  if (spec.stages_on_spacing)
    throw std::invalid_argument("optimize: solver " + label + ": stages=spacing is not supported");
}

GridOptimum optimize_grid(const GridProblem& p) {
  check_solver(p.solver, p.solver_label);
  const auto& sched = p.schedule.schedule;
  const int dim = p.model.dim;
  if (p.starts < 1 || p.starts > 16)
    throw std::invalid_argument("optimize: starts = " + std::to_string(p.starts) + " is outside [1, 16]");
  if (p.candidates < 2 || p.candidates > 4096)
    throw std::invalid_argument("optimize: candidates = " + std::to_string(p.candidates) + " is outside [2, 4096]");
  if (p.y_train.empty() || p.y_heldout.empty() || p.y_train.size() % dim != 0 || p.y_heldout.size() % dim != 0)
    throw std::invalid_argument("optimize: training and held-out start states are needed");
  GridOptimum r;
  const auto spec = solver::with_budget(p.solver, p.nfe_budget);
  try {
    r.steps = solver::steps_for_budget(spec, p.nfe_budget);
  } catch (const std::invalid_argument& e) {
    throw std::invalid_argument("optimize: NFE budget " + std::to_string(p.nfe_budget) + " is too small for " +
                                p.solver_label + ": " + e.what());
  }
  r.nfe = solver::nfe_for_steps(spec, r.steps);
  if (r.steps > p.candidates)
    throw std::invalid_argument("optimize: " + std::to_string(r.steps) + " steps of " + p.solver_label + " at NFE " +
                                std::to_string(p.nfe_budget) + " need at least as many candidate intervals (candidates = " +
                                std::to_string(p.candidates) + ")");
  std::vector<ScoredGrid> grids;
  for (const auto& entry : p.spacings) {
    for (const auto& info : spacing::all_spacings())
      if (info.kind == entry.spacing.kind && !info.spans_range)
        throw std::invalid_argument("optimize: spacing " + entry.label + " does not run from t_max to t_min");
    grids.push_back({entry.label, spacing::make_grid(entry.spacing, sched, r.steps)});
  }
  grids.push_back({"kl-optimal", kl_optimal_grid(sched, r.steps)});

  // 1. The candidate set, uniform in lambda, and the one reference solve through it.
  const double lambda_max = sched.lambda(sched.t_max), lambda_min = sched.lambda(sched.t_min);
  std::vector<double> candidate_lambda;
  for (int k = 0; k <= p.candidates; ++k)
    candidate_lambda.push_back(lambda_max + (lambda_min - lambda_max) * k / p.candidates);
  r.candidate_t = times_of_lambda(sched, candidate_lambda);
  const auto model = model::to_device(p.model);
  auto start = Clock::now();
  const auto train = sweep::solve_group_reference(p.model, p.schedule, 0, p.y_train, r.candidate_t, p.reference);
  if (train.solution.failed_samples > 0 || train.times.size() != r.candidate_t.size())
    throw std::runtime_error("optimize: the training reference failed for " +
                             std::to_string(train.solution.failed_samples) + " samples");
  r.reference_seconds = seconds_since(start);
  r.reference_error = train.solution.error_estimate;
  const Exact train_exact{train.solution.y, static_cast<int>(p.y_train.size() / dim)};
  const int last = p.candidates;

  // 2. Step costs and the cheapest path.
  start = Clock::now();
  const int points = p.candidates + 1;
  r.dp_exact = exact_step_costs(spec);
  if (r.dp_exact) {
    const long one_step_nfe = solver::nfe_for_steps(spec, 1);
    r.step_cost.assign(static_cast<size_t>(points) * points, 0.0);
    for (int i = 0; i < points; ++i)
      for (int j = i + 1; j < points; ++j) {
        const double c =
            final_error(p, model, train_exact, {r.candidate_t[i], r.candidate_t[j]}, i, j, one_step_nfe).rms;
        // A diverged step is never taken.
        r.step_cost[static_cast<size_t>(i) * points + j] = std::isfinite(c) ? c : std::numeric_limits<double>::infinity();
        ++r.cost_runs;
      }
    r.dp = cheapest_path(r.step_cost, points, r.steps);
  } else {
    r.dp = cheapest_path_along_prefix(history_step_cost(p, model, train_exact, r.candidate_t, r.steps, r.cost_runs),
                                      points, r.steps);
  }
  std::vector<double> dp_t;
  for (int k : r.dp.indices) dp_t.push_back(r.candidate_t[k]);
  grids.push_back({"dp", dp_t});
  r.dp_seconds = seconds_since(start);

  // 3. The best start on the true objective, then the local search in lambda.
  start = Clock::now();
  const auto chosen = [&](const FinalError& e) { return p.objective == Objective::gte_median ? e.median : e.rms; };
  const auto score_train = [&](ScoredGrid& g) {
    const auto e = final_error(p, model, train_exact, g.t, 0, last, r.nfe);
    g.train_rms = e.rms;
    g.train_median = e.median;
    return chosen(e);
  };
  std::vector<double> start_value;
  std::vector<int> order;  // the finite starts, best first (ties: the earlier grid)
  for (int g = 0; g < static_cast<int>(grids.size()); ++g) {
    start_value.push_back(score_train(grids[g]));
    if (std::isfinite(start_value[g])) order.push_back(g);
  }
  if (order.empty()) throw std::runtime_error("optimize: every starting grid diverges on the training states");
  std::stable_sort(order.begin(), order.end(), [&](int a, int b) { return start_value[a] < start_value[b]; });
  // One search from each of the best `starts` grids; the best result (ties: the better start) is
  // "optimized", and with several starts each result is kept as "from-<start>".
  const int searches = std::min<int>(p.starts, static_cast<int>(order.size()));
  std::vector<ScoredGrid> found;
  int winner = 0;
  for (int k = 0; k < searches; ++k) {
    const int g = order[k];
    std::vector<double> start_lambda;
    for (double t : grids[g].t) start_lambda.push_back(sched.lambda(t));
    start_lambda.front() = lambda_max;
    start_lambda.back() = lambda_min;
    SearchRun run{grids[g].name, {}, start_value[g]};
    run.result = local_search(
        start_lambda,
        [&](const std::vector<double>& l) {
          return chosen(final_error(p, model, train_exact, times_of_lambda(sched, l), 0, last, r.nfe));
        },
        p.search);
    // The search's first value is the start's on the lambda round trip; keep the start if that is not better.
    ScoredGrid grid = grids[g];
    grid.name = "from-" + grids[g].name;
    if (run.result.value < start_value[g]) {
      grid.t = times_of_lambda(sched, run.result.lambda);
      score_train(grid);
      run.value = run.result.value;
    }
    if (k > 0 && run.value < r.searches[winner].value) winner = k;
    r.searches.push_back(std::move(run));
    found.push_back(std::move(grid));
  }
  r.search_start = r.searches[winner].start;
  r.search = r.searches[winner].result;
  if (searches > 1) grids.insert(grids.end(), found.begin(), found.end());
  ScoredGrid optimized = found[winner];
  optimized.name = "optimized";
  grids.push_back(optimized);
  r.search_seconds = seconds_since(start);

  // 4. Held-out start states: their own reference through t_max and t_min.
  start = Clock::now();
  const auto heldout =
      sweep::solve_group_reference(p.model, p.schedule, 0, p.y_heldout, {sched.t_max, sched.t_min}, p.reference);
  if (heldout.solution.failed_samples > 0) throw std::runtime_error("optimize: the held-out reference failed");
  const Exact heldout_exact{heldout.solution.y, static_cast<int>(p.y_heldout.size() / dim)};
  for (auto& g : grids) {
    const auto e = final_error(p, model, heldout_exact, g.t, 0, 1, r.nfe);
    g.heldout_rms = e.rms;
    g.heldout_median = e.median;
  }
  r.heldout_seconds = seconds_since(start);
  r.grids = std::move(grids);
  return r;
}

}  // namespace pfode::optimize
