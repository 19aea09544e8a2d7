// Device kernels that drive any solver method over a batch of samples: the trajectory from the
// start state (global error at every grid point) and the one-step runs from exact inputs (LTE).
// One thread per pack of samples (lane/pack_lane.hpp) runs the whole loop over steps with the
// model fused in: no per-step launches or host round trips.
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

#include "solver/slots.hpp"
#include "solver/step_grid.hpp"

namespace pfode::solver {

// Exact solution along the grid: canonical states y*(sample, m, coord) of the reference, and the
// reference index of every grid point.
struct ExactStates {
  Kokkos::View<const double***, Kokkos::LayoutStride> y;  // reference::States
  Kokkos::View<const int*> index;
  // The reference's state at s = 0 (run.denoise_target = zero; -1: none): a final=denoise cell then
  // ends in x = D at alpha = 1 (sigma = 0) and is compared with x*(0) = y*(0).
  int zero = -1;

  KOKKOS_INLINE_FUNCTION double x(const StepGrid& g, int sample, int i, int c) const {
    return g.alpha(i) * y(sample, index(i), c);
  }
  // What the final state is compared with: x*(t_N), or x*(0).
  KOKKOS_INLINE_FUNCTION double final_x(const StepGrid& g, int sample, int c) const {
    return zero >= 0 ? y(sample, zero, c) : x(g, sample, g.steps, c);
  }
  // alpha of the state a final denoise returns: alpha_N, or 1 at sigma = 0.
  KOKKOS_INLINE_FUNCTION double final_alpha(const StepGrid& g) const { return zero >= 0 ? 1.0 : g.alpha(g.steps); }

  // Asks the CPU caches for x*(t_i) of the lane's samples a step ahead of their use. The lane's
  // states at one grid point are one block (reference/states.hpp), but the next grid point's lie
  // one or many reference times further on: a jump no hardware prefetcher foresees (with samples
  // as the leading index these misses were ~13 % of a convergence-orders sweep). Only a hint: no
  // number changes. Nothing on GPUs. Forced inline: GCC takes a separate function that only
  // prefetches for one without effects, and drops its calls.
  template <class L>
  KOKKOS_FORCEINLINE_FUNCTION void prefetch(const L& lane, int i) const {
#if !defined(__CUDA_ARCH__) && !defined(__HIP_DEVICE_COMPILE__)
    constexpr int line = 64 / sizeof(double), most_lines = 4;
    const int lines = static_cast<int>(y.extent(2) + line - 1) / line;
    for (int w = 0; w < L::width; ++w)
      for (int k = 0; k < lines && k < most_lines; ++k) __builtin_prefetch(&y(lane.sample(w), index(i), k * line));
#else
    (void)lane;
    (void)i;
#endif
  }
};

// States kept for output (run.save_states = grid): states(row, i, coord) = x_i of the samples whose
// row(sample) >= 0; empty views keep nothing.
struct StateRecord {
  Kokkos::View<double***> states;
  Kokkos::View<const int*> row;

  template <class L>
  KOKKOS_INLINE_FUNCTION void store(const L& lane, int i) const {
    if (states.extent(0) == 0) return;
    for (int w = 0; w < L::width; ++w) {
      if (!lane.holds(w)) continue;
      const int r = row(lane.sample(w));
      if (r < 0) continue;
      lane.for_coordinates([&](int c) { states(r, i, c) = lane(state_slot, c)[w]; });
    }
  }
};

// slot <- x*(t_i) for every sample of the pack.
template <class L>
KOKKOS_INLINE_FUNCTION void load_exact(const L& lane, int slot, const ExactStates& exact, const StepGrid& g, int i) {
  lane.for_coordinates([&](int c) {
    for (int w = 0; w < L::width; ++w) lane(slot, c)[w] = exact.x(g, lane.sample(w), i, c);
  });
}

// errors(sample, column) <- RMS over coordinates of x - x*(t_i) at grid point i, for every sample the
// lane holds. The squares are summed for all positions at once (a pack's sums vectorise), each
// position's in coordinate order, as a sum per sample would.
template <class L>
KOKKOS_INLINE_FUNCTION void store_rms_difference(const L& lane, const Kokkos::View<double**>& errors, int column,
                                                 const ExactStates& exact, const StepGrid& g, int i) {
  using Value = typename L::Value;
  const Value sum = lane.sum_values([&](int c) {
    Value squares;
    for (int w = 0; w < L::width; ++w) {
      const double d = lane(state_slot, c)[w] - exact.x(g, lane.sample(w), i, c);
      squares[w] = d * d;
    }
    return squares;
  });
  for (int w = 0; w < L::width; ++w) {
    if (!lane.holds(w)) continue;
    const double e = math::sqrt(sum[w] / lane.dim());
    lane.once([&] { errors(lane.sample(w), column) = e; });
  }
}

// The end of a trajectory: errors(sample, N) against the final target (ExactStates::final_x), the
// final state and the RMS of the target, for every sample the lane holds.
template <class L>
KOKKOS_INLINE_FUNCTION void store_final(const L& lane, const Kokkos::View<double**>& errors, const ExactStates& exact,
                                        const StepGrid& g, const Kokkos::View<double**>& final_state,
                                        const Kokkos::View<double*>& exact_final_rms) {
  for (int w = 0; w < L::width; ++w) {
    if (!lane.holds(w)) continue;
    const int sample = lane.sample(w);
    const double error = lane.sum_coordinates([&](int c) {
      const double d = lane(state_slot, c)[w] - exact.final_x(g, sample, c);
      return d * d;
    });
    const double norm = lane.sum_coordinates([&](int c) {
      const double x = exact.final_x(g, sample, c);
      final_state(sample, c) = lane(state_slot, c)[w];
      return x * x;
    });
    lane.once([&] {
      errors(sample, g.steps) = math::sqrt(error / lane.dim());
      exact_final_rms(sample) = math::sqrt(norm / lane.dim());
    });
  }
}

// The kernels run on a pack lane (PackLane, one thread per pack: RangePolicy over packs) or a team
// lane (TeamLane, one thread per sample with vector lanes over coordinates: TeamPolicy); `at`
// places the lane on the pack index or the team member it is called with.
template <class Method, class L>
struct TrajectoryKernel {
  Method method;
  StepGrid grid;
  L lane;
  ExactStates exact;
  Kokkos::View<double**> global_error;    // (sample, N + 1), RMS over coordinates
  Kokkos::View<double*> exact_final_rms;  // (sample) RMS of x*(t_N), for relative errors
  Kokkos::View<double**> final_state;     // (sample, coord) x_N
  // x_N <- alpha D(x_N / alpha_N, s_N) after the last step (+1 NFE), alpha = exact.final_alpha.
  bool final_denoise = false;
  StateRecord record;  // x at every grid point of the samples saved (run.save_states = grid)
  // The trace of sample 0's steps: (order, corrected) of each (empty: none).
  Kokkos::View<int* [2]> step_trace;

