#include "sweep/runner.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <limits>
#include <map>
#include <stdexcept>
#include <type_traits>

#include "model/evaluate.hpp"
#include "solver/run.hpp"
#include "sweep/distribution.hpp"
#include "sweep/sampling.hpp"

namespace pfode::sweep {

namespace {

using Clock = std::chrono::steady_clock;
double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

// alpha: the schedule's alpha at each reference time (errors in x = alpha y).
double closed_form_error(const model::ModelSpec& m, const std::vector<double>& y_start,
                         const reference::ReferenceSolution& ref, const std::vector<double>& alpha) {
  auto y = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), ref.y);
  const int samples = static_cast<int>(y.extent(0)), times = static_cast<int>(y.extent(1));
  const model::GaussianFlow flow(m, ref.s[0], ref.s);
  std::vector<double> sum(times, 0.0), u0(static_cast<size_t>(samples) * m.dim), exact(m.dim);
  for (int p = 0; p < samples; ++p)
    flow.start(y_start.data() + static_cast<size_t>(p) * m.dim, u0.data() + static_cast<size_t>(p) * m.dim);
  for (int k = 0; k < times; ++k)  // time by time, the order of the states in memory (reference/states.hpp)
    for (int p = 0; p < samples; ++p) {
      flow.at(k, u0.data() + static_cast<size_t>(p) * m.dim, exact.data());
      for (int j = 0; j < m.dim; ++j) {
        const double d = alpha[k] * (y(p, k, j) - exact[j]);
        sum[k] += d * d;
      }
    }
  double worst = 0;
  for (int k = 0; k < times; ++k) worst = std::max(worst, std::sqrt(sum[k] / (static_cast<double>(samples) * m.dim)));
  return worst;
}

// Where the trajectory kernel keeps the states at every grid point (run.save_states = grid).
solver::StateRecord state_record(const Experiment& e, int steps, int dim) {
  solver::StateRecord record;
  if (e.save_states != Experiment::SaveStates::grid) return record;
  Kokkos::View<int*> row("pfode::sweep::saved_row", e.samples);
  auto h = Kokkos::create_mirror_view(row);
  for (int p = 0; p < e.samples; ++p) h(p) = -1;
  for (size_t k = 0; k < e.save_samples.size(); ++k) h(e.save_samples[k]) = static_cast<int>(k);
  Kokkos::deep_copy(row, h);
  record.row = row;
  record.states = Kokkos::View<double***>("pfode::sweep::saved_states", e.save_samples.size(), steps + 1, dim);
  return record;
}

// run.save_states: the saved samples' final states and what they are compared with (x*(t_N) or
// x*(0)); with `grid` also x and x* at every grid point (at the last, after a final denoise, the
// final state and its target). y: the group's reference states on the host.
template <class HostY>
void save_states(const Experiment& e, const HostY& y, const solver::ExactStates& exact, const std::vector<int>& index,
                 const std::vector<double>& alpha, const solver::SolverRun& run, const solver::StateRecord& saving,
                 int dim, results::CellResult& r) {
  const int points = static_cast<int>(index.size()), last = points - 1;
  auto exact_x = [&](int p, int i, int c) {
    return i == last && exact.zero >= 0 ? y(p, exact.zero, c) : alpha[i] * y(p, index[i], c);
  };
  r.saved_samples = e.save_samples;
  r.state_dim = dim;
  for (int p : e.save_samples)
    for (int c = 0; c < dim; ++c) {
      r.final_state.push_back(run.final_state[static_cast<size_t>(p) * dim + c]);
      r.exact_final_state.push_back(exact_x(p, last, c));
    }
  if (saving.states.extent(0) == 0) return;
  const auto states = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), saving.states);
  for (size_t k = 0; k < e.save_samples.size(); ++k)
    for (int i = 0; i < points; ++i)
      for (int c = 0; c < dim; ++c) {
        r.states.push_back(states(k, i, c));
        r.exact_states.push_back(exact_x(e.save_samples[k], i, c));
      }
}

