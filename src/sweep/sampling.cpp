#include "sweep/sampling.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <stdexcept>

#include "model/start_states.hpp"

namespace pfode::sweep {

std::vector<double> refine_times(const schedule::Schedule& sched, const std::vector<double>& times, int factor) {
  std::vector<double> fine{times.front()};
  for (size_t i = 0; i + 1 < times.size(); ++i) {
    const double l0 = sched.lambda(times[i]), l1 = sched.lambda(times[i + 1]);
    for (int k = 1; k < factor; ++k) fine.push_back(sched.t_of_lambda(l0 + (l1 - l0) * k / factor));
    fine.push_back(times[i + 1]);
  }
  return fine;
}

StrongRun strong_run(const solver::SolverSpec& spec, const schedule::Schedule& sched, const std::vector<double>& times,
                     const model::DeviceModel& model, Kokkos::View<const double**> y_start,
                     const solver::SampleSettings& settings, int refinement, double final_alpha) {
  if (refinement < 2 || refinement % 2 != 0) throw std::invalid_argument("the strong reference's refinement must be even");
  StrongRun out;
  solver::SampleSettings own = settings;
  own.stride = 1;
  out.run = solver::sample_solver(spec, solver::make_step_grid(sched, times, solver::Variable::t), model, y_start, own,
                                  final_alpha);
  out.points = out.run.points;
  out.dim = out.run.dim;
  out.states = solver::states_on_host(out.run);
  // The reference and its half-refined twin, kept at the cell's grid points.
  const auto start = std::chrono::steady_clock::now();
  auto refined = [&](int factor) {
    solver::SampleSettings fine = settings;
    fine.stride = factor;
    const auto grid = solver::make_step_grid(sched, refine_times(sched, times, factor), solver::Variable::t);
    return solver::states_on_host(solver::sample_solver(spec, grid, model, y_start, fine, final_alpha));
  };
  out.reference = refined(refinement);
  const auto half = refined(refinement / 2);
  out.reference_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();

  const int samples = out.run.samples, points = out.points, dim = out.dim;
  out.error.resize(static_cast<size_t>(samples) * points);
  out.exact_final_rms.resize(samples);
  double reference_sq = 0;
  for (int p = 0; p < samples; ++p) {
    for (int i = 0; i < points; ++i) {
      double sum = 0;
      for (int c = 0; c < dim; ++c) {
        const size_t at = (static_cast<size_t>(p) * points + i) * dim + c;
        const double d = out.states[at] - out.reference[at];
        sum += d * d;
      }
      out.error[static_cast<size_t>(p) * points + i] = std::sqrt(sum / dim);
    }
    double norm = 0, gap = 0;
    for (int c = 0; c < dim; ++c) {
      const size_t at = (static_cast<size_t>(p) * points + points - 1) * dim + c;
      norm += out.reference[at] * out.reference[at];
      gap += (out.reference[at] - half[at]) * (out.reference[at] - half[at]);
    }
    out.exact_final_rms[p] = std::sqrt(norm / dim);
    reference_sq += gap / dim;
  }
  const int p = std::max(1, solver::strong_order(spec));
  out.reference_error = std::sqrt(reference_sq / samples) / (std::pow(2.0, p) - 1.0);
  return out;
}

metrics::WeakErrors weak_run(const Experiment& e, const Cell& cell, const solver::StepGrid& grid,
                             const model::DeviceModel& model, const metrics::TargetMixture& target, double final_alpha,
                             double& seconds) {
  const auto start = std::chrono::steady_clock::now();
  const auto& spec_model = e.models[cell.model];
  const auto& sched = e.schedules[cell.schedule];
  const auto spec = solver::with_budget(e.solvers[cell.solver].spec, e.nfe[cell.budget]);
  const long total = e.weak_samples;
  const int dim = spec_model.dim;
  const double t0 = cell.times.front();
  const auto y_all = model::start_states(spec_model, e.start, e.seeds[cell.seed], static_cast<int>(total),
                                         sched.schedule.alpha(t0), sched.schedule.sigma(t0), sched.name);
  const double bandwidth = e.mmd_bandwidth > 0 ? e.mmd_bandwidth : metrics::default_bandwidth(target);
  metrics::WeakAccumulator weak(target, bandwidth, e.mmd_block, total);
  solver::SampleSettings settings;
  settings.path.seed = e.seeds[cell.seed];
  settings.path.depth = e.brownian_depth;
  settings.stride = cell.steps;
  settings.layout.kind = e.layout;
  // Chunks of whole blocks, about 64k samples each.
  const long chunk = std::max<long>(e.mmd_block, 65536L / e.mmd_block * e.mmd_block);
  for (long first = 0; first < total; first += chunk) {
    const int n = static_cast<int>(std::min(chunk, total - first));
    Kokkos::View<double**> y("pfode::sweep::weak_starts", n, dim);
    auto h = Kokkos::create_mirror_view(y);
    for (int p = 0; p < n; ++p)
      for (int c = 0; c < dim; ++c) h(p, c) = y_all[static_cast<size_t>(first + p) * dim + c];
    Kokkos::deep_copy(y, h);
    settings.first_sample = first;
    const auto run = solver::sample_solver(spec, grid, model, y, settings, final_alpha);
    weak.add(run.states, run.points - 1, first);
  }
  seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return weak.finish();
}

}  // namespace pfode::sweep
