// DDIM (Song, Meng & Ermon, "Denoising Diffusion Implicit Models", ICLR 2021), deterministic
// (eta = 0). Order 1, NFE 1 per step. In canonical variables it is exactly Euler in s:
//   y_{i+1} = y_i + (s_{i+1}/s_i - 1)(y_i - D_i) = y_i + expm1(-h)(y_i - D_i),  h = lambda_{i+1} - lambda_i,
// the first-order exponential integrator (= DPM-Solver-1, DPM-Solver++(1), DEIS-1, UniP-1).
#pragma once

#include "solver/slots.hpp"
#include "solver/step_grid.hpp"

namespace pfode::solver {

struct Ddim {
  static constexpr bool carries_eval = false;
  KOKKOS_INLINE_FUNCTION int history_depth() const { return 1; }
  static constexpr int denoised_slot = first_method_slot;
  int slots() const { return first_method_slot + 1; }

  template <class L>
  KOKKOS_INLINE_FUNCTION void observe(const L& lane, int slot, const StepGrid& g, int j) const {
    lane.denoise(slot, g.alpha(j), g.s(j), denoised_slot);
  }

  KOKKOS_INLINE_FUNCTION StepTrace trace(const StepGrid&, int) const { return {1, false}; }

  template <class L>
  KOKKOS_INLINE_FUNCTION void step(const L& lane, const StepGrid& g, int i) const {
    const double factor = math::expm1(g.lambda(i) - g.lambda(i + 1));
    const double inv_alpha0 = 1.0 / g.alpha(i), alpha1 = g.alpha(i + 1);
    lane.for_coordinates([&](int c) {
      const auto y = lane(state_slot, c) * inv_alpha0;
      lane(state_slot, c) = alpha1 * (y + factor * (y - lane(denoised_slot, c)));
    });
  }
};

}  // namespace pfode::solver