// GroupReference::model_error and denoiser_error from the two solves.
void split_reference_errors(const model::ModelSpec& spec, const model::ModelSpec& exact,
                            const std::vector<double>& alpha, GroupReference& group) {
  const auto y = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), group.solution.y);
  const auto y_exact = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), group.exact.y);
  const int samples = static_cast<int>(y.extent(0)), times = static_cast<int>(y.extent(1)), dim = spec.dim;
  std::vector<double> points, s;  // every (sample, time) of the model's reference
  std::vector<int> sample_of;      // the batch sample of each point (a guided model's class)
  points.reserve(static_cast<size_t>(samples) * times * dim);
  group.model_error.resize(static_cast<size_t>(samples) * times);
  for (int p = 0; p < samples; ++p)
    for (int k = 0; k < times; ++k) {
      double sum = 0;
      for (int j = 0; j < dim; ++j) {
        const double d = alpha[k] * (y(p, k, j) - y_exact(p, k, j));
        sum += d * d;
        points.push_back(y(p, k, j));
      }
      group.model_error[static_cast<size_t>(p) * times + k] = std::sqrt(sum / dim);
      s.push_back(group.solution.s[k]);
      sample_of.push_back(p);
    }
  const auto d_model = model::denoise_points(model::to_device(spec), points, s, sample_of);
  const auto d_exact = model::denoise_points(model::to_device(exact), points, s, sample_of);
  group.denoiser_error.resize(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    double sum = 0;
    for (int j = 0; j < dim; ++j) {
      const double d = d_model[i * dim + j] - d_exact[i * dim + j];
      sum += d * d;
    }
    group.denoiser_error[i] = std::sqrt(sum / dim);
  }
}

double mean(const std::vector<long>& values) {
  double sum = 0;
  for (long v : values) sum += static_cast<double>(v);
  return values.empty() ? 0.0 : sum / values.size();
}

void set_nfe(results::CellResult& r, const std::vector<long>& nfe) {
  r.nfe = *std::max_element(nfe.begin(), nfe.end());
  r.nfe_uniform = std::all_of(nfe.begin(), nfe.end(), [&](long v) { return v == r.nfe; });
  r.nfe_mean = mean(nfe);
}

// The alpha of a final denoise's state: 1 at sigma = 0 (run.denoise_target = zero), else alpha_N.
double final_alpha(const Experiment& e, const solver::SolverSpec& spec, const schedule::Schedule& sched,
                   const Cell& cell) {
  return spec.final_denoise && e.denoise_to_zero ? 1.0 : sched.alpha(cell.times.back());
}

