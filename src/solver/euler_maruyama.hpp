// Euler-Maruyama on the reverse-time SDE (Song et al., "Score-Based Generative Modeling through
// Stochastic Differential Equations", ICLR 2021; Maruyama 1955) in the schedule's own time t, for
// any schedule (VP, VE, EDM, ...): with the forward SDE dx = f x dt + g dw,
//   x_{i+1} = x_i + (f(t_i) x_i - g^2(t_i) score_i) dt + g(t_i) sqrt(|dt|) z,   dt = t_{i+1} - t_i < 0,
// score_i = (alpha_i D(x_i/alpha_i, s_i) - x_i)/sigma_i^2, z = B_h/sqrt(h) the normalised increment
// of the reverse-time Brownian motion over the step in log s (brownian/step_noise.hpp): the time
// change from t to log s maps g dW_t to alpha sqrt(2) s dW_u, so the fine-step limit is the same
// path on every schedule.
// NFE 1 per step. Additive noise: strong order 1 and weak order 1 (Kloeden & Platen 1992, 10.2
// and 14.1).
#pragma once

#include "brownian/step_noise.hpp"
#include "solver/slots.hpp"
#include "solver/step_grid.hpp"

namespace pfode::solver {

struct EulerMaruyama {
  brownian::PathCursor noise;

  static constexpr int denoised_slot = first_method_slot;
  static constexpr bool carries_eval = false;
  static constexpr bool draws_noise = true;  // start() places the path cursor
  KOKKOS_INLINE_FUNCTION int history_depth() const { return 1; }
  int slots() const { return first_method_slot + 3; }

  static EulerMaruyama make(brownian::PathCursor cursor) {
    EulerMaruyama m{cursor};
    m.noise.w_slot = first_method_slot + 1;
    m.noise.k_slot = first_method_slot + 2;
    return m;
  }

  template <class L>
  KOKKOS_INLINE_FUNCTION void start(const L& lane, const StepGrid& g) const {
    noise.start(lane, -g.lambda(0));
  }

  template <class L>
  KOKKOS_INLINE_FUNCTION void observe(const L& lane, int slot, const StepGrid& g, int j) const {
    lane.denoise(slot, g.alpha(j), g.s(j), denoised_slot);
  }

  template <class L>
  KOKKOS_INLINE_FUNCTION void step(const L& lane, const StepGrid& g, int i) const {
    const double t0 = g.t(i), dt = g.t(i + 1) - t0;
    const double f = g.schedule.f(t0), g2 = g.schedule.g2(t0);
    const double alpha0 = g.alpha(i), inv_var = 1.0 / (g.sigma(i) * g.sigma(i));
    // x + (f x - g^2 (alpha D - x)/sigma^2) dt
    const double a = 1.0 + (f + g2 * inv_var) * dt, b = -g2 * inv_var * alpha0 * dt;
    lane.for_coordinates([&](int c) { lane(state_slot, c) = a * lane(state_slot, c) + b * lane(denoised_slot, c); });
    const double scale = math::sqrt(g2 * -dt);
    noise.step(lane, -g.lambda(i), -g.lambda(i + 1), [&](int c, int w, const brownian::StepIncrement& inc) {
      lane(state_slot, c)[w] += scale * brownian::normalized_increment(inc);
    });
  }
};

}  // namespace pfode::solver
