// The augmented probability-flow ODE of the likelihood (instantaneous change of variables) as a
// device model kind (model/concept.hpp), so that every registered solver and the DOP853 reference
// integrate it unchanged. In canonical variables the state is (y, z_0, z_1, ..., z_P): y follows
// dy/ds = (y - D(y, s)) / s and each z follows the divergence of that drift,
//   dz_0/ds = (d - tr dD/dy) / s                        (exact, the base kind's closed form),
//   dz_q/ds = (|v_q|^2 - v_q . (dD/dy) v_q) / s         (Hutchinson, probe v_q fixed per sample),
// so that log p(y(s_min); s_min) = log p(y(s_max); s_max) + z(s_max) - z(s_min). The kind writes
// these as a denoiser output D_z = z - (divergence numerator), which turns the canonical form
// (z - D_z) / s into the right-hand side above; solvers see one more coordinate per z.
// The base kind provides denoise_trace (D and tr dD/dy of one sample) and, with probes,
// jacobian_quadratic (v . (dD/dy) v); other kinds are refused on the host (likelihood.cpp).
#pragma once

#include <cstdint>

#include "compat/kokkos_compat.hpp"
#include "model/counter_rng.hpp"
#include "model/pack.hpp"

namespace pfode::likelihood {

enum class Probe { rademacher, gaussian };

// Stream of the counter generator (model/counter_rng.hpp) that probe q draws from: streams 0-2
// are the start states', the component choice's and the random mixtures'.
inline constexpr std::uint32_t probe_stream_base = 16;

// Coordinate j of probe q of a sample, from (seed, sample, coordinate, stream): the same at every
// evaluation along the sample's trajectory, on every backend and batch split.
KOKKOS_INLINE_FUNCTION double probe_value(Probe kind, std::uint64_t seed, int sample, int q, int j) {
  const std::uint32_t stream = probe_stream_base + static_cast<std::uint32_t>(q);
  if (kind == Probe::gaussian)
    return model::counter_normal(seed, static_cast<std::uint32_t>(sample), static_cast<std::uint32_t>(j), stream);
  double u1, u2;
  model::counter_uniform2(seed, static_cast<std::uint32_t>(sample), static_cast<std::uint32_t>(j), stream, u1, u2);
  return u1 < 0.5 ? -1.0 : 1.0;
}

template <class Base>
struct LikelihoodFlow {
  Base base;
  int probes = 0;  // Hutchinson coordinates after the exact one
  Probe probe = Probe::rademacher;
  std::uint64_t seed = 0;

  KOKKOS_INLINE_FUNCTION int data_dimension() const { return base.dimension(); }
  KOKKOS_INLINE_FUNCTION int dimension() const { return base.dimension() + 1 + probes; }
  KOKKOS_INLINE_FUNCTION int s_scratch_size() const { return 0; }
  KOKKOS_INLINE_FUNCTION int value_scratch_size() const { return 0; }
  KOKKOS_INLINE_FUNCTION int team_scratch_size() const { return 0; }
  KOKKOS_INLINE_FUNCTION int thread_scratch_size() const { return 0; }

  // The augmented output of one sample: D(y) into out(0..d-1), D_z into out(d..).
  template <class In, class Out>
  KOKKOS_INLINE_FUNCTION void denoise_sample(int sample, const In& y, double s, const Out& out) const {
    const int d = data_dimension();
    const double trace = base.denoise_trace(y, s, out);
    out(d) = y(d) - (d - trace);
    for (int q = 0; q < probes; ++q) {
      const auto v = [&](int j) { return probe_value(probe, seed, sample, q, j); };
      double norm2 = 0.0;
      for (int j = 0; j < d; ++j) norm2 += v(j) * v(j);
      out(d + 1 + q) = y(d + 1 + q) - (norm2 - base.jacobian_quadratic(y, s, out, v));
    }
  }

  template <int W, class Samples, class In, class S, class Out, class Scratch, class Values>
  KOKKOS_INLINE_FUNCTION void denoise(const Samples& samples, const In& y, const S& s, const Out& out, const Scratch&,
                                      const Values&) const {
    for (int w = 0; w < W; ++w)
      denoise_sample(
          samples(w), [&](int j) { return y(j)[w]; }, of_sample(s, w), [&](int j) -> double& { return out(j)[w]; });
  }

  // One thread of the team evaluates its sample serially (the likelihood runs in packs; this keeps
  // the team layout correct, not fast).
  template <class Member, class In, class Out, class Scratch>
  KOKKOS_INLINE_FUNCTION void denoise_team(const Member& team, int sample, const In& y, double s, const Out& out, bool,
                                           const Scratch&, const Scratch&) const {
    Kokkos::single(Kokkos::PerThread(team), [&]() { denoise_sample(sample, y, s, out); });
  }

  KOKKOS_FORCEINLINE_FUNCTION static double of_sample(double x, int) { return x; }
  template <int W>
  KOKKOS_FORCEINLINE_FUNCTION static double of_sample(const model::Pack<W>& x, int w) {
    return x[w];
  }
};

}  // namespace pfode::likelihood