// A stochastic sampler's cell: its run from start states drawn at the grid's first time, and its
// strong error against its refined reference on the same Brownian path (sweep/sampling.hpp).
void measure_stochastic_cell(const Experiment& e, const Cell& cell, const model::DeviceModel& model,
                             results::CellResult& r) {
  const auto& spec_model = e.models[cell.model];
  const auto& sched = e.schedules[cell.schedule];
  const auto spec = solver::with_budget(e.solvers[cell.solver].spec, e.nfe[cell.budget]);
  const double t0 = cell.times.front();
  const auto y_start = model::start_states(spec_model, e.start, e.seeds[cell.seed], e.samples,
                                           sched.schedule.alpha(t0), sched.schedule.sigma(t0), sched.name);
  Kokkos::View<double**> y("pfode::sweep::sde_starts", e.samples, spec_model.dim);
  {
    auto h = Kokkos::create_mirror_view(y);
    for (int p = 0; p < e.samples; ++p)
      for (int c = 0; c < spec_model.dim; ++c) h(p, c) = y_start[static_cast<size_t>(p) * spec_model.dim + c];
    Kokkos::deep_copy(y, h);
  }
  solver::SampleSettings settings;
  settings.path.seed = e.seeds[cell.seed];
  settings.path.depth = e.brownian_depth;
  settings.layout.kind = e.layout;
  const double alpha_final = final_alpha(e, spec, sched.schedule, cell);
  r.brownian_depth = e.brownian_depth;
  if (solver::strong_order(spec) == 0) {  // no SDE limit: no strong error, only the run
    const auto run = solver::sample_solver(spec, solver::make_step_grid(sched.schedule, cell.times, solver::Variable::t),
                                           model, y, settings, alpha_final);
    const auto states = solver::states_on_host(run);
    r.layout = run.layout;
    r.wall_time = run.seconds;
    set_nfe(r, run.nfe);
    r.gte_target = "none";
    const double nan = std::numeric_limits<double>::quiet_NaN();
    for (auto* summary : {&r.gte_summary, &r.gte_relative_summary}) summary->rms = summary->max = summary->median =
                                                                         summary->p90 = nan;
    r.reference_error = nan;
    r.gte.assign(e.samples, nan);
    r.gte_relative.assign(e.samples, nan);
    for (auto* steps : {&r.error_rms, &r.error_max, &r.error_median}) steps->assign(cell.times.size(), nan);
    r.status = std::all_of(states.begin(), states.end(), [](double v) { return std::isfinite(v); }) ? "ok" : "diverged";
    return;
  }
  const auto strong = strong_run(spec, sched.schedule, cell.times, model, y, settings, e.sde_refinement, alpha_final);
  r.layout = strong.run.layout;
  r.wall_time = strong.run.seconds;
  r.reference_wall_time = strong.reference_seconds;
  r.refinement = e.sde_refinement;
  r.gte_target = "sde_reference";
  set_nfe(r, strong.run.nfe);
  set_global_errors(r, strong.error, strong.exact_final_rms, e.samples, strong.points, strong.reference_error, false);
  if (e.save_states == Experiment::SaveStates::none) return;
  const int dim = strong.dim, points = strong.points;
  r.saved_samples = e.save_samples;
  r.state_dim = dim;
  for (int p : e.save_samples) {
    for (int c = 0; c < dim; ++c) {
      const size_t at = (static_cast<size_t>(p) * points + points - 1) * dim + c;
      r.final_state.push_back(strong.states[at]);
      r.exact_final_state.push_back(strong.reference[at]);
    }
    if (e.save_states != Experiment::SaveStates::grid) continue;
    const size_t from = static_cast<size_t>(p) * points * dim, to = from + static_cast<size_t>(points) * dim;
    r.states.insert(r.states.end(), strong.states.begin() + from, strong.states.begin() + to);
    r.exact_states.insert(r.exact_states.end(), strong.reference.begin() + from, strong.reference.begin() + to);
  }
}

// run.weak_samples: the law of the cell's final states against the exact p(x; t_N) (after a final
// denoise: the data, scaled by alpha_N unless at sigma = 0). Adaptive solvers have none.
void add_weak_error(const Experiment& e, const Cell& cell, const model::DeviceModel& model, results::CellResult& r) {
  const auto spec = solver::with_budget(e.solvers[cell.solver].spec, e.nfe[cell.budget]);
  if (e.weak_samples <= 0 || solver::is_adaptive(spec)) return;
  const auto& sched = e.schedules[cell.schedule].schedule;
  const double t_end = cell.times.back(), alpha_final = final_alpha(e, spec, sched, cell);
  r.weak_target_alpha = alpha_final;
  r.weak_target_s = spec.final_denoise ? 0.0 : sched.s(t_end);
  const auto target = metrics::target_law(e.models[cell.model], r.weak_target_alpha, r.weak_target_s);
  const auto grid = solver::make_step_grid(sched, cell.times, solver::Variable::t, cell.stage_times);
  const auto weak = weak_run(e, cell, grid, model, target, alpha_final, r.weak_wall_time);
  r.weak_samples = weak.samples;
  r.mmd_samples = weak.mmd_samples;
  r.mmd_block = weak.block;
  r.mmd_bandwidth = weak.bandwidth;
  r.weak_mean = weak.mean;
  r.weak_covariance = weak.covariance;
  r.weak_mmd = weak.mmd;
}

