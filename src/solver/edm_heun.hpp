// EDM's deterministic sampler (Karras, Aittala, Aila & Laine, "Elucidating the Design Space of
// Diffusion-Based Generative Models", NeurIPS 2022, Algorithm 1): Heun's method in s = sigma/alpha
// on dy/ds = (y - D)/s, with a plain Euler step on the last interval (EDM's last step goes to
// sigma = 0, where the correction cannot be evaluated; the convention is kept here, where it
// saves one NFE). Order 2, NFE 2 per step, 2N - 1 in all.
#pragma once

#include "solver/noise_prediction.hpp"

namespace pfode::solver {

struct EdmHeun {
  static constexpr int slope_slot = first_method_slot;      // d_i = (y_i - D_i) / s_i
  static constexpr int denoised_slot = first_method_slot + 1;

  static constexpr bool carries_eval = false;
  KOKKOS_INLINE_FUNCTION int history_depth() const { return 1; }
  int slots() const { return first_method_slot + 2; }

  template <class L>
  KOKKOS_INLINE_FUNCTION void observe(const L& lane, int slot, const StepGrid& g, int j) const {
    eps_at_grid_point(lane, slot, g, j, slope_slot);
  }

  // Heun, and Euler on the last interval.
  KOKKOS_INLINE_FUNCTION StepTrace trace(const StepGrid& g, int i) const { return {i == g.steps - 1 ? 1 : 2, false}; }

  template <class L>
  KOKKOS_INLINE_FUNCTION void step(const L& lane, const StepGrid& g, int i) const {
    const double s0 = g.s(i), s1 = g.s(i + 1), ds = s1 - s0;
    const double inv_alpha0 = 1.0 / g.alpha(i), alpha1 = g.alpha(i + 1);
    // Euler predictor y' = y_i + (s_{i+1} - s_i) d_i, kept in y units in the scratch slot.
    lane.for_coordinates([&](int c) {
      lane(scratch_slot, c) = lane(state_slot, c) * inv_alpha0 + ds * lane(slope_slot, c);
    });
    if (i == g.steps - 1) {
      lane.for_coordinates([&](int c) { lane(state_slot, c) = alpha1 * lane(scratch_slot, c); });
      return;
    }
    lane.denoise(scratch_slot, 1.0, s1, denoised_slot);
    const double inv_s1 = 1.0 / s1;
    lane.for_coordinates([&](int c) {
      const auto d1 = (lane(scratch_slot, c) - lane(denoised_slot, c)) * inv_s1;
      lane(state_slot, c) = alpha1 * (lane(state_slot, c) * inv_alpha0 + 0.5 * ds * (lane(slope_slot, c) + d1));
    });
  }
};

}  // namespace pfode::solver
