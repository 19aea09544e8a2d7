// DPM-Solver++ (Lu, Zhou, Bao, Chen, Li & Zhu, "DPM-Solver++: Fast Solver for Guided Sampling of
// Diffusion Probabilistic Models", 2022): exponential integrators in lambda on the data-prediction
// form
//   y_{i+1} = e^{-h} y_i + int_{lambda_i}^{lambda_{i+1}} e^{-(lambda_{i+1} - lambda)} D(lambda) dlambda,
// h = lambda_{i+1} - lambda_i, y = x/alpha, with the coefficients of the official code
// ("dpmsolver" type):
//   dpm-solver++2s  singlestep, order 2, NFE 2 per step, intermediate point r1 = 1/2
//   dpm-solver++2m  multistep (Algorithm 2), order 2, NFE 1 per step, r0 = h_{i-1}/h_i
//   dpm-solver++3m  multistep, order 3 as published, NFE 1 per step, r0 = h_{i-1}/h, r1 = h_{i-2}/h
// Multistep warm-up uses the lower orders (order i + 1 at step i).
#pragma once

#include "solver/coefficients.hpp"
#include "solver/dpm_solver.hpp"
#include "solver/slots.hpp"
#include "solver/step_grid.hpp"

namespace pfode::solver {

struct DpmSolverPP2S {
  static constexpr int denoised_slot = first_method_slot;  // D_i, then the stage's D
  static constexpr bool carries_eval = false;
  KOKKOS_INLINE_FUNCTION int history_depth() const { return 1; }
  int slots() const { return denoised_slot + 2; }

  template <class L>
  KOKKOS_INLINE_FUNCTION void observe(const L& lane, int slot, const StepGrid& g, int j) const {
    lane.denoise(slot, g.alpha(j), g.s(j), denoised_slot);
  }

  KOKKOS_INLINE_FUNCTION StepTrace trace(const StepGrid&, int) const { return {2, false}; }

  template <class L>
  KOKKOS_INLINE_FUNCTION void step(const L& lane, const StepGrid& g, int i) const {
    const double r1 = 0.5, h = g.lambda(i + 1) - g.lambda(i), s_u = g.s(i) * math::exp(-r1 * h);
    const double phi_11 = math::expm1(-r1 * h), phi_1 = math::expm1(-h);
    const double decay_u = math::exp(-r1 * h), decay = math::exp(-h);
    const double inv_alpha0 = 1.0 / g.alpha(i), alpha1 = g.alpha(i + 1);
    const int m0 = denoised_slot, m1 = denoised_slot + 1;
    lane.for_coordinates([&](int c) {
      lane(scratch_slot, c) = decay_u * lane(state_slot, c) * inv_alpha0 - phi_11 * lane(m0, c);
    });
    lane.denoise(scratch_slot, 1.0, s_u, m1);
    lane.for_coordinates([&](int c) {
      const auto d0 = lane(m0, c);
      lane(state_slot, c) =
          alpha1 * (decay * lane(state_slot, c) * inv_alpha0 - phi_1 * d0 - 0.5 / r1 * phi_1 * (lane(m1, c) - d0));
    });
  }
};

struct DpmSolverPPMultistep {
  OrderSchedule orders;
  bool taylor_d2 = false;  // coefficients=taylor: the exact integrals h phi_2, 2 h phi_3 of the interpolant
  SinglestepWarmup warmup;
  Ring ring{first_method_slot};  // D at past grid points

  static constexpr bool carries_eval = false;
  KOKKOS_INLINE_FUNCTION int history_depth() const { return orders.order; }
  int slots() const { return ring.base + Ring::size + 3; }

  template <class L>
  KOKKOS_INLINE_FUNCTION void observe(const L& lane, int slot, const StepGrid& g, int j) const {
    lane.denoise(slot, g.alpha(j), g.s(j), ring.slot(j));
  }

  // A Runge-Kutta warm-up step has the method's order; the multistep formula its scheduled one.
  KOKKOS_INLINE_FUNCTION StepTrace trace(const StepGrid& g, int i) const {
    return {warmup.applies(i, orders.order) ? orders.order : orders.at(i, g.steps), false};
  }

  template <class L>
  KOKKOS_INLINE_FUNCTION void step(const L& lane, const StepGrid& g, int i) const {
    if (warmup.applies(i, orders.order)) return warmup.step_from_denoised(lane, g, i, orders.order, ring.slot(i));
    const int q = trace(g, i).order;
    const double h = g.lambda(i + 1) - g.lambda(i), decay = math::exp(-h);
    const double phi_1 = math::expm1(-h);
    const double inv_alpha0 = 1.0 / g.alpha(i), alpha1 = g.alpha(i + 1);
    const int s0 = ring.slot(i);
    if (q == 1) {
      lane.for_coordinates([&](int c) {
        lane(state_slot, c) = alpha1 * (decay * lane(state_slot, c) * inv_alpha0 - phi_1 * lane(s0, c));
      });
      return;
    }
    const int s1 = ring.slot(i - 1);
    const double r0 = (g.lambda(i) - g.lambda(i - 1)) / h;
    if (q == 2) {
      // Official weight -phi_1/2 = h/2 + O(h^2); the Taylor integral's is h phi_2(-h) = h/2 - h^2/6 + ...
      const double w1 = taylor_d2 ? h * phi(2, -h) : -0.5 * phi_1;
      lane.for_coordinates([&](int c) {
        const auto m0 = lane(s0, c), d1_0 = (m0 - lane(s1, c)) / r0;
        lane(state_slot, c) = alpha1 * (decay * lane(state_slot, c) * inv_alpha0 - phi_1 * m0 + w1 * d1_0);
      });
      return;
    }
    const int s2 = ring.slot(i - 2);
    const double r1 = (g.lambda(i - 1) - g.lambda(i - 2)) / h;
    // The official phi_2 = phi_1/h + 1 and phi_3 = phi_2/h - 1/2, without their cancellation.
    // With d2 = (h^2/2) D'' the Taylor integral needs 2 phi_3: the official weight phi_3 leaves
    // a local error (h^3/12) D'' and makes the method second order (measured; see README).
    const double phi_2 = h * phi(2, -h), phi_3 = (taylor_d2 ? -2.0 : -1.0) * h * phi(3, -h);
    lane.for_coordinates([&](int c) {
      const auto m0 = lane(s0, c), m1 = lane(s1, c), m2 = lane(s2, c);
      const auto d1_0 = (m0 - m1) / r0, d1_1 = (m1 - m2) / r1;
      const auto d1 = d1_0 + r0 / (r0 + r1) * (d1_0 - d1_1), d2 = (d1_0 - d1_1) / (r0 + r1);
      lane(state_slot, c) = alpha1 * (decay * lane(state_slot, c) * inv_alpha0 - phi_1 * m0 + phi_2 * d1 - phi_3 * d2);
    });
  }
};

}  // namespace pfode::solver