// Reference states on the host, as the checkpoint keeps them: time-major (time, sample,
// coordinate). A host view is that storage itself on host backends (reference/states.hpp);
// otherwise its values go through a buffer in that order, visited here.
template <class HostView>
constexpr bool time_major_storage() {
  return std::is_same_v<typename HostView::memory_space, reference::States::memory_space> && reference::time_major_states;
}
template <class HostView, class F>
void for_each_state(const HostView& h, const F& visit) {
  for (size_t k = 0; k < h.extent(1); ++k)
    for (size_t p = 0; p < h.extent(0); ++p)
      for (size_t j = 0; j < h.extent(2); ++j) visit(h(p, k, j), (k * h.extent(0) + p) * h.extent(2) + j);
}

}  // namespace

ReferenceSettings reference_settings(const Experiment& e) {
  ReferenceSettings settings;
  settings.tolerance = e.reference_tolerance;
  settings.pack_step = e.reference_pack_step;
  settings.layout = e.layout;
  return settings;
}

ReferenceSettings reference_settings(const Experiment& e, const Plan& plan, const CellGroup& group) {
  ReferenceSettings settings = reference_settings(e);
  // With run.denoise_target = zero, a group with final=denoise cells continues its reference to s = 0.
  settings.to_zero = e.denoise_to_zero && std::any_of(group.cells.begin(), group.cells.end(), [&](int id) {
                       return e.solvers[plan.cells[id].solver].spec.final_denoise;
                     });
  return settings;
}

long reference_outputs(const Experiment& e, const Plan& plan, const CellGroup& group) {
  return static_cast<long>(reference_times(e, plan, group).size()) + (reference_settings(e, plan, group).to_zero ? 1 : 0);
}

std::vector<int> GroupReference::indices(const std::vector<double>& run_times) const {
  std::vector<int> out;
  for (double t : run_times) {
    const auto at = std::lower_bound(times.begin(), times.end(), t, std::greater<double>());
    if (at == times.end() || *at != t) throw std::logic_error("a run time the reference was not solved at");
    out.push_back(static_cast<int>(at - times.begin()));
  }
  return out;
}

