// Variable-step Adams-Bashforth methods of order 2-4 (Bashforth & Adams 1883), integrating the
// PF-ODE dz/dtau = a z + b D in a chosen variable (StepGrid::Variable) like the Runge-Kutta
// methods. Order p, NFE 1 per step after warm-up.
//
// The history holds the derivatives f_j = a z_j + b D_j at the last p grid points; the step
// integrates their Lagrange interpolant over [tau_i, tau_{i+1}] exactly, so the coefficients
// are right for any (variable) step sizes. The first p - 1 steps lack history; warm-up either
// uses the lower-order AB methods (default, 1 NFE per step) or a Runge-Kutta step of order p
// (midpoint, rk3, rk4: p NFE per step), which keeps the starting error O(h^{p+1}).
#pragma once

#include "solver/coefficients.hpp"
#include "solver/explicit_rk.hpp"

namespace pfode::solver {

struct AdamsBashforth {
  OrderSchedule orders;  // orders.order = p
  bool rk_warmup = false;
  ExplicitRK warmup_rk;  // its stage slots follow the ring
  Ring ring{first_method_slot};

  static constexpr bool carries_eval = false;
  KOKKOS_INLINE_FUNCTION int history_depth() const { return orders.order; }
  int slots() const { return rk_warmup ? warmup_rk.slots() : ring.base + Ring::size; }

  static AdamsBashforth make(int order, int lower_order_final_below, bool rk_warmup) {
    AdamsBashforth m;
    m.orders = {order, lower_order_final_below};
    m.rk_warmup = rk_warmup;
    m.warmup_rk.tableau = order == 2 ? midpoint_tableau() : order == 3 ? rk3_tableau() : rk4_tableau();
    m.warmup_rk.stage_slot = m.ring.base + Ring::size;
    return m;
  }

  template <class L>
  KOKKOS_INLINE_FUNCTION void observe(const L& lane, int slot, const StepGrid& g, int j) const {
    const FieldPoint p = g.field(g.tau(j));
    const int f = ring.slot(j);
    lane.denoise(slot, g.alpha(j), g.s(j), f);
    const double zx = g.z_per_x(j);
    lane.for_coordinates([&](int c) { lane(f, c) = p.a * zx * lane(slot, c) + p.b * lane(f, c); });
  }

  KOKKOS_INLINE_FUNCTION bool warming_up(int i) const { return rk_warmup && i < orders.order - 1; }
  KOKKOS_INLINE_FUNCTION StepTrace trace(const StepGrid& g, int i) const {
    return {warming_up(i) ? orders.order : orders.at(i, g.steps), false};
  }

  template <class L>
  KOKKOS_INLINE_FUNCTION void step(const L& lane, const StepGrid& g, int i) const {
    if (warming_up(i)) {
      lane.for_coordinates([&](int c) { lane(warmup_rk.stage_slot, c) = lane(ring.slot(i), c); });
      warmup_rk.step(lane, g, i);
      return;
    }
    const int q = trace(g, i).order;
    const double tau0 = g.tau(i), h = g.tau(i + 1) - tau0;
    double theta[4], moments[4], coeff[4];
    for (int j = 0; j < q; ++j) {
      theta[j] = (g.tau(i - j) - tau0) / h;
      moments[j] = 1.0 / (j + 1);
    }
    lagrange_weights(q, theta, moments, coeff);
    const double zx0 = g.z_per_x(i), xz1 = 1.0 / g.z_per_x(i + 1);
    lane.for_coordinates([&](int c) {
      auto z = zx0 * lane(state_slot, c);
      for (int j = 0; j < q; ++j) z += h * coeff[j] * lane(ring.slot(i - j), c);
      lane(state_slot, c) = z * xz1;
    });
  }
};

}  // namespace pfode::solver
