// The definition of run_solver for one model kind: every method, on both layouts. It is compiled
// once per kind, in that kind's translation unit (src/kinds/), never in the callers'.
#pragma once

#include <algorithm>
#include <chrono>
#include <limits>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <vector>

#include "lane/launch.hpp"
#include "solver/methods.hpp"
#include "solver/run.hpp"

namespace pfode::solver {

namespace detail {

// A 2-D device View as a row-major host vector.
template <class T>
std::vector<T> to_host_rows(const Kokkos::View<T**>& v) {
  auto h = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), v);
  if constexpr (std::is_same_v<typename decltype(h)::array_layout, Kokkos::LayoutRight>)
    if (h.span_is_contiguous()) return std::vector<T>(h.data(), h.data() + h.size());  // already rows
  std::vector<T> out(v.extent(0) * v.extent(1));
  for (size_t p = 0; p < v.extent(0); ++p)
    for (size_t i = 0; i < v.extent(1); ++i) out[p * v.extent(1) + i] = h(p, i);
  return out;
}

// What every trajectory kernel writes, and its copy into a SolverRun.
struct TrajectoryOutputs {
  Kokkos::View<double**> global_error;    // (sample, N + 1)
  Kokkos::View<double*> exact_final_rms;  // (sample)
  Kokkos::View<double**> final_state;     // (sample, coord)
  lane::EvalTrace trace;                  // sample 0's evaluations: room for `evaluations`
  Kokkos::View<int* [2]> step_trace;      // sample 0's steps (fixed-grid methods)

  TrajectoryOutputs(int samples, int steps, int dim, int evaluations, bool trace_steps)
      : global_error("pfode::solver::global_error", samples, steps + 1),
        exact_final_rms("pfode::solver::exact_final_rms", samples),
        final_state("pfode::solver::final_state", samples, dim),
        step_trace("pfode::solver::step_trace", trace_steps ? steps : 0) {
    trace.s = Kokkos::View<double*>("pfode::solver::eval_s", evaluations);
  }

  // The lane the trajectory kernel runs on: `lane`, recording sample 0's evaluations.
  template <class L>
  L traced(const L& lane) const {
    L l = lane;
    l.trace = trace;
    return l;
  }

  SolverRun to_host(const lane::NfeCounter& nfe, int steps, double seconds) const {
    SolverRun run;
    run.samples = static_cast<int>(nfe.extent(0));
    run.steps = steps;
    run.trajectory_seconds = seconds;
    auto nfe_host = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), nfe);
    auto norm_host = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), exact_final_rms);
    run.nfe.assign(nfe_host.data(), nfe_host.data() + run.samples);
    run.exact_final_rms.assign(norm_host.data(), norm_host.data() + run.samples);
    run.global_error = to_host_rows(global_error);
    run.final_state = to_host_rows(final_state);
    auto eval_host = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), trace.s);
    const long spent = run.nfe.empty() ? 0 : run.nfe[0], room = static_cast<long>(eval_host.extent(0));
    // A fixed-grid trace is whole or it is a defect of evaluation_room, never silently cut.
    if (step_trace.extent(0) > 0 && spent > room)
      throw std::logic_error("solver trace: sample 0 spent " + std::to_string(spent) + " evaluations, room for " +
                             std::to_string(room));
    const long kept = std::min(spent, room);
    run.eval_s.assign(eval_host.data(), eval_host.data() + kept);
    auto steps_host = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), step_trace);
    for (size_t i = 0; i < steps_host.extent(0); ++i) {
      run.step_order.push_back(steps_host(i, 0));
      run.step_corrected.push_back(steps_host(i, 1));
    }
    return run;
  }
};

// Room for sample 0's evaluations: at most 4 per step and a final denoise on a fixed grid; an
// adaptive solver keeps its first 65536.
inline int evaluation_room(int steps, bool adaptive) { return adaptive ? 1 << 16 : 4 * steps + 2; }

// Seconds that launch() takes, fenced.
template <class F>
double timed(const F& launch) {
  using Clock = std::chrono::steady_clock;
  const auto start = Clock::now();
  launch();
  Kokkos::fence();
  return std::chrono::duration<double>(Clock::now() - start).count();
}

