// Pseudo linear multistep methods on the noise-prediction form: eps is combined with fixed
// (equal-step) Adams-Bashforth coefficients and applied through the DDIM "transfer"
// y_{i+1} = y_i + (s_{i+1} - s_i) eps', y = x/alpha, s = sigma/alpha. NFE 1 per step after warm-up.
//   pndm   F-PNDM (Liu, Ren, Lin & Zhao, "Pseudo Numerical Methods for Diffusion Models on
//          Manifolds", ICLR 2022): PLMS, eps' = (55 e_i - 59 e_{i-1} + 37 e_{i-2} - 9 e_{i-3})/24,
//          after three pseudo-RK4 warm-up steps (4 NFE each, stages at the midpoint in t).
//   ipndm  improved PNDM (Zhang & Chen, ICLR 2023): the same combination, warmed up with the
//          lower-order fixed-step AB combinations (1 NFE per step).
// Order: the fixed coefficients extrapolate eps as if the grid were uniform in s. On a grid that
// is not (e.g. uniform in lambda) the step integrates eps against the step's index instead of
// ds, which leaves an O(h^3) local error (h^3 eps' s''/12 per step): order 2 in general, order 4
// only on grids uniform in s. The registry states 2; the tests measure it.
#pragma once

#include "solver/coefficients.hpp"
#include "solver/noise_prediction.hpp"

namespace pfode::solver {

struct Pndm {
  OrderSchedule orders;  // order 4; used by ipndm's warm-up and lower_order_final
  bool rk_warmup = true;  // true: F-PNDM, false: iPNDM
  Ring ring{first_method_slot};  // eps at past grid points
  static constexpr int warmup_steps = 3;

  static constexpr bool carries_eval = false;
  KOKKOS_INLINE_FUNCTION int history_depth() const { return 4; }
  int slots() const { return ring.base + Ring::size + 3; }

  template <class L>
  KOKKOS_INLINE_FUNCTION void observe(const L& lane, int slot, const StepGrid& g, int j) const {
    eps_at_grid_point(lane, slot, g, j, ring.slot(j));
  }

  // F-PNDM's warm-up steps are pseudo-RK4 (order 4 in s); then the PLMS combination of order q.
  KOKKOS_INLINE_FUNCTION bool warming_up(int i) const { return rk_warmup && i < warmup_steps; }
  KOKKOS_INLINE_FUNCTION StepTrace trace(const StepGrid& g, int i) const {
    return {warming_up(i) ? 4 : orders.at(i, g.steps), false};
  }

  template <class L>
  KOKKOS_INLINE_FUNCTION void step(const L& lane, const StepGrid& g, int i) const {
    const double s0 = g.s(i), s1 = g.s(i + 1), inv_alpha0 = 1.0 / g.alpha(i), alpha1 = g.alpha(i + 1);
    const int e0 = ring.slot(i);
    if (warming_up(i)) {
      // Pseudo-RK4: classical RK4's stage weights on eps, every stage a DDIM transfer from y_i.
      const int e2 = ring.base + Ring::size, e3 = e2 + 1, e4 = e2 + 2;
      const double s_mid = g.schedule.s(0.5 * (g.t(i) + g.t(i + 1)));
      lane.for_coordinates([&](int c) {
        lane(scratch_slot, c) = lane(state_slot, c) * inv_alpha0 + (s_mid - s0) * lane(e0, c);
      });
      eps_of_y(lane, scratch_slot, s_mid, e2);
      lane.for_coordinates([&](int c) {
        lane(scratch_slot, c) = lane(state_slot, c) * inv_alpha0 + (s_mid - s0) * lane(e2, c);
      });
      eps_of_y(lane, scratch_slot, s_mid, e3);
      lane.for_coordinates([&](int c) {
        lane(scratch_slot, c) = lane(state_slot, c) * inv_alpha0 + (s1 - s0) * lane(e3, c);
      });
      eps_of_y(lane, scratch_slot, s1, e4);
      lane.for_coordinates([&](int c) {
        const auto e = (lane(e0, c) + 2.0 * lane(e2, c) + 2.0 * lane(e3, c) + lane(e4, c)) / 6.0;
        lane(state_slot, c) = alpha1 * (lane(state_slot, c) * inv_alpha0 + (s1 - s0) * e);
      });
      return;
    }
    // Fixed-step Adams-Bashforth weights of orders 1-4, newest first.
    const double w[4][4] = {{1.0, 0, 0, 0},
                            {1.5, -0.5, 0, 0},
                            {23.0 / 12, -16.0 / 12, 5.0 / 12, 0},
                            {55.0 / 24, -59.0 / 24, 37.0 / 24, -9.0 / 24}};
    const int q = trace(g, i).order;  // 4 after F-PNDM's three warm-up steps
    lane.for_coordinates([&](int c) {
      typename L::Value e = 0.0;
      for (int j = 0; j < q; ++j) e += w[q - 1][j] * lane(ring.slot(i - j), c);
      lane(state_slot, c) = alpha1 * (lane(state_slot, c) * inv_alpha0 + (s1 - s0) * e);
    });
  }
};

}  // namespace pfode::solver
