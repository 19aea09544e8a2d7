// SDE-DPM-Solver++ multistep samplers (Lu et al., "DPM-Solver++", arXiv:2211.01095, appendix;
// k-diffusion's sample_dpmpp_2m_sde and sample_dpmpp_3m_sde) in canonical variables. They
// integrate the linear part of
//   dy = (1 + eta)(y - D) du + sqrt(2 eta) s dW_u,  u = log s decreasing
// exactly: over a step of h = lambda_{i+1} - lambda_i, with H = (1 + eta) h,
//   y_{i+1} = e^{-H} (s-ratio form: (s'/s) e^{-eta h}) y_i + (1 - e^{-H}) D_i + corrections(D history)
//             + s_noise sqrt(2 eta) s' J,   J = int_0^h e^{-eta (h - tau)} dB_tau,
// Var[sqrt(2 eta) s' J] = s'^2 (1 - e^{-2 eta h}). Note that k-diffusion's eta here is the square
// of the ancestral samplers' (the noise rate of the limit SDE): eta = 1 is the reverse-time SDE in
// both.
//   dpm++2m-sde: + c (D_i - D_{i-1}) / r, r = h_{i-1}/h, with c = (1 - e^{-H})/2 (solver_type =
//                midpoint, default) or c = H phi_2(-H) = 1 - (1 - e^{-H})/H (heun); first step
//                without it. NFE 1 per step.
//   dpm++3m-sde: + phi_2 d1 - phi_3 d2 (d1, d2 the first and second divided differences of the
//                last three D in lambda, phi_2 = H phi_2(-H), phi_3 = -H phi_3(-H), as k-diffusion's
//                (e^{-H} - 1)/H + 1 and phi_2/H - 1/2 without their cancellation); order 2 then 1
//                on the first steps. NFE 1 per step.
// J comes from the path (brownian/step_noise.hpp): noise = integral (default), drawn jointly with
// the step's increment from (increment, space-time area), exact in law; noise = increment,
// k-diffusion's sqrt(Var J / h) B_h. Strong and weak order 1 with noise (eta > 0): the multistep
// drift's second order does not survive the noise; eta = 0 is the ODE solver (dpm-solver++2m,
// order 2; the 3M coefficients give order 2 too, see dpm-solver++3m).
#pragma once

#include "brownian/step_noise.hpp"
#include "solver/coefficients.hpp"
#include "solver/slots.hpp"
#include "solver/step_grid.hpp"

namespace pfode::solver {

struct DpmSolverPPMultistepSde {
  int order = 2;              // 2 (2M) or 3 (3M)
  bool heun = false;          // 2M's solver_type
  bool joint_integral = true; // noise = integral (else increment)
  double eta = 1, s_noise = 1;
  brownian::PathCursor noise;
  Ring ring{first_method_slot};  // D at past grid points

  static constexpr bool carries_eval = false;
  static constexpr bool draws_noise = true;  // start() places the path cursor
  KOKKOS_INLINE_FUNCTION int history_depth() const { return order; }
  int slots() const { return first_method_slot + Ring::size + 2; }

  static DpmSolverPPMultistepSde make(int order, bool heun, bool joint_integral, double eta, double s_noise,
                                      brownian::PathCursor cursor) {
    DpmSolverPPMultistepSde m{order, heun, joint_integral, eta, s_noise, cursor};
    m.noise.w_slot = first_method_slot + Ring::size;
    m.noise.k_slot = first_method_slot + Ring::size + 1;
    return m;
  }

  template <class L>
  KOKKOS_INLINE_FUNCTION void start(const L& lane, const StepGrid& g) const {
    if (eta > 0) noise.start(lane, -g.lambda(0));
  }

  template <class L>
  KOKKOS_INLINE_FUNCTION void observe(const L& lane, int slot, const StepGrid& g, int j) const {
    lane.denoise(slot, g.alpha(j), g.s(j), ring.slot(j));
  }

  template <class L>
  KOKKOS_INLINE_FUNCTION void step(const L& lane, const StepGrid& g, int i) const {
    const double h = g.lambda(i + 1) - g.lambda(i), big_h = (1.0 + eta) * h;
    const double decay = math::exp(-big_h), weight = -math::expm1(-big_h);
    const double inv_alpha0 = 1.0 / g.alpha(i), alpha1 = g.alpha(i + 1);
    const int s0 = ring.slot(i);
    const int q = i + 1 < order ? i + 1 : order;  // lower orders on the first steps
    if (q == 1) {
      lane.for_coordinates([&](int c) {
        lane(state_slot, c) = alpha1 * (decay * lane(state_slot, c) * inv_alpha0 + weight * lane(s0, c));
      });
    } else if (q == 2) {
      const int s1 = ring.slot(i - 1);
      const double r = (g.lambda(i) - g.lambda(i - 1)) / h;
      const double c1 = order == 3 ? big_h * phi(2, -big_h) : heun ? big_h * phi(2, -big_h) : 0.5 * weight;
      lane.for_coordinates([&](int c) {
        const auto m0 = lane(s0, c), d = (m0 - lane(s1, c)) / r;
        lane(state_slot, c) = alpha1 * (decay * lane(state_slot, c) * inv_alpha0 + weight * m0 + c1 * d);
      });
    } else {
      const int s1 = ring.slot(i - 1), s2 = ring.slot(i - 2);
      const double r0 = (g.lambda(i) - g.lambda(i - 1)) / h, r1 = (g.lambda(i - 1) - g.lambda(i - 2)) / h;
      const double phi_2 = big_h * phi(2, -big_h), phi_3 = -big_h * phi(3, -big_h);
      lane.for_coordinates([&](int c) {
        const auto m0 = lane(s0, c), m1 = lane(s1, c), m2 = lane(s2, c);
        const auto d1_0 = (m0 - m1) / r0, d1_1 = (m1 - m2) / r1;
        const auto d1 = d1_0 + (d1_0 - d1_1) * r0 / (r0 + r1), d2 = (d1_0 - d1_1) / (r0 + r1);
        lane(state_slot, c) =
            alpha1 * (decay * lane(state_slot, c) * inv_alpha0 + weight * m0 + phi_2 * d1 - phi_3 * d2);
      });
    }
    if (!(eta > 0)) return;
    const double scale = alpha1 * s_noise * math::sqrt(2.0 * eta) * g.s(i + 1);
    const auto integral = joint_integral ? brownian::ExponentialIntegral::joint(eta, h)
                                         : brownian::ExponentialIntegral::increment_only(eta, h);
    noise.step(lane, -g.lambda(i), -g.lambda(i + 1), [&](int c, int w, const brownian::StepIncrement& inc) {
      lane(state_slot, c)[w] += scale * integral(inc);
    });
  }
};

}  // namespace pfode::solver