// Both kernels of a fixed-grid method on one launch shape.
template <class Method, class Policy, class L>
SolverRun run_kernels(const Method& method, const Policy& policy, const L& lane, const StepGrid& grid,
                      const ExactStates& exact, int samples, bool measure_local_error, bool final_denoise,
                      const StateRecord& record) {
  const int steps = grid.steps;
  const TrajectoryOutputs out(samples, steps, lane.dim(), evaluation_room(steps, false), true);
  const double seconds = timed([&] {
    Kokkos::parallel_for("pfode::solver::trajectory", policy,
                         TrajectoryKernel<Method, L>{method, grid, out.traced(lane), exact, out.global_error,
                                                     out.exact_final_rms, out.final_state, final_denoise, record,
                                                     out.step_trace});
  });
  SolverRun run = out.to_host(lane.nfe, steps, seconds);
  if (measure_local_error) {
    // The LTE runs spend model evaluations of their own; they go to a separate counter.
    L lte_lane = lane;
    lte_lane.nfe = lane::NfeCounter("pfode::solver::lte_nfe", samples);
    Kokkos::View<double**> local_error("pfode::solver::local_error", samples, steps);
    run.local_error_seconds = timed([&] {
      Kokkos::parallel_for("pfode::solver::local_error", policy,
                           LocalErrorKernel<Method, L>{method, grid, lte_lane, exact, local_error});
    });
    run.local_error = to_host_rows(local_error);
    auto lte_nfe = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), lte_lane.nfe);
    run.local_error_nfe.assign(lte_nfe.data(), lte_nfe.data() + samples);
  }
  return run;
}

// Adaptive methods: one fused kernel per batch; the grid's interior points (none in a sweep) are
// landed on exactly. LTE is not defined for them: NaN of the requested shape.
template <class Method, class Policy, class L>
SolverRun run_adaptive_kernel(const Method& method, const Policy& policy, const L& lane, const StepGrid& grid,
                              const ExactStates& exact, int samples, bool measure_local_error, bool final_denoise,
                              const StateRecord& record) {
  const int steps = grid.steps;
  const TrajectoryOutputs out(samples, steps, lane.dim(), evaluation_room(steps, true), false);
  Kokkos::View<long**> steps_taken("pfode::solver::steps_taken", samples, 2);
  const double seconds = timed([&] {
    Kokkos::parallel_for("pfode::solver::adaptive_trajectory", policy,
                         AdaptiveKernel<Method, L>{method, grid, out.traced(lane), exact, out.global_error,
                                                   out.exact_final_rms, out.final_state, steps_taken, final_denoise,
                                                   record});
  });
  SolverRun run = out.to_host(lane.nfe, steps, seconds);
  const auto taken = to_host_rows(steps_taken);
  for (int p = 0; p < samples; ++p) {
    run.accepted_steps.push_back(taken[2 * p]);
    run.rejected_steps.push_back(taken[2 * p + 1]);
  }
  if (measure_local_error)
    run.local_error.assign(static_cast<size_t>(samples) * steps, std::numeric_limits<double>::quiet_NaN());
  return run;
}

// A method on the chosen layout (packs of pack_width samples per thread, or teams).
template <class Method, class Model>
SolverRun run_method(const Method& method, const StepGrid& grid, const Model& model, const ExactStates& exact,
                     int samples, bool measure_local_error, bool final_denoise, const lane::KernelLayout& layout,
                     const StateRecord& record) {
  lane::NfeCounter nfe("pfode::solver::nfe", samples);
  const auto run = [&](const auto& policy, const auto& lane) {
    if constexpr (adaptive_method<Method>)
      return run_adaptive_kernel(method, policy, lane, grid, exact, samples, measure_local_error, final_denoise,
                                 record);
    else
      return run_kernels(method, policy, lane, grid, exact, samples, measure_local_error, final_denoise, record);
  };
  SolverRun result =
      lane::on_layout<lane::pack_width>("pfode::solver", layout, samples, method.slots(), model, nfe, run);
  result.layout = lane::layout_name(layout.kind);
  return result;
}

}  // namespace detail

template <class Model>
SolverRun run_solver(const SolverSpec& spec, const StepGrid& grid, const Model& model, const ExactStates& exact,
                     int samples, bool measure_local_error, const lane::KernelLayout& layout,
                     const StateRecord& record) {
  StepGrid g = grid;
  g.variable = spec.variable;
  return with_method(spec, g, [&](const auto& method) {
    return detail::run_method(method, g, model, exact, samples, measure_local_error, spec.final_denoise, layout,
                              record);
  });
}

}  // namespace pfode::solver
