// DEIS, the time-Adams-Bashforth exponential integrator tAB-DEIS (Zhang & Chen, "Fast Sampling of
// Diffusion Models with Exponential Integrator", ICLR 2023), orders 1-3, NFE 1 per step.
//
// Formulation: the noise-prediction form in lambda,
//   y_{i+1} = y_i - int_{lambda_i}^{lambda_{i+1}} e^{-lambda} eps(lambda) dlambda,   y = x/alpha,
// with eps replaced by its Lagrange interpolant in lambda through the last q grid points. This is
// the widely used "log-rho" implementation (rho = s = sigma/alpha, polynomial in log rho =
// -lambda); the weights int e^{-lambda} l_j(lambda) dlambda have closed forms in phi functions
// (coefficients.hpp: s_{i+1} h sum_m [theta^m] l_j m! phi_{m+1}(h)), summed as series for small h,
// so the step is exact for eps polynomial in lambda of degree q - 1 on any (variable) grid.
// Warm-up with lower orders. DEIS-1 is DDIM.
#pragma once

#include "solver/coefficients.hpp"
#include "solver/dpm_solver.hpp"
#include "solver/noise_prediction.hpp"

namespace pfode::solver {

struct Deis {
  OrderSchedule orders;
  SinglestepWarmup warmup;
  Ring ring{first_method_slot};  // eps at past grid points

  static constexpr bool carries_eval = false;
  KOKKOS_INLINE_FUNCTION int history_depth() const { return orders.order; }
  int slots() const { return ring.base + Ring::size + 3; }

  template <class L>
  KOKKOS_INLINE_FUNCTION void observe(const L& lane, int slot, const StepGrid& g, int j) const {
    eps_at_grid_point(lane, slot, g, j, ring.slot(j));
  }

  template <class L>
  KOKKOS_INLINE_FUNCTION void step(const L& lane, const StepGrid& g, int i) const {
    if (warmup.applies(i, orders.order)) return warmup.step_from_eps(lane, g, i, orders.order, ring.slot(i));
    const int q = orders.at(i, g.steps);
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
