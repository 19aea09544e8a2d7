// The noise a sampler step takes from the Brownian path (brownian/brownian_path.hpp), for every
// sample and coordinate of a lane (lane/), and the stochastic integrals of exponential integrators.
//
// A sampler steps down the grid u_0 = log s_0 > u_1 > ...; its noise over step i comes from the
// reverse-time motion B_tau = W(u_i) - W(u_i - tau), tau in [0, h], h = u_i - u_{i+1}. The cursor
// keeps W and K at its current point in two of the lane's slots, so a step queries the path once,
// at its end; a grid refined by nesting gets the same path, and the fine increments sum to the
// coarse one exactly.
#pragma once

#include "brownian/brownian_path.hpp"

namespace pfode::brownian {

// The standard normal a per-step Gaussian draw stands for: B_h / sqrt(h).
KOKKOS_INLINE_FUNCTION double normalized_increment(const StepIncrement& s) { return s.db / math::sqrt(s.h); }

// J = int_0^h e^{-c (h - tau)} dB_tau (c >= 0), the stochastic integral of an exponential
// integrator whose linear part decays at rate c in tau (= lambda), as
//   J = increment_weight B_h + area_weight H / sqrt(h/12)
// with H the step's space-time area (independent of B_h, variance h/12).
//   joint:          increment_weight = (1 - e^{-ch})/(ch) is E[J | B_h] / B_h, the L2 projection of
//                   the weight onto constants; area_weight makes Var J exact,
//                   (1 - e^{-2ch})/(2c), and has the sign of the projection onto tau - h/2, so J
//                   has the exact joint law with B_h and differs from the path's own integral by
//                   O(c^2 h^{5/2}) in L2 (its projection onto quadratics and beyond).
//   increment only: sqrt(Var J / h) B_h (k-diffusion's dpmpp_2m_sde / 3m_sde: the exact variance
//                   times the normalised increment); correlation 1 with B_h instead of
//                   (1 - e^{-ch}) / sqrt(ch (1 - e^{-2ch}) / 2).
struct ExponentialIntegral {
  double increment_weight = 1, area_weight = 0;

  // e^{-2x} D(x), D(x) = (e^{2x} - 1)/(2x) - ((e^x - 1)/x)^2 = sum_{n>=2} (2^n (n - 2) + 2)/(n + 2)! x^n:
  // Var J - Var E[J | B_h], in units of h, at x = ch. The series avoids the cancellation of the
  // closed form for small x.
  static KOKKOS_INLINE_FUNCTION double residual_variance(double x) {
    if (x >= 1.0) {
      const double a = -math::expm1(-2.0 * x) / (2.0 * x), b = -math::expm1(-x) / x;
      return a - b * b;
    }
    double sum = 0.0, power = x * x, two_n = 4.0, factorial = 24.0;  // n = 2: x^2, 2^2, 4!
    for (int n = 2; n < 40; ++n) {
      const double term = (two_n * (n - 2) + 2.0) / factorial * power;
      sum += term;
      if (term < 1e-18 * sum) break;
      power *= x;
      two_n *= 2.0;
      factorial *= n + 3;
    }
    return math::exp(-2.0 * x) * sum;
  }

  static KOKKOS_INLINE_FUNCTION ExponentialIntegral joint(double c, double h) {
    const double x = c * h;
    ExponentialIntegral j;
    if (!(x > 0)) return j;  // c = 0: J = B_h
    j.increment_weight = -math::expm1(-x) / x;
    // The weight e^{-c (h - tau)} grows with tau: its projection onto tau - h/2 is positive, and
    // int (tau - h/2) dB = -h H, so the area enters with a negative sign.
    j.area_weight = -math::sqrt(h * residual_variance(x));
    return j;
  }

  static KOKKOS_INLINE_FUNCTION ExponentialIntegral increment_only(double c, double h) {
    const double x = c * h;
    ExponentialIntegral j;
    if (x > 0) j.increment_weight = math::sqrt(-math::expm1(-2.0 * x) / (2.0 * x));
    return j;
  }

  KOKKOS_INLINE_FUNCTION double operator()(const StepIncrement& s) const {
    return increment_weight * s.db + area_weight * s.area / math::sqrt(s.h / 12.0);
  }
};

// One channel of the path for the samples of a lane. Batch position p of the lane is sample
// first_sample + p of the run (runs in chunks start past 0).
struct PathCursor {
  BrownianPath path;
  long first_sample = 0;
  int channel = 0;
  int w_slot = -1, k_slot = -1;  // the lane's slots holding W and K at the cursor's point

  template <class L>
  KOKKOS_INLINE_FUNCTION PathPoint query(const L& lane, int w, int c, double u) const {
    return path.at(static_cast<std::uint32_t>(first_sample + lane.sample(w)), static_cast<std::uint32_t>(c),
                   static_cast<std::uint32_t>(channel), u);
  }

  // The cursor at u for every sample and coordinate of the lane.
  template <class L>
  KOKKOS_INLINE_FUNCTION void start(const L& lane, double u) const {
    lane.for_coordinates([&](int c) {
      for (int w = 0; w < L::width; ++w) {
        const PathPoint p = query(lane, w, c, u);
        lane(w_slot, c)[w] = p.w;
        lane(k_slot, c)[w] = p.k;
      }
    });
  }

  // body(c, w, increment) with the reverse-time increment from the cursor's point u_a down to
  // u_b < u_a, for every coordinate c and position w; the cursor then moves to u_b when `move`.
  template <class L, class F>
  KOKKOS_INLINE_FUNCTION void over(const L& lane, double u_a, double u_b, bool move, const F& body) const {
    lane.for_coordinates([&](int c) {
      for (int w = 0; w < L::width; ++w) {
        const PathPoint b = query(lane, w, c, u_b);
        PathPoint a;
        a.w = lane(w_slot, c)[w];
        a.k = lane(k_slot, c)[w];
        body(c, w, reverse_step(a, b, u_a, u_b));
        if (move) {
          lane(w_slot, c)[w] = b.w;
          lane(k_slot, c)[w] = b.k;
        }
      }
    });
  }
  template <class L, class F>
  KOKKOS_INLINE_FUNCTION void step(const L& lane, double u_a, double u_b, const F& body) const {
    over(lane, u_a, u_b, true, body);
  }
  // The increment over [u_b, u_a] without moving: a second draw that overlaps the step's own.
  template <class L, class F>
  KOKKOS_INLINE_FUNCTION void peek(const L& lane, double u_a, double u_b, const F& body) const {
    over(lane, u_a, u_b, false, body);
  }
};

}  // namespace pfode::brownian
