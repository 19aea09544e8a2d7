// Device kernels that drive any solver method over a batch of samples: the trajectory from the
// start state (global error at every grid point) and the one-step runs from exact inputs (LTE).
// One thread per sample runs the whole loop over steps with the model fused in: no per-step
// launches or host round trips.
//
// A method M provides
//   history_depth()     how many past grid points its step reads (1 for single-step methods)
//   carries_eval        whether its step already evaluates the model at the next grid point
//                       (then that evaluation is the history entry of i + 1, and observe is only
//                       called at the start and by the LTE priming)
//   observe(lane, slot, grid, j)  evaluate the model on the x held in `slot` at grid point j and
//                                 record what the method keeps from it (its history entry for j)
//   step(lane, grid, i)           advance the state slot from grid point i to i + 1
#pragma once

#include "solver/lane.hpp"
#include "solver/step_grid.hpp"

namespace pfode::solver {

// Exact solution along the grid: canonical states y*(sample, m, coord) of the reference, and the
// reference index of every grid point.
struct ExactStates {
  Kokkos::View<const double***> y;
  Kokkos::View<const int*> index;

  KOKKOS_INLINE_FUNCTION double x(const StepGrid& g, int sample, int i, int c) const {
    return g.alpha(i) * y(sample, index(i), c);
  }
};

KOKKOS_INLINE_FUNCTION double rms_difference(const Lane& lane, int slot, const ExactStates& exact,
                                             const StepGrid& g, int i) {
  double sum = 0.0;
  for (int c = 0; c < lane.dim(); ++c) {
    const double d = lane(slot, c) - exact.x(g, lane.sample, i, c);
    sum += d * d;
  }
  return math::sqrt(sum / lane.dim());
}

template <class Method>
struct TrajectoryKernel {
  Method method;
  StepGrid grid;
  Lane lane;
  ExactStates exact;
  Kokkos::View<double**> global_error;  // (sample, N + 1), RMS over coordinates
  Kokkos::View<double*> exact_final_rms;  // (sample) RMS of x*(t_N), for relative errors
  Kokkos::View<double**> final_state;     // (sample, coord) x_N
  bool final_denoise = false;  // x_N <- alpha_N D(x_N / alpha_N, s_N) after the last step (+1 NFE)

  KOKKOS_INLINE_FUNCTION void operator()(int sample) const {
    Lane l = lane;
    l.sample = sample;
    for (int c = 0; c < l.dim(); ++c) l(state_slot, c) = exact.x(grid, sample, 0, c);
    global_error(sample, 0) = 0.0;
    for (int i = 0; i < grid.steps; ++i) {
      if (i == 0 || !Method::carries_eval) method.observe(l, state_slot, grid, i);
      method.step(l, grid, i);
      global_error(sample, i + 1) = rms_difference(l, state_slot, exact, grid, i + 1);
    }
    if (final_denoise) {
      const int n = grid.steps;
      l.denoise(state_slot, grid.alpha(n), grid.s(n), scratch_slot);
      for (int c = 0; c < l.dim(); ++c) l(state_slot, c) = grid.alpha(n) * l(scratch_slot, c);
      global_error(sample, n) = rms_difference(l, state_slot, exact, grid, n);
    }
    double sum = 0.0;
    for (int c = 0; c < l.dim(); ++c) {
      const double x = exact.x(grid, sample, grid.steps, c);
      sum += x * x;
      final_state(sample, c) = l(state_slot, c);
    }
    exact_final_rms(sample) = math::sqrt(sum / l.dim());
  }
};

// LTE of step i: the state and the history the step reads are exact (model outputs evaluated on
// x*(t_i), x*(t_{i-1}), ...); stages inside the step are the method's own.
template <class Method>
struct LocalErrorKernel {
  Method method;
  StepGrid grid;
  Lane lane;
  ExactStates exact;
  Kokkos::View<double**> local_error;  // (sample, N)

  KOKKOS_INLINE_FUNCTION void operator()(int sample) const {
    Lane l = lane;
    l.sample = sample;
    for (int i = 0; i < grid.steps; ++i) {
      const int first = i - method.history_depth() + 1 > 0 ? i - method.history_depth() + 1 : 0;
      for (int j = first; j <= i; ++j) {
        const int slot = j == i ? state_slot : scratch_slot;
        for (int c = 0; c < l.dim(); ++c) l(slot, c) = exact.x(grid, sample, j, c);
        method.observe(l, slot, grid, j);
      }
      method.step(l, grid, i);
      local_error(sample, i) = rms_difference(l, state_slot, exact, grid, i + 1);
    }
  }
};

}  // namespace pfode::solver