  KOKKOS_INLINE_FUNCTION void record_error(const L& l, int i) const {
    store_rms_difference(l, global_error, i, exact, grid, i);
    record.store(l, i);
  }
  KOKKOS_INLINE_FUNCTION void record_step(const L& l, int i) const {
    if (step_trace.extent(0) == 0 || !l.holds(0) || l.sample(0) != 0) return;
    const StepTrace what = method.trace(grid, i);
    l.once([&] {
      step_trace(i, 0) = what.order;
      step_trace(i, 1) = what.corrected ? 1 : 0;
    });
  }

  template <class Where>
  KOKKOS_INLINE_FUNCTION void operator()(const Where& where) const {
    const L l = lane.at(where);
    load_exact(l, state_slot, exact, grid, 0);
    record_error(l, 0);
    for (int i = 0; i < grid.steps; ++i) {
      exact.prefetch(l, i + 1);
      if (i == 0 || !Method::carries_eval) method.observe(l, state_slot, grid, i);
      method.step(l, grid, i);
      record_step(l, i);
      record_error(l, i + 1);
    }
    const int n = grid.steps;
    if (final_denoise) {
      const double alpha = exact.final_alpha(grid);
      l.denoise(state_slot, grid.alpha(n), grid.s(n), scratch_slot);
      l.for_coordinates([&](int c) { l(state_slot, c) = alpha * l(scratch_slot, c); });
      record.store(l, n);
    }
    store_final(l, global_error, exact, grid, final_state, exact_final_rms);
  }
};

// LTE of step i: the state and the history the step reads are exact (model outputs evaluated on
// x*(t_i), x*(t_{i-1}), ...); stages inside the step are the method's own.

// Step i from exact inputs, alone: the history the method keeps (model outputs at t_{i-q+1} .. t_i)
// is observed on exact states, load(slot, j) writing x*(t_j) into `slot`; then the method steps.
template <class Method, class L, class Load>
KOKKOS_INLINE_FUNCTION void step_from_exact_history(const Method& method, const L& l, const StepGrid& grid, int i,
                                                    const Load& load) {
  const int first = i - method.history_depth() + 1 > 0 ? i - method.history_depth() + 1 : 0;
  for (int j = first; j <= i; ++j) {
    const int slot = j == i ? state_slot : scratch_slot;
    load(slot, j);
    method.observe(l, slot, grid, j);
  }
  method.step(l, grid, i);
}

// Step i of a sweep over i = 0, 1, ... in order: the same as step_from_exact_history, but each exact
// state is evaluated once. Only x*(t_i) is observed; the entries for t_{i-1}, ... are the ones
// the earlier steps of the sweep observed on exact states, still in the method's history ring:
// a step writes no history entry the next steps read (UniPC's corrector writes the entry of
// i + 1, which step i + 1 observes again on x*(t_{i+1})). Tested bit for bit against the above.
template <class Method, class L, class Load>
KOKKOS_INLINE_FUNCTION void step_in_exact_sweep(const Method& method, const L& l, const StepGrid& grid, int i,
                                                const Load& load) {
  load(state_slot, i);
  method.observe(l, state_slot, grid, i);
  method.step(l, grid, i);
}

template <class Method, class L>
struct LocalErrorKernel {
  Method method;
  StepGrid grid;
  L lane;
  ExactStates exact;
  Kokkos::View<double**> local_error;  // (sample, N)

  template <class Where>
  KOKKOS_INLINE_FUNCTION void operator()(const Where& where) const {
    const L l = lane.at(where);
    for (int i = 0; i < grid.steps; ++i) {
      exact.prefetch(l, i + 1);
      step_in_exact_sweep(method, l, grid, i, [&](int slot, int j) { load_exact(l, slot, exact, grid, j); });
      store_rms_difference(l, local_error, i, exact, grid, i + 1);
    }
  }
};

}  // namespace pfode::solver
