// DPM-Solver (Lu, Zhou, Bao, Chen, Li & Zhu, "DPM-Solver: A Fast ODE Solver for Diffusion
// Probabilistic Model Sampling in Around 10 Steps", NeurIPS 2022): singlestep exponential
// integrators in lambda on the noise-prediction form
//   y_{i+1} = y_i - int_{lambda_i}^{lambda_{i+1}} e^{-lambda} eps(lambda) dlambda,   y = x/alpha,
// with the "dpmsolver" coefficients of the official code (Algorithms 1 and 2 of the paper).
//   dpm-solver-1     order 1, NFE 1 per step (= DDIM)
//   dpm-solver-2     order 2, NFE 2 per step, intermediate point r1 = 1/2
//   dpm-solver-3     order 3, NFE 3 per step, r1 = 1/3, r2 = 2/3
//   dpm-solver-fast  order 3, exactly the NFE budget: K = NFE//3 + 1 steps (uniform in the
//                    grid's spacing) with orders [3]*(K-2)+[2,1] if NFE%3 == 0, [3]*(K-1)+[1]
//                    if NFE%3 == 1, [3]*(K-1)+[2] if NFE%3 == 2 (the paper's Section 3.4).
// stages=spacing (StepGrid::stage_r): the stages sit where the grid's spacing puts them, as the
// official code does for its time_uniform and time_quadratic skip types (r1 = 0.11-0.55 of a step
// in lambda on vp-linear's uniform-t); the orders stay 2 and 3, as r -> 1/2 (1/3, 2/3) with h.
#pragma once

#include "solver/coefficients.hpp"
#include "solver/noise_prediction.hpp"

namespace pfode::solver {

// Order of step i of DPM-Solver-fast with `steps` outer steps spending `nfe` evaluations.
KOKKOS_INLINE_FUNCTION int dpm_solver_fast_order(int i, int steps, int nfe) {
  switch (nfe % 3) {
    case 0: return i < steps - 2 ? 3 : i == steps - 2 ? 2 : 1;
    case 1: return i < steps - 1 ? 3 : 1;
    default: return i < steps - 1 ? 3 : 2;
  }
}

struct DpmSolver {
  int order = 1;
  int fast_nfe = 0;  // > 0: DPM-Solver-fast spending exactly this many evaluations

  int eps_slot = first_method_slot;  // eps at the step's start, then its two stages
  static constexpr bool carries_eval = false;
  KOKKOS_INLINE_FUNCTION int history_depth() const { return 1; }
  int slots() const { return eps_slot + 3; }

  KOKKOS_INLINE_FUNCTION int order_at(int i, int steps) const {
    return fast_nfe > 0 ? dpm_solver_fast_order(i, steps, fast_nfe) : order;
  }

  template <class L>
  KOKKOS_INLINE_FUNCTION void observe(const L& lane, int slot, const StepGrid& g, int j) const {
    eps_at_grid_point(lane, slot, g, j, eps_slot);
  }

  KOKKOS_INLINE_FUNCTION StepTrace trace(const StepGrid& g, int i) const { return {order_at(i, g.steps), false}; }

