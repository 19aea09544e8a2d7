// k-diffusion's singlestep stochastic DPM-Solver++ samplers (Crowson, k-diffusion sampling.py,
// after Lu et al., "DPM-Solver++", arXiv:2211.01095), in canonical variables y = x/alpha,
// s = sigma/alpha, lambda = -log s, with the ancestral split of solver/ancestral.hpp:
//
// dpm++2s-ancestral (sample_dpmpp_2s_ancestral): DPM-Solver++(2S) (midpoint, r = 1/2) from s down
//   to s_down, then s_noise s_up z, z the normalised increment over the step. NFE 2 per step.
// dpm++sde (sample_dpmpp_sde, r = 1/2): stage s_r = s e^{-r h}: an ancestral first-order step to
//   s_r (its own s_down, s_up, noise the normalised increment over [log s_r, log s]), D there; then
//   from s with D_r weighted 1/(2r) against D_i down to the step's s_down, plus noise the
//   normalised increment over the whole step: the two draws overlap on the path (correlation
//   sqrt(r) in log s; k-diffusion's tree, indexed by sigma, gives sqrt((1 - e^{-rh})/(1 - e^{-h}))).
//   NFE 2 per step.
// Limit: the eta SDE of solver/ancestral.hpp. The published order 2 is the drift's (eta = 0 gives
// the ODE solver, order 2); with noise the per-step Gaussian limits them to strong and weak order 1.
#pragma once

#include "solver/ancestral.hpp"

namespace pfode::solver {

struct DpmSolverPP2SAncestral : AncestralNoise<2> {  // slots: D_i, then the midpoint's D
  static DpmSolverPP2SAncestral make(double eta, double s_noise, brownian::PathCursor cursor) {
    DpmSolverPP2SAncestral m;
    m.place(eta, s_noise, cursor);
    return m;
  }

  template <class L>
  KOKKOS_INLINE_FUNCTION void step(const L& lane, const StepGrid& g, int i) const {
    const AncestralStep a = AncestralStep::make(g.lambda(i), g.lambda(i + 1), g.s(i + 1), eta);
    const double inv_alpha0 = 1.0 / g.alpha(i), alpha1 = g.alpha(i + 1);
    const int d0 = denoised_slot, d_mid = denoised_slot + 1;
    if (!(a.down > 0)) {  // all noise (eta large): the Euler step to s_down = 0 gives y = D
      lane.for_coordinates([&](int c) { lane(state_slot, c) = alpha1 * lane(d0, c); });
    } else {
      const double h = a.lambda_down - g.lambda(i), s_mid = g.s(i) * math::exp(-0.5 * h);
      const double decay_mid = math::exp(-0.5 * h), phi_mid = math::expm1(-0.5 * h);
      const double decay = math::exp(-h), phi = math::expm1(-h);
      lane.for_coordinates([&](int c) {
        lane(scratch_slot, c) = decay_mid * lane(state_slot, c) * inv_alpha0 - phi_mid * lane(d0, c);
      });
      lane.denoise(scratch_slot, 1.0, s_mid, d_mid);
      lane.for_coordinates([&](int c) {
        lane(state_slot, c) = alpha1 * (decay * lane(state_slot, c) * inv_alpha0 - phi * lane(d_mid, c));
      });
    }
    add_step_noise(lane, g, i, alpha1 * s_noise * a.up);
  }
};

struct DpmSolverPPSde : AncestralNoise<2> {
  double r = 0.5;
  static constexpr int stage_slot = first_method_slot + 1;  // D at the stage

  static DpmSolverPPSde make(double eta, double s_noise, double r, brownian::PathCursor cursor) {
    DpmSolverPPSde m;
    m.place(eta, s_noise, cursor);
    m.r = r;
    return m;
  }

  template <class L>
  KOKKOS_INLINE_FUNCTION void step(const L& lane, const StepGrid& g, int i) const {
    const double lambda = g.lambda(i), lambda_next = g.lambda(i + 1), h = lambda_next - lambda;
    const double lambda_r = lambda + r * h, s_r = math::exp(-lambda_r);
    const double inv_alpha0 = 1.0 / g.alpha(i), alpha1 = g.alpha(i + 1);
    // Stage: first-order ancestral step to s_r.
    const AncestralStep a1 = AncestralStep::make(lambda, lambda_r, s_r, eta);
    const double decay_1 = math::exp(lambda - a1.lambda_down), phi_1 = math::expm1(lambda - a1.lambda_down);
    lane.for_coordinates([&](int c) {
      lane(scratch_slot, c) = decay_1 * lane(state_slot, c) * inv_alpha0 - phi_1 * lane(denoised_slot, c);
    });
    if (eta > 0) {
      const double scale = s_noise * a1.up;
      noise.peek(lane, -lambda, -lambda_r, [&](int c, int w, const brownian::StepIncrement& inc) {
        lane(scratch_slot, c)[w] += scale * brownian::normalized_increment(inc);
      });
    }
    lane.denoise(scratch_slot, 1.0, s_r, stage_slot);
    // Step: D_d = (1 - 1/(2r)) D_i + 1/(2r) D_r, first-order ancestral step to s_{i+1}.
    const AncestralStep a2 = AncestralStep::make(lambda, lambda_next, g.s(i + 1), eta);
    const double fac = 0.5 / r;
    const double decay_2 = math::exp(lambda - a2.lambda_down), phi_2 = math::expm1(lambda - a2.lambda_down);
    lane.for_coordinates([&](int c) {
      const auto d = (1.0 - fac) * lane(denoised_slot, c) + fac * lane(stage_slot, c);
      lane(state_slot, c) = alpha1 * (decay_2 * lane(state_slot, c) * inv_alpha0 - phi_2 * d);
    });
    add_step_noise(lane, g, i, alpha1 * s_noise * a2.up);
  }
};

}  // namespace pfode::solver
