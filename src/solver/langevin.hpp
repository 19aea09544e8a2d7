// Langevin samplers, in canonical variables y = x/alpha at fixed noise levels s, with the score
// (D(y, s) - y)/s^2:
//
// langevin (annealed Langevin dynamics, Song & Ermon, "Generative Modeling by Estimating
//   Gradients of the Data Distribution", NeurIPS 2019, Algorithm 1): at each grid point i = 1..N
//   in turn, M steps y <- y + (a_i/2) score + sqrt(a_i) z with a_i = eps s_i^2 (eps = the paper's
//   epsilon / sigma_L^2, its step at the last level relative to that level's variance; 0.2 on
//   CIFAR-10). NFE M per grid step. The noise of level i's M steps: the normalised increments of
//   channel 0 over M equal parts of [log s_i, log s_{i-1}].
// pc (predictor-corrector, Song et al. ICLR 2021, Algorithm 2/3): per step, M Langevin corrector
//   steps at s_i with the "snr rule" a = 2 (snr |z| / |score|)^2 (norms over the sample's
//   coordinates), y <- y + a score + sqrt(2 a) z (noise: channel 1 over M equal parts of the step),
//   then a predictor to s_{i+1} (noise: channel 0 over the step): reverse-diffusion, the score-SDE
//   paper's ReverseDiffusionPredictor in VE form, y' = y + (1 - s'^2/s^2)(D - y) + sqrt(s^2 - s'^2) z,
//   or euler-maruyama (solver/euler_maruyama.hpp). NFE 1 + M per step. Deviations from the official
//   code: each sample's own norms (it averages them over the batch, which makes a sample's step
//   depend on the others), the corrector's alpha = 1 (it uses 1 - beta_i of the discrete VP schedule,
//   1 - O(1/N)), and noise on the last predictor step too (its denoise=True drops it).
//
// Neither converges to one SDE path as steps shrink: the Langevin steps (a_i, or the snr rule's a ~
// 2 snr^2 s^2) do not shrink with the grid, so more steps mean more Langevin time at each level.
// There is no strong order; the weak error does not vanish either but levels off at the bias of
// the unadjusted Langevin steps (O(eps), O(snr^2)), reached faster as steps are added.
#pragma once

#include "brownian/step_noise.hpp"
#include "solver/euler_maruyama.hpp"
#include "solver/slots.hpp"
#include "solver/step_grid.hpp"

namespace pfode::solver {

// M Langevin steps on the y held in y_slot at level s, the noise of step m the normalised
// increment over the m-th of M equal parts of [u_b, u_a] (the cursor at u_a, moved to u_b).
// step_of(lane, grad_slot, noise_slot) -> per-sample step sizes a (a Value); the update is
// y <- y + a grad + sqrt(2 a) z.
template <class L, class StepOf>
KOKKOS_INLINE_FUNCTION void langevin_steps(const L& lane, const brownian::PathCursor& cursor, int y_slot, int grad_slot,
                                           int noise_slot, double s, double u_a, double u_b, int steps,
                                           const StepOf& step_of) {
  const double inv_s2 = 1.0 / (s * s);
  for (int m = 0; m < steps; ++m) {
    const double from = u_a + (u_b - u_a) * m / steps, to = m + 1 == steps ? u_b : u_a + (u_b - u_a) * (m + 1) / steps;
    cursor.step(lane, from, to, [&](int c, int w, const brownian::StepIncrement& inc) {
      lane(noise_slot, c)[w] = brownian::normalized_increment(inc);
    });
    lane.denoise(y_slot, 1.0, s, grad_slot);
    lane.for_coordinates([&](int c) { lane(grad_slot, c) = (lane(grad_slot, c) - lane(y_slot, c)) * inv_s2; });
    const auto a = step_of(grad_slot, noise_slot);
    auto noise_scale = a;
    for (int w = 0; w < L::width; ++w) noise_scale[w] = math::sqrt(2.0 * a[w]);
    lane.for_coordinates([&](int c) {
      lane(y_slot, c) = lane(y_slot, c) + a * lane(grad_slot, c) + noise_scale * lane(noise_slot, c);
    });
  }
}

struct AnnealedLangevin {
  int steps = 100;   // M per level
  double eps = 0.2;  // a_i = eps s_i^2
  brownian::PathCursor noise;

  static constexpr int grad_slot = first_method_slot, noise_slot = first_method_slot + 1;
  static constexpr bool carries_eval = true;  // no evaluation at the grid points
  static constexpr bool draws_noise = true;  // start() places the path cursor
  KOKKOS_INLINE_FUNCTION int history_depth() const { return 1; }
  int slots() const { return first_method_slot + 4; }

  static AnnealedLangevin make(int steps, double eps, brownian::PathCursor cursor) {
    AnnealedLangevin m{steps, eps, cursor};
    m.noise.w_slot = first_method_slot + 2;
    m.noise.k_slot = first_method_slot + 3;
    return m;
  }

