// Classical explicit Runge-Kutta methods, given as Butcher tableaus, integrating the PF-ODE in a
// chosen variable (StepGrid::Variable). Order p, p stages (NFE = stages per step).
//   euler     order 1   Euler (1768)
//   midpoint  order 2   explicit midpoint rule (Runge 1895)
//   heun      order 2   Heun's method / explicit trapezoid (Heun 1900)
//   rk3       order 3   Kutta's third-order method (Kutta 1901)
//   rk4       order 4   the classical Runge-Kutta method (Kutta 1901)
#pragma once

#include "solver/slots.hpp"
#include "solver/step_grid.hpp"

namespace pfode::solver {

struct Tableau {
  static constexpr int max_stages = 4;
  int stages = 1;
  int order = 1;
  double a[max_stages][max_stages] = {};
  double b[max_stages] = {};
  double c[max_stages] = {};
};

Tableau euler_tableau();
Tableau midpoint_tableau();
Tableau heun_tableau();
Tableau rk3_tableau();
Tableau rk4_tableau();

struct ExplicitRK {
  Tableau tableau;

  int stage_slot = first_method_slot;  // stage derivatives K_0 .. K_{s-1}

  static constexpr bool carries_eval = false;
  KOKKOS_INLINE_FUNCTION int history_depth() const { return 1; }
  int slots() const { return stage_slot + tableau.stages; }

  // K_0 <- f(tau_j, z_j) for the x stored in `slot` at grid point j.
  template <class L>
  KOKKOS_INLINE_FUNCTION void observe(const L& lane, int slot, const StepGrid& g, int j) const {
    const FieldPoint p = g.field(g.tau(j));
    lane.denoise(slot, g.alpha(j), g.s(j), stage_slot);
    const double zx = g.z_per_x(j);
    lane.for_coordinates([&](int c) { lane(stage_slot, c) = p.a * zx * lane(slot, c) + p.b * lane(stage_slot, c); });
  }

  KOKKOS_INLINE_FUNCTION StepTrace trace(const StepGrid&, int) const { return {tableau.order, false}; }

  // Needs K_0 of grid point i in stage_slot (observe).
  template <class L>
  KOKKOS_INLINE_FUNCTION void step(const L& lane, const StepGrid& g, int i) const {
    const double tau0 = g.tau(i), h = g.tau(i + 1) - tau0;
    const double zx0 = g.z_per_x(i), xz1 = 1.0 / g.z_per_x(i + 1);
    for (int k = 1; k < tableau.stages; ++k) {
      // The last stage of methods with c = 1 lands on the grid point itself, exactly.
      const FieldPoint p = g.field(tableau.c[k] == 1.0 ? g.tau(i + 1) : tau0 + tableau.c[k] * h);
      lane.for_coordinates([&](int c) {
        auto z = zx0 * lane(state_slot, c);
        for (int m = 0; m < k; ++m) z += h * tableau.a[k][m] * lane(stage_slot + m, c);
        lane(scratch_slot, c) = z;
      });
      lane.denoise(scratch_slot, p.scale, p.s, stage_slot + k);
      lane.for_coordinates([&](int c) {
        lane(stage_slot + k, c) = p.a * lane(scratch_slot, c) + p.b * lane(stage_slot + k, c);
      });
    }
    lane.for_coordinates([&](int c) {
      auto z = zx0 * lane(state_slot, c);
      for (int k = 0; k < tableau.stages; ++k) z += h * tableau.b[k] * lane(stage_slot + k, c);
      lane(state_slot, c) = z * xz1;
    });
  }
};

}  // namespace pfode::solver