GroupReference solve_group_reference(const model::ModelSpec& spec, const results::ScheduleEntry& entry, long seed,
                                     const std::vector<double>& y_start, std::vector<double> times,
                                     const ReferenceSettings& settings, const reference::SampleSplit& split) {
  const auto& sched = entry.schedule;
  GroupReference group;
  std::sort(times.begin(), times.end(), std::greater<double>());
  times.erase(std::unique(times.begin(), times.end()), times.end());
  std::vector<double> s_out, alpha_out;
  for (double t : times) {
    s_out.push_back(sched.s(t));
    alpha_out.push_back(sched.alpha(t));
  }
  for (size_t k = 1; k < s_out.size(); ++k)
    if (!(s_out[k] < s_out[k - 1])) s_out[k] = std::nextafter(s_out[k - 1], 0.0);  // guard: distinct t, equal s
  // The continuation to s = 0. dy/ds = (y - D)/s = s sum_k r_k (y - mu_k)/(c_k^2 + s^2) is regular
  // at s = 0 (every variance c_k^2 > 0) and y(s) - y(0) = O(s^2): the solve in log s runs on to
  // s_0 = 1e-8 min(c), where |y(s_0) - y(0)| <= s_0^2/2 max|y - mu|/min(c)^2 = 5e-17 max|y - mu|,
  // below round-off; there y(s_0) is y*(0), and x = y at sigma = 0 (alpha = 1).
  double s_zero = 0;
  if (settings.to_zero) {
    const double c_min = *std::min_element(spec.stds.begin(), spec.stds.end());
    if (!(c_min > 0) || !spec.is_exact())
      throw std::invalid_argument("model " + spec.name +
                                  (spec.is_exact()    ? " has a zero std"
                                   : spec.network     ? " is a network"
                                   : spec.is_guided() ? " is guided"
                                                      : " is perturbed") +
                                  ": its flow to s = 0 is singular (no x*(0) target)");
    s_zero = std::min(1e-8 * c_min, 1e-2 * s_out.back());
    s_out.push_back(s_zero);
    alpha_out.push_back(1.0);
  }

  const int samples = static_cast<int>(y_start.size() / spec.dim);
  Kokkos::View<double**> y_start_device("pfode::sweep::y_start", samples, spec.dim);
  {
    auto h = Kokkos::create_mirror_view(y_start_device);
    for (int p = 0; p < samples; ++p)
      for (int j = 0; j < spec.dim; ++j) h(p, j) = y_start[static_cast<size_t>(p) * spec.dim + j];
    Kokkos::deep_copy(y_start_device, h);
  }

  const auto start = Clock::now();
  reference::Dop853Settings dop853;
  dop853.rtol = dop853.atol = settings.tolerance;
  dop853.pack_step = settings.pack_step;
  dop853.teams = settings.layout == lane::KernelLayout::teams;
  group.solution = reference::solve_reference(model::to_device(spec), y_start_device, s_out, dop853, alpha_out, split);
  const auto& ref = group.solution;
  results::ReferenceRecord& record = group.record;
  record.model = spec.name;
  record.schedule = entry.name;
  record.seed = seed;
  record.times = static_cast<long>(s_out.size());
  record.tolerance = ref.tolerance;
  record.step_control = settings.pack_step ? "pack" : "sample";
  record.layout = dop853.in_teams() ? "teams" : "packs";
  record.nfe_mean = ref.nfe_mean;
  record.nfe_max = ref.nfe_max;
  for (int p = 0; p < samples; ++p) {
    record.steps_accepted_mean += static_cast<double>(ref.accepted_steps[p]) / samples;
    record.steps_rejected_mean += static_cast<double>(ref.rejected_steps[p]) / samples;
  }
  record.error_estimate = ref.error_estimate;
  record.error_estimate_samples = static_cast<long>(ref.estimate_samples.size());
  record.failed_samples = ref.failed_samples;
  if (model::has_closed_form(spec)) record.exact_error = closed_form_error(spec, y_start, ref, alpha_out);
  if (!spec.is_exact()) {
    const auto exact = spec.exact();
    group.exact = reference::solve_reference(model::to_device(exact), y_start_device, s_out, dop853, alpha_out, split);
    record.exact_model_error_estimate = group.exact.error_estimate;
    record.exact_model_nfe_mean = group.exact.nfe_mean;
    record.failed_samples += group.exact.failed_samples;
    split_reference_errors(spec, exact, alpha_out, group);
  }
  record.s_zero = s_zero;
  record.wall_time = seconds_since(start);
  if (settings.to_zero) group.zero = static_cast<int>(times.size());
  group.times = std::move(times);
  return group;
}

void set_global_errors(results::CellResult& r, const std::vector<double>& global_error,
                       const std::vector<double>& exact_final_rms, int samples, int points, double reference_error,
                       bool adaptive) {
  const int last = points - 1;
  r.gte = metrics::column(global_error, samples, points, last);
  r.gte_relative.resize(samples);
  for (int p = 0; p < samples; ++p) r.gte_relative[p] = r.gte[p] / exact_final_rms[p];
  r.gte_summary = metrics::summarize(r.gte);
  r.gte_relative_summary = metrics::summarize(r.gte_relative);
  auto along = metrics::summarize_columns(global_error, samples, points);
  r.error_rms = std::move(along.rms);
  r.error_max = std::move(along.max);
  r.error_median = std::move(along.median);
  // A non-finite final state: a fixed-grid solver diverged; an adaptive one gave up (its
  // controller rejects non-finite steps, so only the attempt limit or an underflowing step
  // size ends it there).
  r.status = r.gte_summary.finite ? "ok" : adaptive ? "step_control_failed" : "diverged";
  r.reference_error = reference_error;
  r.near_floor = r.gte_summary.rms <= 10.0 * reference_error;
}