  template <class L>
  KOKKOS_INLINE_FUNCTION void start(const L& lane, const StepGrid& g) const {
    noise.start(lane, -g.lambda(0));
  }
  template <class L>
  KOKKOS_INLINE_FUNCTION void observe(const L&, int, const StepGrid&, int) const {}

  template <class L>
  KOKKOS_INLINE_FUNCTION void step(const L& lane, const StepGrid& g, int i) const {
    const double s = g.s(i + 1), inv_alpha0 = 1.0 / g.alpha(i), alpha1 = g.alpha(i + 1);
    lane.for_coordinates([&](int c) { lane(state_slot, c) = lane(state_slot, c) * inv_alpha0; });
    // (a/2) score + sqrt(a) z is a' score + sqrt(2 a') z with a' = a/2.
    const typename L::Value half_step(0.5 * eps * s * s);
    langevin_steps(lane, noise, state_slot, grad_slot, noise_slot, s, -g.lambda(i), -g.lambda(i + 1), steps,
                   [&](int, int) { return half_step; });
    lane.for_coordinates([&](int c) { lane(state_slot, c) = alpha1 * lane(state_slot, c); });
  }
};

enum class Predictor { reverse_diffusion, euler_maruyama };

struct PredictorCorrector {
  int corrector_steps = 1;
  double snr = 0.16;
  Predictor predictor = Predictor::reverse_diffusion;
  brownian::PathCursor predictor_noise, corrector_noise;

  static constexpr int denoised_slot = first_method_slot;
  static constexpr int grad_slot = first_method_slot + 1, noise_slot = first_method_slot + 2;
  static constexpr bool carries_eval = true;  // the predictor evaluates after the corrector
  static constexpr bool draws_noise = true;  // start() places the path cursor
  KOKKOS_INLINE_FUNCTION int history_depth() const { return 1; }
  int slots() const { return first_method_slot + 7; }

  static PredictorCorrector make(int corrector_steps, double snr, Predictor predictor, brownian::PathCursor cursor) {
    PredictorCorrector m{corrector_steps, snr, predictor, cursor, cursor};
    m.predictor_noise.channel = 0;
    m.predictor_noise.w_slot = first_method_slot + 3;
    m.predictor_noise.k_slot = first_method_slot + 4;
    m.corrector_noise.channel = 1;
    m.corrector_noise.w_slot = first_method_slot + 5;
    m.corrector_noise.k_slot = first_method_slot + 6;
    return m;
  }

  template <class L>
  KOKKOS_INLINE_FUNCTION void start(const L& lane, const StepGrid& g) const {
    predictor_noise.start(lane, -g.lambda(0));
    corrector_noise.start(lane, -g.lambda(0));
  }
  template <class L>
  KOKKOS_INLINE_FUNCTION void observe(const L&, int, const StepGrid&, int) const {}

  template <class L>
  KOKKOS_INLINE_FUNCTION void step(const L& lane, const StepGrid& g, int i) const {
    const double s = g.s(i), inv_alpha0 = 1.0 / g.alpha(i), alpha0 = g.alpha(i);
    const double u0 = -g.lambda(i), u1 = -g.lambda(i + 1);
    if (corrector_steps > 0) {
      lane.for_coordinates([&](int c) { lane(state_slot, c) = lane(state_slot, c) * inv_alpha0; });
      const double two_snr2 = 2.0 * snr * snr;
      langevin_steps(lane, corrector_noise, state_slot, grad_slot, noise_slot, s, u0, u1, corrector_steps,
                     [&](int grad, int z) {
                       const auto grad2 = lane.sum_values([&](int c) { return lane(grad, c) * lane(grad, c); });
                       const auto z2 = lane.sum_values([&](int c) { return lane(z, c) * lane(z, c); });
                       return two_snr2 * z2 / grad2;
                     });
      lane.for_coordinates([&](int c) { lane(state_slot, c) = alpha0 * lane(state_slot, c); });
    }
    lane.denoise(state_slot, alpha0, s, denoised_slot);
    if (predictor == Predictor::euler_maruyama) {
      const EulerMaruyama em{predictor_noise};
      return em.step(lane, g, i);  // reads denoised_slot (the same slot) and the predictor's cursor
    }
    // Reverse diffusion in VE form: y' = D + (s'/s)^2 (y - D) + sqrt(s^2 - s'^2) z.
    const double ratio2 = math::exp(2.0 * (g.lambda(i) - g.lambda(i + 1))), alpha1 = g.alpha(i + 1);
    lane.for_coordinates([&](int c) {
      const auto y = lane(state_slot, c) * inv_alpha0, d = lane(denoised_slot, c);
      lane(state_slot, c) = alpha1 * (d + ratio2 * (y - d));
    });
    const double scale = alpha1 * s * math::sqrt(-math::expm1(2.0 * (g.lambda(i) - g.lambda(i + 1))));
    predictor_noise.step(lane, u0, u1, [&](int c, int w, const brownian::StepIncrement& inc) {
      lane(state_slot, c)[w] += scale * brownian::normalized_increment(inc);
    });
  }
};

}  // namespace pfode::solver
