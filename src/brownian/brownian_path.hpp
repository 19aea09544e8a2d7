// The Brownian motion of the stochastic samplers, as a value they query (never a generator they
// draw from): one path W(u) per (seed, sample, coordinate, channel) on u = log s, s = sigma/alpha,
// over the fixed interval [-32, 32] (s from 1.3e-14 to 7.9e13), the same for every schedule.
//
// A virtual Brownian tree (Levy's construction by midpoint bridges, as diffrax's
// VirtualBrownianTree and torchsde's BrownianTree): the root interval is halved `depth` times, and
// every node holds the increment of W over its interval and its space-time Levy area
//   H = (1/h) int_a^b (W_v - W_a - (v - a)/h (W_b - W_a)) dv,  h = b - a,
// drawn from the counter-based generator keyed by (seed, sample, coordinate, channel, node). A
// query descends from the root to the leaf holding u; nothing is stored, so a value depends on
// those numbers and u only -- not on the step size, the order of queries, the batch, the thread
// count, the backend or the MPI rank. Inside a leaf (width 64 / 2^depth) the path is its mean
// conditional on the leaf's (increment, area), a quadratic; the path is exactly Brownian at the
// dyadic points and on any interval much wider than a leaf.
//
// Splitting a node (W, H) over [a, b] at its midpoint into (W1, H1), (W2, H2): the children are
// independent with W_i ~ N(0, h/2), H_i ~ N(0, h/24), and W = W1 + W2, H = (H1 + H2)/2 + (W1 - W2)/4.
// Conditioned on (W, H), with z1, z2 standard normals:
//   A = W1 - W2 = 3 H + (sqrt(h)/2) z1,   T = H1 + H2 = 2 H - A/2,   B = H1 - H2 = sqrt(h/12) z2,
// so W1 = (W + A)/2, W2 = (W - A)/2, H1 = (T + B)/2, H2 = (T - B)/2 (the same split as Foster,
// Lyons & Oberhauser, "An optimal polynomial approximation of Brownian motion", 2020).
//
// A query returns W(u) and its running integral K(u) = int_{-32}^u W dv, from which any step's
// increment and space-time area follow (reverse_step below): the exponential integrators'
// stochastic integrals are drawn jointly with the increment from the same path
// (brownian/step_noise.hpp).
#pragma once

#include <cstdint>

#include "model/counter_rng.hpp"

namespace pfode::brownian {

// W(u) and K(u) = int_{u_low}^{u} W dv.
struct PathPoint {
  double w = 0, k = 0;
};

// Channels: independent paths of one sample and coordinate (a sampler that needs a second source
// of noise, e.g. the Langevin corrector of a predictor-corrector sampler, uses channel 1).
inline constexpr int max_channels = 256;

struct BrownianPath {
  static constexpr double u_low = -32.0, u_high = 32.0;
  static constexpr int max_depth = 40;
  std::uint64_t seed = 0;
  int depth = 26;  // leaf width 64 / 2^26 = 9.5e-7 in log s

  KOKKOS_INLINE_FUNCTION double leaf_width() const { return (u_high - u_low) / static_cast<double>(1ull << depth); }

  // Two standard normals of node n (heap numbering: root 1, children 2n and 2n + 1; node n's split
  // its children, index 0 the root's own increment and area) by Box-Muller
  // on the two uniforms of one Philox block. Counter (sample, coordinate, 2^31 | channel << 16 |
  // n >> 32, n mod 2^32): bit 31 keeps it apart from the start states' and models' streams.
  KOKKOS_INLINE_FUNCTION void node_normals(std::uint32_t sample, std::uint32_t coord, std::uint32_t channel,
                                           std::uint64_t node, double& z1, double& z2) const {
    const std::uint32_t high = 0x80000000u | (channel << 16) | static_cast<std::uint32_t>(node >> 32);
    const model::Philox4x32 r = model::philox4x32_10({{sample, coord, high, static_cast<std::uint32_t>(node)}},
                                                     static_cast<std::uint32_t>(seed),
                                                     static_cast<std::uint32_t>(seed >> 32));
    const double u1 = model::uniform_open(r.word[0], r.word[1]), u2 = model::uniform_open(r.word[2], r.word[3]);
    const double radius = math::sqrt(-2.0 * math::log(u1)), angle = 2.0 * math::pi * u2;
    z1 = radius * math::cos(angle);
    z2 = radius * math::sin(angle);
  }

  // W and K at u (clamped to [u_low, u_high]).
  KOKKOS_INLINE_FUNCTION PathPoint at(std::uint32_t sample, std::uint32_t coord, std::uint32_t channel,
                                      double u) const {
    u = u < u_low ? u_low : u > u_high ? u_high : u;
    double a = u_low, h = u_high - u_low;
    double w_a = 0.0, k_a = 0.0;  // W and K at the node's left end
    double z1, z2;
    node_normals(sample, coord, channel, 0, z1, z2);  // the root's (W, H) from the unused index 0
    double dw = math::sqrt(h) * z1, area = math::sqrt(h / 12.0) * z2;
    std::uint64_t node = 1;
    for (int level = 0; level < depth; ++level) {
      node_normals(sample, coord, channel, node, z1, z2);
      const double split = 3.0 * area + 0.5 * math::sqrt(h) * z1;
      const double area_sum = 2.0 * area - 0.5 * split, area_difference = math::sqrt(h / 12.0) * z2;
      const double half = 0.5 * h;
      if (u < a + half) {
        dw = 0.5 * (dw + split);
        area = 0.5 * (area_sum + area_difference);
        node = 2 * node;
      } else {
        const double dw_left = 0.5 * (dw + split), area_left = 0.5 * (area_sum + area_difference);
        k_a += half * (w_a + 0.5 * dw_left + area_left);  // int of W over the left half
        w_a += dw_left;
        dw = 0.5 * (dw - split);
        area = 0.5 * (area_sum - area_difference);
        node = 2 * node + 1;
        a += half;
      }
      h = half;
    }
    // Inside the leaf: W = w_a + theta dw + 6 theta (1 - theta) area, theta = (u - a)/h.
    const double x = u - a, theta = x / h;
    PathPoint p;
    p.w = w_a + theta * dw + 6.0 * theta * (1.0 - theta) * area;
    p.k = k_a + x * (w_a + 0.5 * theta * dw + 6.0 * area * (0.5 * theta - theta * theta / 3.0));
    return p;
  }
};

// The reverse-time motion of a step from u_a down to u_b < u_a: B_tau = W(u_a) - W(u_a - tau),
// tau in [0, h], h = u_a - u_b, is a Brownian motion; its increment B_h and space-time area
// H = (1/h) int_0^h (B_tau - tau/h B_h) dtau (independent of B_h, variance h/12).
struct StepIncrement {
  double h = 0, db = 0, area = 0;
};

KOKKOS_INLINE_FUNCTION StepIncrement reverse_step(const PathPoint& a, const PathPoint& b, double u_a, double u_b) {
  StepIncrement s;
  s.h = u_a - u_b;
  s.db = a.w - b.w;
  // int_0^h B dtau = h W(u_a) - (K(u_a) - K(u_b)).
  s.area = a.w - (a.k - b.k) / s.h - 0.5 * s.db;
  return s;
}

}  // namespace pfode::brownian