  template <class L>
  KOKKOS_INLINE_FUNCTION void step(const L& lane, const StepGrid& g, int i) const {
    const int k = trace(g, i).order;
    const double h = g.lambda(i + 1) - g.lambda(i), s0 = g.s(i), s1 = g.s(i + 1);
    const double inv_alpha0 = 1.0 / g.alpha(i), alpha1 = g.alpha(i + 1);
    const int e0 = eps_slot, e1 = eps_slot + 1, e2 = eps_slot + 2;
    const double phi_1 = math::expm1(h);  // e^h - 1
    if (k == 1) {
      lane.for_coordinates([&](int c) {
        lane(state_slot, c) = alpha1 * (lane(state_slot, c) * inv_alpha0 - s1 * phi_1 * lane(e0, c));
      });
      return;
    }
    // Stage fractions of the step in lambda: fixed, or where the grid's spacing puts them.
    const bool placed = g.stage_r.extent(0) > 0;
    if (k == 2) {
      const double r1 = placed ? g.stage_r(i, 0) : 0.5, s_u = s0 * math::exp(-r1 * h), phi_11 = math::expm1(r1 * h);
      lane.for_coordinates([&](int c) {
        lane(scratch_slot, c) = lane(state_slot, c) * inv_alpha0 - s_u * phi_11 * lane(e0, c);
      });
      eps_of_y(lane, scratch_slot, s_u, e1);
      lane.for_coordinates([&](int c) {
        const auto e = lane(e0, c), d = lane(e1, c) - e;
        lane(state_slot, c) = alpha1 * (lane(state_slot, c) * inv_alpha0 - s1 * (phi_1 * e + 0.5 / r1 * phi_1 * d));
      });
      return;
    }
    const double r1 = placed ? g.stage_r(i, 0) : 1.0 / 3.0, r2 = placed ? g.stage_r(i, 1) : 2.0 / 3.0;
    const double s_u1 = s0 * math::exp(-r1 * h), s_u2 = s0 * math::exp(-r2 * h);
    const double phi_11 = math::expm1(r1 * h), phi_12 = math::expm1(r2 * h);
    const double phi_22 = r2 * h * phi(2, r2 * h);  // expm1(r2 h)/(r2 h) - 1, without cancellation
    const double phi_2 = h * phi(2, h);              // expm1(h)/h - 1
    lane.for_coordinates([&](int c) {
      lane(scratch_slot, c) = lane(state_slot, c) * inv_alpha0 - s_u1 * phi_11 * lane(e0, c);
    });
    eps_of_y(lane, scratch_slot, s_u1, e1);
    lane.for_coordinates([&](int c) {
      const auto e = lane(e0, c);
      lane(scratch_slot, c) =
          lane(state_slot, c) * inv_alpha0 - s_u2 * (phi_12 * e + r2 / r1 * phi_22 * (lane(e1, c) - e));
    });
    eps_of_y(lane, scratch_slot, s_u2, e2);
    lane.for_coordinates([&](int c) {
      const auto e = lane(e0, c);
      lane(state_slot, c) =
          alpha1 * (lane(state_slot, c) * inv_alpha0 - s1 * (phi_1 * e + phi_2 / r2 * (lane(e2, c) - e)));
    });
  }
};

// Runge-Kutta warm-up of the exponential multistep methods: their first order - 1 steps as
// singlestep DPM-Solver steps of the same order (order NFE each), so the starting error is
// O(h^{p+1}) instead of the O(h^2) of a first DDIM step. Needs eps_i in warm.eps_slot.
struct SinglestepWarmup {
  bool enabled = false;
  DpmSolver warm;

  KOKKOS_INLINE_FUNCTION bool applies(int i, int order) const { return enabled && i < order - 1; }

  // eps_i from D_i held in `denoised` (data-prediction history), then one DPM-Solver step.
  template <class L>
  KOKKOS_INLINE_FUNCTION void step_from_denoised(const L& lane, const StepGrid& g, int i, int order, int denoised) const {
    const double inv_alpha = 1.0 / g.alpha(i), inv_s = 1.0 / g.s(i);
    lane.for_coordinates([&](int c) {
      lane(warm.eps_slot, c) = (lane(state_slot, c) * inv_alpha - lane(denoised, c)) * inv_s;
    });
    DpmSolver m = warm;
    m.order = order;
    m.step(lane, g, i);
  }
  template <class L>
  KOKKOS_INLINE_FUNCTION void step_from_eps(const L& lane, const StepGrid& g, int i, int order, int eps) const {
    lane.for_coordinates([&](int c) { lane(warm.eps_slot, c) = lane(eps, c); });
    DpmSolver m = warm;
    m.order = order;
    m.step(lane, g, i);
  }
};

}  // namespace pfode::solver
