// Ancestral sampling: DDPM (Ho, Jain & Abbeel, NeurIPS 2020) with the posterior variance
// beta~, DDIM with eta (Song, Meng & Ermon, ICLR 2021) and k-diffusion's sample_euler_ancestral
// (Crowson) are one method in canonical variables y = x/alpha, s = sigma/alpha. From s to s' < s,
// with the denoiser D = D(y, s):
//   s_up = min(s', eta s'/s sqrt(s^2 - s'^2)),  s_down = sqrt(s'^2 - s_up^2),
//   y' = y + (s_down/s - 1)(y - D) + s_noise s_up z,
// an Euler step in s down to s_down, then fresh noise back up to s'. With eta = 1 the mean
// D + (s'/s)^2 (y - D) and variance s'^2 (s^2 - s'^2)/s^2 are the DDPM posterior q(y' | y, y_0 = D);
// DDIM's sigma_t(eta) = eta sqrt((1 - abar_{t-1})/(1 - abar_t)) sqrt(1 - abar_t/abar_{t-1}) is
// alpha' s_up on VP schedules; k-diffusion's get_ancestral_step is the formula above in sigma.
// eta = 0 is deterministic DDIM, with the same arithmetic bit for bit (solver/ddim.hpp).
//
// NFE 1 per step. z = B_h/sqrt(h), the normalised increment of the reverse-time Brownian motion over
// the step in log s (brownian/step_noise.hpp). Limit as steps shrink: the SDE
//   dy = (1 + eta^2)(y - D) du + eta sqrt(2) s dW_u,  u = log s decreasing
// (the reverse-time SDE at eta = 1); additive noise, so strong order 1 and weak order 1 for
// eta > 0 (the published first-order drift is all there is; DDPM's per-step Gaussian also misses the
// posterior's O(h^2) variance term (1 - s'^2/s^2)^2 Var[y_0 | y]).
#pragma once

#include "brownian/step_noise.hpp"
#include "solver/slots.hpp"
#include "solver/step_grid.hpp"

namespace pfode::solver {

// k-diffusion's get_ancestral_step in canonical variables, with the Euler factor s_down/s - 1 as
// expm1 of a log ratio: lambda - lambda_down = (lambda - lambda') + log(s_down/s'), where
// log(s_down/s') = log1p(-(s_up/s')^2)/2 is exactly 0 without noise.
struct AncestralStep {
  double up = 0;           // s_up
  double down = 0;         // s_down
  double euler = 0;        // s_down/s - 1
  double lambda_down = 0;  // -log s_down

  // From (s, lambda) to (s', lambda'), s' < s.
  static KOKKOS_INLINE_FUNCTION AncestralStep make(double lambda, double lambda_to, double s_to, double eta) {
    AncestralStep a;
    if (eta > 0) {
      const double up = eta * s_to * math::sqrt(-math::expm1(2.0 * (lambda - lambda_to)));
      a.up = up < s_to ? up : s_to;
    }
    const double q = a.up / s_to;
    const double log_ratio = q < 1.0 ? 0.5 * math::log1p(-q * q) : -INFINITY;  // log(s_down/s')
    a.down = s_to * math::exp(log_ratio);
    a.lambda_down = lambda_to - log_ratio;
    a.euler = math::expm1(lambda - a.lambda_down);
    return a;
  }
};

// What the samplers of the ancestral split share (Ancestral below, DpmSolverPP2SAncestral and
// DpmSolverPPSde in solver/dpm_solver_pp_sde.hpp): eta and s_noise, D at the step's start in
// denoised_slot, `MethodSlots` slots from first_method_slot for it and the stages, then the path
// cursor's two, placed at the grid's start; and the step's closing noise draw.
template <int MethodSlots>
struct AncestralNoise {
  double eta = 1, s_noise = 1;
  brownian::PathCursor noise;

  static constexpr int denoised_slot = first_method_slot;
  static constexpr bool carries_eval = false;
  static constexpr bool draws_noise = true;  // start() places the path cursor
  KOKKOS_INLINE_FUNCTION int history_depth() const { return 1; }
  int slots() const { return first_method_slot + MethodSlots + 2; }

  void place(double new_eta, double new_s_noise, brownian::PathCursor cursor) {
    eta = new_eta;
    s_noise = new_s_noise;
    noise = cursor;
    noise.w_slot = first_method_slot + MethodSlots;
    noise.k_slot = first_method_slot + MethodSlots + 1;
  }

  template <class L>
  KOKKOS_INLINE_FUNCTION void start(const L& lane, const StepGrid& g) const {
    if (eta > 0) noise.start(lane, -g.lambda(0));
  }

  template <class L>
  KOKKOS_INLINE_FUNCTION void observe(const L& lane, int slot, const StepGrid& g, int j) const {
    lane.denoise(slot, g.alpha(j), g.s(j), denoised_slot);
  }

  // scale z added to the state, z the normalised increment over step i (none without noise).
  template <class L>
  KOKKOS_INLINE_FUNCTION void add_step_noise(const L& lane, const StepGrid& g, int i, double scale) const {
    if (!(eta > 0)) return;
    noise.step(lane, -g.lambda(i), -g.lambda(i + 1), [&](int c, int w, const brownian::StepIncrement& inc) {
      lane(state_slot, c)[w] += scale * brownian::normalized_increment(inc);
    });
  }
};

struct Ancestral : AncestralNoise<1> {
  static Ancestral make(double eta, double s_noise, brownian::PathCursor cursor) {
    Ancestral a;
    a.place(eta, s_noise, cursor);
    return a;
  }

  template <class L>
  KOKKOS_INLINE_FUNCTION void step(const L& lane, const StepGrid& g, int i) const {
    const AncestralStep a = AncestralStep::make(g.lambda(i), g.lambda(i + 1), g.s(i + 1), eta);
    // DDIM's update (solver/ddim.hpp) with s_down for s': the same expression, so that eta = 0
    // reproduces it bit for bit.
    const double factor = a.euler;
    const double inv_alpha0 = 1.0 / g.alpha(i), alpha1 = g.alpha(i + 1);
    lane.for_coordinates([&](int c) {
      const auto y = lane(state_slot, c) * inv_alpha0;
      lane(state_slot, c) = alpha1 * (y + factor * (y - lane(denoised_slot, c)));
    });
    add_step_noise(lane, g, i, alpha1 * s_noise * a.up);
  }
};

}  // namespace pfode::solver
