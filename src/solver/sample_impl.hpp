// The definition of sample_solver for one model kind, compiled in that kind's translation unit
// (src/kinds/), like run_solver (solver/run_impl.hpp).
#pragma once

#include <chrono>
#include <stdexcept>
#include <type_traits>

#include "lane/launch.hpp"
#include "solver/methods.hpp"
#include "solver/sample.hpp"

namespace pfode::solver {

namespace detail {

// Stochastic methods declare draws_noise and place their path cursors in start().
template <class M, class = void>
struct draws_noise : std::false_type {};
template <class M>
struct draws_noise<M, std::void_t<decltype(M::draws_noise)>> : std::bool_constant<M::draws_noise> {};

// The trajectory of every sample of a lane from its start state, x kept at every stride-th grid
// point; the model is fused in, one launch for the whole run (as solver/drivers.hpp).
template <class Method, class L>
struct SampleKernel {
  Method method;
  StepGrid grid;
  L lane;
  Kokkos::View<const double**> y_start;
  Kokkos::View<double***> states;
  int stride = 1;
  bool final_denoise = false;
  double final_alpha = 1;

  KOKKOS_INLINE_FUNCTION void store(const L& l, int point) const {
    for (int w = 0; w < L::width; ++w) {
      if (!l.holds(w)) continue;
      const int p = l.sample(w);
      l.for_coordinates([&](int c) { states(p, point, c) = l(state_slot, c)[w]; });
    }
  }

  template <class Where>
  KOKKOS_INLINE_FUNCTION void operator()(const Where& where) const {
    const L l = lane.at(where);
    const double alpha0 = grid.alpha(0);
    l.for_coordinates([&](int c) {
      for (int w = 0; w < L::width; ++w) l(state_slot, c)[w] = alpha0 * y_start(l.sample(w), c);
    });
    if constexpr (draws_noise<Method>::value) method.start(l, grid);
    store(l, 0);
    for (int i = 0; i < grid.steps; ++i) {
      if (i == 0 || !Method::carries_eval) method.observe(l, state_slot, grid, i);
      method.step(l, grid, i);
      if ((i + 1) % stride == 0) store(l, (i + 1) / stride);
    }
    if (final_denoise) {
      const int n = grid.steps;
      l.denoise(state_slot, grid.alpha(n), grid.s(n), scratch_slot);
      l.for_coordinates([&](int c) { l(state_slot, c) = final_alpha * l(scratch_slot, c); });
      store(l, n / stride);
    }
  }
};

template <class Method, class Model>
SampleRun sample_method(const Method& method, const SolverSpec& spec, const StepGrid& grid, const Model& model,
                        Kokkos::View<const double**> y_start, const SampleSettings& settings, double final_alpha) {
  if constexpr (adaptive_method<Method>) {
    throw std::invalid_argument("solver " + spec.info->name + " is adaptive: it has no sampling run on a fixed grid");
  } else {
    const int samples = static_cast<int>(y_start.extent(0)), dim = model.dimension();
    SampleRun out;
    out.samples = samples;
    out.dim = dim;
    out.points = grid.steps / settings.stride + 1;
    out.states = Kokkos::View<double***>("pfode::solver::sample_states", samples, out.points, dim);
    lane::NfeCounter nfe("pfode::solver::sample_nfe", samples);
    const auto run = [&](const auto& policy, const auto& lane) {
      using Lane = std::decay_t<decltype(lane)>;
      SampleKernel<Method, Lane> kernel{method, grid, lane, y_start, out.states, settings.stride, spec.final_denoise,
                                        final_alpha};
      const auto start = std::chrono::steady_clock::now();
      Kokkos::parallel_for("pfode::solver::sample", policy, kernel);
      Kokkos::fence();
      return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    };
    out.seconds = lane::on_layout<lane::pack_width>("pfode::solver::sample", settings.layout, samples, method.slots(),
                                                    model, nfe, run);
    out.layout = lane::layout_name(settings.layout.kind);
    const auto nfe_host = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), nfe);
    out.nfe.assign(nfe_host.data(), nfe_host.data() + samples);
    return out;
  }
}

}  // namespace detail

template <class Model>
SampleRun sample_solver(const SolverSpec& spec, const StepGrid& grid, const Model& model,
                        Kokkos::View<const double**> y_start, const SampleSettings& settings, double final_alpha) {
  if (settings.stride < 1 || grid.steps % settings.stride != 0)
    throw std::invalid_argument("sample_solver: stride " + std::to_string(settings.stride) + " does not divide " +
                                std::to_string(grid.steps) + " steps");
  StepGrid g = grid;
  g.variable = spec.variable;
  const auto run = [&](const auto& method) {
    return detail::sample_method(method, spec, g, model, y_start, settings, final_alpha);
  };
  if (!is_stochastic(spec)) return with_method(spec, g, run);
  brownian::PathCursor cursor;
  cursor.path = settings.path;
  cursor.first_sample = settings.first_sample;
  return with_stochastic_method(spec, g, cursor, run);
}

}  // namespace pfode::solver