void set_error_split(results::CellResult& r, const GroupReference& reference, const std::vector<int>& index,
                     const std::vector<double>& final_state, double alpha_final, int samples) {
  const auto y_exact = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), reference.exact.y);
  const int dim = static_cast<int>(y_exact.extent(2)), times = static_cast<int>(reference.solution.s.size());
  const int last = index.back();
  r.total_error.resize(samples);
  for (int p = 0; p < samples; ++p) {
    double sum = 0;
    for (int j = 0; j < dim; ++j) {
      const double d = final_state[static_cast<size_t>(p) * dim + j] - alpha_final * y_exact(p, last, j);
      sum += d * d;
    }
    r.total_error[p] = std::sqrt(sum / dim);
  }
  r.total_summary = metrics::summarize(r.total_error);
  const auto along = [&](const std::vector<double>& per_sample) {
    std::vector<double> rms;
    for (int k : index) {
      double sum = 0;
      for (int p = 0; p < samples; ++p) {
        const double v = per_sample[static_cast<size_t>(p) * times + k];
        sum += v * v;
      }
      rms.push_back(std::sqrt(sum / samples));
    }
    return rms;
  };
  r.model_error_rms = along(reference.model_error);
  r.denoiser_error_rms = along(reference.denoiser_error);
}

results::CellResult make_cell_result(const Experiment& e, const Cell& cell) {
  results::CellResult r;
  const auto& solver = e.solvers[cell.solver];
  r.id = cell.id;
  r.model = e.models[cell.model].name;
  r.schedule = e.schedules[cell.schedule].name;
  r.spacing = e.spacings[cell.spacing].label;
  r.solver = solver.label;
  r.options = solver::describe_options(solver::with_budget(solver.spec, e.nfe[cell.budget]));
  r.nfe_budget = e.nfe[cell.budget];
  r.steps = cell.steps;
  r.seed = static_cast<long>(e.seeds[cell.seed]);
  r.samples = e.samples;
  const auto spec = solver::with_budget(solver.spec, e.nfe[cell.budget]);
  r.order_theory = solver::theoretical_order(spec);
  r.lte_order_theory = solver::is_stochastic(spec) ? 0 : solver::local_order(spec) + 1;  // no LTE for SDEs
  r.strong_order_theory = solver::strong_order(spec);
  r.weak_order_theory = solver::weak_order(spec);
  r.t = cell.times;
  const auto& sched = e.schedules[cell.schedule].schedule;
  for (double t : cell.times) r.lambda.push_back(sched.lambda(t));
  return r;
}

