// UniPC (Zhao, Bai, Rao, Zhou & Lu, "UniPC: A Unified Predictor-Corrector Framework for Fast
// Sampling of Diffusion Models", NeurIPS 2023): the multistep predictor UniP-p and the corrector
// UniC-p, data-prediction form in lambda as in the official code (multistep_uni_pc_bh_update),
// with B(h) = h ("bh1") or e^h - 1 ("bh2"). NFE 1 per step: the corrector's evaluation at the
// predicted state x~_{i+1} is reused as the next step's model output D_{i+1}, and the last step
// is not corrected (it would cost an evaluation nobody reuses), as in the official sampler.
//   unipc-p            UniP-p + UniC-p: order p + 1 (UniC raises the order by one)
//   unipc-p[corrector=off]  UniP-p alone: order p; unipc-1[corrector=off] is DDIM
// Warm-up with lower orders (order i + 1 at step i). The official code's special cases are kept:
// UniP-2 uses rho = 1/2 instead of solving its 1x1 system, UniC-1 uses rho = 1/2.
#pragma once

#include "solver/coefficients.hpp"
#include "solver/dpm_solver.hpp"
#include "solver/slots.hpp"
#include "solver/step_grid.hpp"

namespace pfode::solver {

enum class UnipcVariant { bh1, bh2 };

template <bool UseCorrector>
struct Unipc {
  OrderSchedule orders;
  UnipcVariant variant = UnipcVariant::bh1;
  SinglestepWarmup warmup;
  Ring ring{first_method_slot};  // D at past grid points (at predicted states when corrected)
  static constexpr int base_slot = first_method_slot + Ring::size;  // the DDIM part of the update

  static constexpr bool carries_eval = UseCorrector;
  KOKKOS_INLINE_FUNCTION int history_depth() const { return orders.order; }
  int slots() const { return base_slot + 4; }

  template <class L>
  KOKKOS_INLINE_FUNCTION void observe(const L& lane, int slot, const StepGrid& g, int j) const {
    lane.denoise(slot, g.alpha(j), g.s(j), ring.slot(j));
  }

  // UniP's order, and whether UniC corrects the result: every step but the last and the
  // Runge-Kutta warm-up steps.
  KOKKOS_INLINE_FUNCTION StepTrace trace(const StepGrid& g, int i) const {
    if (warmup.applies(i, orders.order)) return {orders.order, false};
    return {orders.at(i, g.steps), UseCorrector && i < g.steps - 1};
  }

  template <class L>
  KOKKOS_INLINE_FUNCTION void step(const L& lane, const StepGrid& g, int i) const {
    if (warmup.applies(i, orders.order)) {
      warmup.step_from_denoised(lane, g, i, orders.order, ring.slot(i));
      // The history entry of i + 1 is what the next step reads (observe is not called then).
      if (UseCorrector && i < g.steps - 1) lane.denoise(state_slot, g.alpha(i + 1), g.s(i + 1), ring.slot(i + 1));
      return;
    }
    const StepTrace what = trace(g, i);
    const int q = what.order;
    const bool correct = what.corrected;
    const double h = g.lambda(i + 1) - g.lambda(i), hh = -h;
    const double b_h = variant == UnipcVariant::bh1 ? hh : math::expm1(hh);
    // rks (nodes relative to the current point, in units of h) and the order conditions
    // R rho = b, R[k][m] = rks[m]^k, b[k] = (k+1)! hh phi_{k+2}(hh) / B(h).
    double rks[4], rhs[4], a[4][4], rho_p[4] = {}, rho_c[4] = {};
    for (int k = 1; k < q; ++k) rks[k - 1] = (g.lambda(i - k) - g.lambda(i)) / h;
    rks[q - 1] = 1.0;
    double fact = 1.0;
    for (int k = 0; k < q; ++k) {
      fact *= (k + 1);
      rhs[k] = fact * hh * phi(k + 2, hh) / b_h;
    }
    auto fill = [&](int n) {
      for (int r = 0; r < n; ++r)
        for (int m = 0; m < n; ++m) a[r][m] = r == 0 ? 1.0 : a[r - 1][m] * rks[m];
    };
    if (q == 2) rho_p[0] = 0.5;
    if (q >= 3) {
      double b[4] = {rhs[0], rhs[1], rhs[2], rhs[3]};
      fill(q - 1);
      solve_small(q - 1, a, b, rho_p);
    }
    if (correct) {
      if (q == 1) {
        rho_c[0] = 0.5;
      } else {
        double b[4] = {rhs[0], rhs[1], rhs[2], rhs[3]};
        fill(q);
        solve_small(q, a, b, rho_c);
      }
    }
    const double decay = math::exp(-h), phi_1 = math::expm1(-h);
    const double inv_alpha0 = 1.0 / g.alpha(i), alpha1 = g.alpha(i + 1);
    const int m0 = ring.slot(i);
    // y~ = e^{-h} y_i - (e^{-h} - 1) D_i - B(h) sum_k rho_p[k] (D_{i-k-1} - D_i) / rks[k]
    lane.for_coordinates([&](int c) {
      const auto d0 = lane(m0, c);
      const auto base = decay * lane(state_slot, c) * inv_alpha0 - phi_1 * d0;
      typename L::Value pred = 0.0;
      for (int k = 1; k < q; ++k) pred += rho_p[k - 1] * (lane(ring.slot(i - k), c) - d0) / rks[k - 1];
      lane(base_slot, c) = base;
      lane(scratch_slot, c) = base - b_h * pred;
    });
    if (!correct) {
      lane.for_coordinates([&](int c) { lane(state_slot, c) = alpha1 * lane(scratch_slot, c); });
      return;
    }
    const int m1 = ring.slot(i + 1);
    lane.denoise(scratch_slot, 1.0, g.s(i + 1), m1);
    lane.for_coordinates([&](int c) {
      const auto d0 = lane(m0, c);
      auto corr = rho_c[q - 1] * (lane(m1, c) - d0);
      for (int k = 1; k < q; ++k) corr += rho_c[k - 1] * (lane(ring.slot(i - k), c) - d0) / rks[k - 1];
      lane(state_slot, c) = alpha1 * (lane(base_slot, c) - b_h * corr);
    });
  }
};

}  // namespace pfode::solver
