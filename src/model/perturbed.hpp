// An imperfect denoiser with a controlled error (DESIGN.md section 4): an exact model's D plus
//   D_m(y, s) = D(y, s) + eps(s) e(u),   u = c_in(s) y = y / sqrt(1 + s^2),
// e(u) = b + sum_f a_f cos(omega_f . u + phi_f), a constant bias b or random Fourier features
// (smooth, drawn from the counter generator on the host: model/model_spec.cpp), and a size
// profile eps(s): constant, a power of s, or concentrated at low or high noise. It stands for a
// learned network's error, so that a sampler's error can be split into the solver's and the
// model's. Like a network, the field sees the normalised input u (EDM's c_in with sigma_data = 1,
// model/network.hpp), of size ~1 at every s: evaluated at y, whose size grows like s, it would
// oscillate along the flow at large s and take the fixed-step solvers out of their asymptotic range.
// eps = 0 returns the exact model's bits. F features cost 4 F dim FLOPs and F cosines per
// evaluation on top of the exact model.
// A device model kind (model/concept.hpp), one per exact kind (model/kinds.hpp); no per-sample data.
#pragma once

#include "compat/kokkos_compat.hpp"
#include "model/mixture.hpp"

namespace pfode::model {

// eps(s): constant, size s^exponent (power), size scale^2/(scale^2 + s^2) (low-noise: the error
// where s << scale), size s^2/(scale^2 + s^2) (high-noise: where s >> scale).
struct ErrorProfile {
  enum Kind { constant, power, low_noise, high_noise };
  int kind = constant;
  double size = 0, exponent = 0, scale = 1;

  KOKKOS_INLINE_FUNCTION double operator()(double s) const {
    switch (kind) {
      case power: return size * math::pow(s, exponent);
      case low_noise: return size * (scale * scale / (scale * scale + s * s));
      case high_noise: return size * (s * s / (scale * scale + s * s));
      default: return size;
    }
  }
};

template <class Exact>
struct Perturbed {
  Exact exact;
  ErrorProfile profile;
  Kokkos::View<const double*> bias;                                    // dim
  Kokkos::View<const double**, Kokkos::LayoutRight> frequencies;       // F x dim (omega_f)
  Kokkos::View<const double**, Kokkos::LayoutRight> amplitudes;        // F x dim (a_f)
  Kokkos::View<const double*> phases;                                  // F (phi_f)
  int features = 0;

  KOKKOS_INLINE_FUNCTION int dimension() const { return exact.dimension(); }
  KOKKOS_INLINE_FUNCTION int s_scratch_size() const { return exact.s_scratch_size(); }
  KOKKOS_INLINE_FUNCTION int value_scratch_size() const { return exact.value_scratch_size(); }
  KOKKOS_INLINE_FUNCTION int team_scratch_size() const { return exact.team_scratch_size(); }
  KOKKOS_INLINE_FUNCTION int thread_scratch_size() const { return exact.thread_scratch_size(); }

  // c_in(s) = 1 / sqrt(1 + s^2): the field's input is c_in y.
  KOKKOS_INLINE_FUNCTION static double input_scale(double s) { return 1.0 / math::sqrt(1.0 + s * s); }

  // The exact model's D, then eps(s) e(u) added coordinate by coordinate: the bias first, then
  // feature by feature (omega_f . y summed over coordinates in order, then c_in omega_f . y + phi_f
  // in one fma), as denoise_team.
  template <int W, class Samples, class In, class S, class Out, class Scratch, class Values>
  KOKKOS_INLINE_FUNCTION void denoise(const Samples& samples, const In& y, const S& s, const Out& out,
                                      const Scratch& scratch, const Values& values) const {
    exact.template denoise<W>(samples, y, s, out, scratch, values);
    if (profile.size == 0.0) return;
    const int dim = exact.dimension();
    double eps[W], c_in[W], ov[W], yv[W], phase[W];
    for (int w = 0; w < W; ++w) eps[w] = profile(DiagonalMixture::of_sample(s, w));
    for (int w = 0; w < W; ++w) c_in[w] = input_scale(DiagonalMixture::of_sample(s, w));
    for (int j = 0; j < dim; ++j) {
      const double b = bias(j);
      for (int w = 0; w < W; ++w) ov[w] = out(j)[w];
      for (int w = 0; w < W; ++w) ov[w] = math::fma(eps[w], b, ov[w]);
      for (int w = 0; w < W; ++w) out(j)[w] = ov[w];
    }
    for (int f = 0; f < features; ++f) {
      for (int w = 0; w < W; ++w) phase[w] = 0.0;
      for (int j = 0; j < dim; ++j) {
        const double omega = frequencies(f, j);
        for (int w = 0; w < W; ++w) yv[w] = y(j)[w];
        for (int w = 0; w < W; ++w) phase[w] = math::fma(omega, yv[w], phase[w]);
      }
      for (int w = 0; w < W; ++w) phase[w] = eps[w] * math::cos(math::fma(c_in[w], phase[w], phases(f)));
      for (int j = 0; j < dim; ++j) {
        const double a = amplitudes(f, j);
        for (int w = 0; w < W; ++w) ov[w] = out(j)[w];
        for (int w = 0; w < W; ++w) ov[w] = math::fma(a, phase[w], ov[w]);
        for (int w = 0; w < W; ++w) out(j)[w] = ov[w];
      }
    }
  }

  template <class Member, class In, class Out, class Scratch>
  KOKKOS_INLINE_FUNCTION void denoise_team(const Member& team, int sample, const In& y, double s, const Out& out,
                                           bool team_s, const Scratch& team_scratch,
                                           const Scratch& thread_scratch) const {
    exact.denoise_team(team, sample, y, s, out, team_s, team_scratch, thread_scratch);
    if (profile.size == 0.0) return;
    const auto coordinates = Kokkos::ThreadVectorRange(team, exact.dimension());
    const double eps = profile(s), c_in = input_scale(s);
    Kokkos::parallel_for(coordinates, [&](int i) { out(i) = math::fma(eps, bias(i), out(i)); });
    for (int f = 0; f < features; ++f) {
      double phase = 0.0;
      Kokkos::parallel_reduce(
          coordinates, [&](int i, double& partial) { partial = math::fma(frequencies(f, i), y(i), partial); }, phase);
      const double c = eps * math::cos(math::fma(c_in, phase, phases(f)));
      Kokkos::parallel_for(coordinates, [&](int i) { out(i) = math::fma(amplitudes(f, i), c, out(i)); });
    }
  }
};

}  // namespace pfode::model