void run_plan(const Experiment& e, const Plan& plan, const std::set<int>& skip, const RunCallbacks& callbacks,
              const std::set<int>& solve_groups, const SharedReferences* shared) {
  // Each group's path, agreed over the ranks (the smallest wins): a rank that has failed answers
  // failed; a rank with cells in the group stored (it read the kept reference) or solve; a rank
  // without any, any (all any: the group's record is missing, it is solved).
  enum Path { failed = 0, solve = 1, stored = 2, any = 3 };
  reference::SampleSplit split;
  if (shared) {
    split.part = shared->rank;
    split.parts = shared->ranks;
    split.broadcast = shared->broadcast;
    split.meet = [shared] {
      if (shared->minimum(1) == failed) throw OtherRankFailed();
    };
    split.shared_rows = shared->shared_rows;
    split.node_role = shared->node_role;
    split.broadcast_between_nodes = shared->broadcast_between_nodes;
  }
  const auto has_work = [&](size_t g) {
    return solve_groups.count(static_cast<int>(g)) > 0 ||
           std::any_of(plan.groups[g].cells.begin(), plan.groups[g].cells.end(), [&](int id) { return !skip.count(id); });
  };
  size_t last_group = 0;
  for (size_t g = 0; g < plan.groups.size(); ++g)
    if (has_work(g)) last_group = g;
  for (size_t group_index = 0; group_index < plan.groups.size(); ++group_index) {
    const CellGroup& group = plan.groups[group_index];
    std::vector<int> todo;
    for (int id : group.cells)
      if (!skip.count(id)) todo.push_back(id);
    if (!has_work(group_index)) continue;
    const bool drawn = shared && shared->claim;
    if (drawn) sort_by_cost(e, plan, todo);
    // A guided model draws its samples' classes with the group's seed.
    const auto spec = model::for_run_seed(e.models[group.model], e.seeds[group.seed]);
    const auto& sched = e.schedules[group.schedule].schedule;
    const auto model = model::to_device(spec);

    const ReferenceSettings settings = reference_settings(e, plan, group);
    GroupReference reference;
    reference.times = reference_times(e, plan, group);
    int path = todo.empty() ? any : solve;
    if (!todo.empty() && callbacks.stored_reference) {  // kept by an earlier run: no solve
      const auto y = reference::allocate_states(
          e.samples, static_cast<int>(reference.times.size() + (settings.to_zero ? 1 : 0)), spec.dim);
      auto h = Kokkos::create_mirror_view(y);
      std::vector<double> buffer;
      double* into = h.data();
      if constexpr (!time_major_storage<decltype(h)>()) {
        buffer.resize(h.size());
        into = buffer.data();
      }
      if (callbacks.stored_reference(static_cast<int>(group_index), reference.record, into, h.size())) {
        if constexpr (!time_major_storage<decltype(h)>()) for_each_state(h, [&](double& v, size_t i) { v = buffer[i]; });
        Kokkos::deep_copy(y, h);
        reference.solution.y = y;
        if (settings.to_zero) reference.zero = static_cast<int>(reference.times.size());
        path = stored;
      }
    }
    if (shared) {
      path = shared->minimum(path);
      if (path == failed) throw OtherRankFailed();
      if (shared->reuse_rows) shared->reuse_rows();  // no rank reads the previous group's states now
      if (path == stored && todo.empty()) continue;
    }
    if (path != stored) {
      const auto y_start = model::start_states(spec, e.start, e.seeds[group.seed], e.samples, sched.alpha(sched.t_max),
                                               sched.sigma(sched.t_max), e.schedules[group.schedule].name);
      reference = solve_group_reference(spec, e.schedules[group.schedule], static_cast<long>(e.seeds[group.seed]),
                                        y_start, reference.times, settings, split);
      if (callbacks.reference_done) {
        const auto& y = reference.solution.y;
        decltype(Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), y)) host;
        std::vector<double> buffer;
        ReferenceStates states;
        // The last group's states would serve only a kill while the results file is assembled.
        if (callbacks.keep_reference_states && group_index != last_group) {
          host = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), y);
          states.shape = {host.extent(1), host.extent(0), host.extent(2)};
          states.data = host.data();
          if constexpr (!time_major_storage<decltype(host)>()) {
            buffer.resize(host.size());
            for_each_state(host, [&](double v, size_t i) { buffer[i] = v; });
            states.data = buffer.data();
          }
        }
        callbacks.reference_done(static_cast<int>(group_index), reference.record, states);
      }
    }
    const results::ReferenceRecord& record = reference.record;
    if (record.failed_samples > 0)
      throw ReferenceFailed("reference solve failed for " + std::to_string(record.failed_samples) + " samples of " +
                            describe(e, group) + " (step budget exhausted or non-finite states)");
    const auto& ref = reference.solution;
    const auto& spec_model = spec;
    // The reference states on the host, for the states a run saves (a no-copy mirror on host backends).
    const auto y_host = Kokkos::create_mirror_view(ref.y);
    if (e.save_states != Experiment::SaveStates::none) Kokkos::deep_copy(y_host, ref.y);

    size_t next = 0;
    const auto draw = [&] { return drawn ? static_cast<size_t>(shared->claim(static_cast<int>(group_index))) : next++; };
    for (size_t position = draw(); position < todo.size(); position = draw()) {
      const Cell& cell = plan.cells[todo[position]];
      results::CellResult r = make_cell_result(e, cell);
      if (solver::is_stochastic(e.solvers[cell.solver].spec)) {
        measure_stochastic_cell(e, cell, model, r);
        add_weak_error(e, cell, model, r);
        if (callbacks.cell_done) callbacks.cell_done(r);
        continue;
      }
      Kokkos::View<int*> index("pfode::sweep::ref_index", cell.times.size());
      {
        const auto positions = reference.indices(cell.times);
        auto h = Kokkos::create_mirror_view(index);
        for (size_t i = 0; i < positions.size(); ++i) h(i) = positions[i];
        Kokkos::deep_copy(index, h);
      }
      const auto grid = solver::make_step_grid(sched, cell.times, solver::Variable::t, cell.stage_times);
      const auto spec = solver::with_budget(e.solvers[cell.solver].spec, e.nfe[cell.budget]);
      solver::ExactStates exact{ref.y, index};
      if (spec.final_denoise) exact.zero = reference.zero;
      r.gte_target = exact.zero >= 0 ? "zero" : "grid_end";
      // Adaptive solvers take their own steps: no step of theirs has a fixed-grid LTE.
      const bool measure_lte = e.measure_local_error && !solver::is_adaptive(spec);
      lane::KernelLayout layout;
      layout.kind = e.layout;
      const auto saving = state_record(e, cell.steps, spec_model.dim);
      const auto run = solver::run_solver(spec, grid, model, exact, e.samples, measure_lte, layout, saving);
      r.layout = run.layout;
      r.step_order = run.step_order;
      r.step_corrected = run.step_corrected;
      r.eval_s = run.eval_s;
      for (double s : run.eval_s) r.eval_t.push_back(sched.t_of_lambda(-std::log(s)));
      r.wall_time = run.trajectory_seconds;
      r.lte_wall_time = run.local_error_seconds;

      const int n = cell.steps;
      set_nfe(r, run.nfe);
      if (!run.accepted_steps.empty()) {
        r.steps_accepted_mean = mean(run.accepted_steps);
        r.steps_rejected_mean = mean(run.rejected_steps);
      }
      set_global_errors(r, run.global_error, run.exact_final_rms, e.samples, n + 1, record.error_estimate,
                        solver::is_adaptive(spec));
      if (reference.split())
        set_error_split(r, reference, reference.indices(cell.times), run.final_state, sched.alpha(cell.times.back()),
                        e.samples);
      if (measure_lte) {
        auto lte = metrics::summarize_columns(run.local_error, e.samples, n);
        r.lte_rms = std::move(lte.rms);
        r.lte_max = std::move(lte.max);
        r.lte_median = std::move(lte.median);
        r.lte_step_median = metrics::quantile(r.lte_rms, 0.5);
      }
      if (e.save_states != Experiment::SaveStates::none) {
        std::vector<double> alpha;
        for (double t : cell.times) alpha.push_back(sched.alpha(t));
        save_states(e, y_host, exact, reference.indices(cell.times), alpha, run, saving, spec_model.dim, r);
      }
      add_weak_error(e, cell, model, r);
      if (callbacks.cell_done) callbacks.cell_done(r);
    }
  }
}

}  // namespace pfode::sweep
