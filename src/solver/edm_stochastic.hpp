// EDM's stochastic sampler (Karras, Aittala, Aila & Laine, "Elucidating the Design Space of
// Diffusion-Based Generative Models", NeurIPS 2022, Algorithm 2) in canonical variables
// (EDM's sigma is s = sigma/alpha, its x is y = x/alpha). Step i:
//   gamma_i = min(S_churn / N, sqrt(2) - 1) if S_tmin <= s_i <= S_tmax, else 0,
//   s^ = (1 + gamma_i) s_i,   y^ = y_i + sqrt(s^2 - s_i^2) S_noise z     ("churn": noise back up to s^),
//   then Heun from s^ to s_{i+1} on dy/ds = (y - D)/s, Euler on the last interval (as edm-heun).
// N counts the intervals, the step to sigma = 0 of final=denoise included (EDM's num_steps,
// k-diffusion's len(sigmas) - 1). z = B_h/sqrt(h) over step i (brownian/step_noise.hpp).
// NFE 2 per step (D at s^, then at s_{i+1}), 2N - 1 in all: D(y^, s^) is never a grid point's.
// With S_churn = 0 it is edm-heun. Limit with churn: an SDE of the eta family whose noise rate
// depends on the spacing (2 gamma_i s_i^2 of variance per step); strong order 1, weak order 1 --
// the second order of Heun holds for the drift only. S_noise != 1 inflates the noise without
// changing the drift: the law then keeps an O(S_noise^2 - 1) bias (EDM's S_noise = 1.003 on
// ImageNet compensates for a network's denoising bias; pfode's default is 1).
#pragma once

#include "brownian/step_noise.hpp"
#include "solver/slots.hpp"
#include "solver/step_grid.hpp"

namespace pfode::solver {

struct EdmStochastic {
  double s_churn = 0, s_tmin = 0, s_tmax = 0, s_noise = 1;
  int intervals = 1;  // EDM's N
  brownian::PathCursor noise;

  static constexpr int denoised_slot = first_method_slot;
  static constexpr int slope_slot = first_method_slot + 1;  // d = (y^ - D(y^, s^)) / s^
  static constexpr int hat_slot = first_method_slot + 2;    // y^
  static constexpr bool carries_eval = true;                // every evaluation is inside step()
  static constexpr bool draws_noise = true;  // start() places the path cursor
  KOKKOS_INLINE_FUNCTION int history_depth() const { return 1; }
  int slots() const { return first_method_slot + 5; }

  static EdmStochastic make(double s_churn, double s_tmin, double s_tmax, double s_noise, int intervals,
                            brownian::PathCursor cursor) {
    EdmStochastic m{s_churn, s_tmin, s_tmax, s_noise, intervals, cursor};
    m.noise.w_slot = first_method_slot + 3;
    m.noise.k_slot = first_method_slot + 4;
    return m;
  }

  KOKKOS_INLINE_FUNCTION double gamma(double s) const {
    if (!(s_churn > 0) || s < s_tmin || s > s_tmax) return 0.0;
    const double g = s_churn / intervals, cap = 0.41421356237309505;  // sqrt(2) - 1
    return g < cap ? g : cap;
  }

  template <class L>
  KOKKOS_INLINE_FUNCTION void start(const L& lane, const StepGrid& g) const {
    if (s_churn > 0) noise.start(lane, -g.lambda(0));
  }

  template <class L>
  KOKKOS_INLINE_FUNCTION void observe(const L&, int, const StepGrid&, int) const {}

  template <class L>
  KOKKOS_INLINE_FUNCTION void step(const L& lane, const StepGrid& g, int i) const {
    const double s0 = g.s(i), s1 = g.s(i + 1), gam = gamma(s0), s_hat = s0 * (1.0 + gam);
    const double inv_alpha0 = 1.0 / g.alpha(i), alpha1 = g.alpha(i + 1);
    lane.for_coordinates([&](int c) { lane(hat_slot, c) = lane(state_slot, c) * inv_alpha0; });
    if (s_churn > 0) {  // the cursor moves on every step, churned or not
      const double scale = s0 * math::sqrt(gam * (2.0 + gam)) * s_noise;  // sqrt(s^2 - s_i^2) S_noise
      noise.step(lane, -g.lambda(i), -g.lambda(i + 1), [&](int c, int w, const brownian::StepIncrement& inc) {
        if (gam > 0) lane(hat_slot, c)[w] += scale * brownian::normalized_increment(inc);
      });
    }
    lane.denoise(hat_slot, 1.0, s_hat, denoised_slot);
    const double ds = s1 - s_hat, inv_s_hat = 1.0 / s_hat;
    lane.for_coordinates([&](int c) {
      lane(slope_slot, c) = (lane(hat_slot, c) - lane(denoised_slot, c)) * inv_s_hat;
      lane(scratch_slot, c) = lane(hat_slot, c) + ds * lane(slope_slot, c);
    });
    if (i == g.steps - 1) {
      lane.for_coordinates([&](int c) { lane(state_slot, c) = alpha1 * lane(scratch_slot, c); });
      return;
    }
    lane.denoise(scratch_slot, 1.0, s1, denoised_slot);
    const double inv_s1 = 1.0 / s1;
    lane.for_coordinates([&](int c) {
      const auto d1 = (lane(scratch_slot, c) - lane(denoised_slot, c)) * inv_s1;
      lane(state_slot, c) = alpha1 * (lane(hat_slot, c) + 0.5 * ds * (lane(slope_slot, c) + d1));
    });
  }
};

}  // namespace pfode::solver
