// DEIS (Zhang & Chen, "Fast Sampling of Diffusion Models with Exponential Integrator", ICLR 2023),
// orders 1-3, NFE 1 per step: multistep exponential integrators on
//   y_{i+1} = y_i + int_{s_i}^{s_{i+1}} eps ds,   y = x/alpha, s = sigma/alpha,
// with eps replaced by its Lagrange interpolant through the last q grid points, in one of two bases:
//   basis = t (default): tAB-DEIS, the paper's method: polynomial in the schedule's time t, weights
//     C_ij = int_{t_i}^{t_{i+1}} l_j(tau) ds/dtau dtau. The paper approximates them by a Riemann
//     sum; here they are computed on the host to round-off (tab_weights) once per grid.
//   basis = log_rho: polynomial in lambda = -log rho (rho = s), the form diffusers implements;
//     the weights int e^{-lambda} l_j(lambda) dlambda have closed forms in phi functions
//     (coefficients.hpp: s_{i+1} h sum_m [theta^m] l_j m! phi_{m+1}(h)), summed as series for small h.
// Either step is exact for eps polynomial of degree q - 1 in its variable, on any (variable) grid.
// Warm-up with lower orders. DEIS-1 is DDIM in both bases.
#pragma once

#include "solver/coefficients.hpp"
#include "solver/dpm_solver.hpp"
#include "solver/noise_prediction.hpp"

namespace pfode::solver {

// tAB weights of every step of `grid` (steps x 3; C_ij for j < q = orders.at(i)), on the device.
Kokkos::View<const double* [3]> tab_weights(const StepGrid& grid, const OrderSchedule& orders);

struct Deis {
  OrderSchedule orders;
  SinglestepWarmup warmup;
  Ring ring{first_method_slot};  // eps at past grid points
  Kokkos::View<const double* [3]> time_weights;  // basis t: tab_weights of the grid; empty: log_rho

  static constexpr bool carries_eval = false;
  KOKKOS_INLINE_FUNCTION int history_depth() const { return orders.order; }
  int slots() const { return ring.base + Ring::size + 3; }

  template <class L>
  KOKKOS_INLINE_FUNCTION void observe(const L& lane, int slot, const StepGrid& g, int j) const {
    eps_at_grid_point(lane, slot, g, j, ring.slot(j));
  }

  KOKKOS_INLINE_FUNCTION StepTrace trace(const StepGrid& g, int i) const {
    return {warmup.applies(i, orders.order) ? orders.order : orders.at(i, g.steps), false};
  }

  template <class L>
  KOKKOS_INLINE_FUNCTION void step(const L& lane, const StepGrid& g, int i) const {
    if (warmup.applies(i, orders.order)) return warmup.step_from_eps(lane, g, i, orders.order, ring.slot(i));
    const int q = trace(g, i).order;
    if (time_weights.extent(0) > 0) {
      const double inv_alpha0 = 1.0 / g.alpha(i), alpha1 = g.alpha(i + 1);
      lane.for_coordinates([&](int c) {
        auto y = lane(state_slot, c) * inv_alpha0;
        for (int j = 0; j < q; ++j) y += time_weights(i, j) * lane(ring.slot(i - j), c);
        lane(state_slot, c) = alpha1 * y;
      });
      return;
    }
    const double h = g.lambda(i + 1) - g.lambda(i);
    double theta[4], moments[4], coeff[4];
    for (int j = 0; j < q; ++j) theta[j] = (g.lambda(i - j) - g.lambda(i)) / h;
    noise_moments(q, h, moments);
    lagrange_weights(q, theta, moments, coeff);
    const double scale = g.s(i + 1) * h, inv_alpha0 = 1.0 / g.alpha(i), alpha1 = g.alpha(i + 1);
    lane.for_coordinates([&](int c) {
      auto y = lane(state_slot, c) * inv_alpha0;
      for (int j = 0; j < q; ++j) y -= scale * coeff[j] * lane(ring.slot(i - j), c);
      lane(state_slot, c) = alpha1 * y;
    });
  }
};

}  // namespace pfode::solver
