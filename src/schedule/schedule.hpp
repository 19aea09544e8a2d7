// Noise schedules: x_t = alpha_t x_0 + sigma_t n on t in [t_min, t_max].
// Each gives alpha, sigma, the half log-SNR lambda = log(alpha/sigma), its inverse t(lambda),
// f = d log alpha/dt and g^2 = -2 sigma^2 dlambda/dt (DESIGN.md section 1), all callable on the
// device. A schedule is plain data (a kind, two parameters and, for the discrete DDPM schedules,
// their table of log alpha), so kernels take it by value.
#pragma once

#include "compat/kokkos_compat.hpp"

namespace pfode::schedule {

enum class Kind {
  vp_linear,  // beta(t) = beta_min + t (beta_max - beta_min)          (Song et al. 2021)
  vp_cosine,  // alpha^2 = cos^2((t+s)/(1+s) pi/2) / cos^2(s/(1+s) pi/2) (Nichol & Dhariwal 2021)
  ve,         // alpha = 1, sigma = sigma_min (sigma_max/sigma_min)^t  (Song et al. 2021)
  edm,        // alpha = 1, sigma = t                                   (Karras et al. 2022)
  flow,       // alpha = 1 - t, sigma = t                               (rectified flow / flow matching)
  // Discrete-time DDPM (Ho et al. 2020) over N training timesteps n = 0..N-1 with
  // alpha_n^2 = prod_{i<=n} (1 - beta_i); as the official DPM-Solver's NoiseScheduleVP("discrete"),
  // timestep n is t_n = (n + 1)/N and log alpha is piecewise linear in t between them.
  ddpm_linear,         // beta_i linear from beta_start to beta_end (DDPM: 1e-4 .. 0.02)
  ddpm_scaled_linear,  // sqrt(beta_i) linear (Stable Diffusion: 0.00085 .. 0.012)
};

// log alpha at the training timesteps of a discrete schedule (decreasing), as host-built data.
inline constexpr int max_discrete_timesteps = 1000;
struct DiscreteTable {
  int n = 0;  // training timesteps N
  double log_alpha[max_discrete_timesteps] = {};
};

struct Schedule {
  Kind kind = Kind::vp_linear;
  double t_min = 1e-3, t_max = 1.0;
  // vp_linear: beta_min, beta_max; vp_cosine: s (p1 unused); ve: sigma_min, sigma_max;
  // ddpm_*: beta_start, beta_end (the table holds what they give).
  double p0 = 0.1, p1 = 20.0;
  DiscreteTable table;

  KOKKOS_INLINE_FUNCTION bool discrete() const { return kind == Kind::ddpm_linear || kind == Kind::ddpm_scaled_linear; }

  KOKKOS_INLINE_FUNCTION double log_alpha(double t) const {
    switch (kind) {
      case Kind::ddpm_linear:
      case Kind::ddpm_scaled_linear: {
        // Linear through the knots (n + 1)/N, extended linearly beyond the first and last.
        const double x = t * table.n - 1.0;
        const int k = segment(x);
        return table.log_alpha[k] + (x - k) * (table.log_alpha[k + 1] - table.log_alpha[k]);
      }
      case Kind::vp_linear: return -0.25 * t * t * (p1 - p0) - 0.5 * t * p0;
      case Kind::vp_cosine: {
        // log(cos b / cos a) = log1p((cos b - cos a) / cos a) with the difference written as a
        // product of sines: no cancellation near t = 0, where sigma is small.
        const double a = cosine_angle(0.0), half_b_minus_a = 0.25 * math::pi * t / (1.0 + p0);
        return math::log1p(-2.0 * math::sin(a + half_b_minus_a) * math::sin(half_b_minus_a) / math::cos(a));
      }
      case Kind::flow: return math::log1p(-t);
      default: return 0.0;
    }
  }
  KOKKOS_INLINE_FUNCTION double alpha(double t) const { return math::exp(log_alpha(t)); }

  KOKKOS_INLINE_FUNCTION double sigma(double t) const {
    switch (kind) {
      case Kind::vp_linear:
      case Kind::vp_cosine:
      case Kind::ddpm_linear:
      case Kind::ddpm_scaled_linear: return math::sqrt(-math::expm1(2.0 * log_alpha(t)));
      case Kind::ve: return p0 * math::exp(t * math::log(p1 / p0));
      default: return t;  // edm, flow
    }
  }

  KOKKOS_INLINE_FUNCTION double lambda(double t) const {
    switch (kind) {
      case Kind::vp_linear:
      case Kind::vp_cosine:
      case Kind::ddpm_linear:
      case Kind::ddpm_scaled_linear: {
        const double la = log_alpha(t);
        return la - 0.5 * math::log(-math::expm1(2.0 * la));
      }
      case Kind::ve: return -(math::log(p0) + t * math::log(p1 / p0));
      case Kind::edm: return -math::log(t);
      default: return math::log1p(-t) - math::log(t);  // flow
    }
  }

  // s = sigma/alpha = exp(-lambda): the time of the canonical ODE.
  KOKKOS_INLINE_FUNCTION double s(double t) const { return math::exp(-lambda(t)); }

  KOKKOS_INLINE_FUNCTION double t_of_lambda(double lam) const {
    switch (kind) {
      case Kind::vp_linear: {
        // log alpha = -softplus(-2 lambda)/2; solve the quadratic in t in its cancellation-free form.
        const double l = math::softplus(-2.0 * lam);
        return 2.0 * l / (p0 + math::sqrt(p0 * p0 + 2.0 * (p1 - p0) * l));
      }
      case Kind::vp_cosine: {
        // The angle b with cos b = x = alpha cos a, as atan2(sqrt((1 - x)(1 + x)), x) where
        // 1 - x = 2 sin^2(a/2) - cos a expm1(log alpha) has no cancellation (acos near 1 would).
        const double la = -0.5 * math::softplus(-2.0 * lam), a = cosine_angle(0.0);
        const double x = math::exp(la) * math::cos(a), sin_half = math::sin(0.5 * a);
        const double one_minus_x = 2.0 * sin_half * sin_half - math::cos(a) * math::expm1(la);
        const double angle = math::atan2(math::sqrt(one_minus_x * (1.0 + x)), x);
        return angle * 2.0 * (1.0 + p0) / math::pi - p0;
      }
      case Kind::ve: return (-lam - math::log(p0)) / math::log(p1 / p0);
      case Kind::edm: return math::exp(-lam);
      case Kind::ddpm_linear:
      case Kind::ddpm_scaled_linear: {
        // log alpha from lambda (as for VP), then the segment of the decreasing table holding it
        // (bisection) and the linear piece inverted: the exact inverse of log_alpha above.
        const double la = -0.5 * math::softplus(-2.0 * lam);
        int lo = 0, hi = table.n - 1;  // table.log_alpha[lo] >= la >= table.log_alpha[hi] once bracketed
        while (hi - lo > 1) {
          const int mid = (lo + hi) / 2;
          (table.log_alpha[mid] >= la ? lo : hi) = mid;
        }
        const double w = (la - table.log_alpha[lo]) / (table.log_alpha[lo + 1] - table.log_alpha[lo]);
        return (lo + 1 + w) / table.n;
      }
      default: return 1.0 / (1.0 + math::exp(lam));  // flow: t = sigmoid(-lambda)
    }
  }

  // f = d log alpha / dt.
  KOKKOS_INLINE_FUNCTION double f(double t) const {
    switch (kind) {
      case Kind::vp_linear: return -0.5 * (p0 + t * (p1 - p0));
      case Kind::vp_cosine: return -math::tan(cosine_angle(t)) * 0.5 * math::pi / (1.0 + p0);
      case Kind::flow: return -1.0 / (1.0 - t);
      case Kind::ddpm_linear:
      case Kind::ddpm_scaled_linear: {
        // The slope of the piece holding t (at a knot, the later piece's).
        const int k = segment(t * table.n - 1.0);
        return (table.log_alpha[k + 1] - table.log_alpha[k]) * table.n;
      }
      default: return 0.0;
    }
  }

  KOKKOS_INLINE_FUNCTION double dlambda_dt(double t) const {
    switch (kind) {
      case Kind::vp_linear:
      case Kind::vp_cosine:
      case Kind::ddpm_linear:
      case Kind::ddpm_scaled_linear: {
        // lambda = log alpha - log(1 - alpha^2)/2  =>  dlambda/dt = f / sigma^2.
        const double sig = sigma(t);
        return f(t) / (sig * sig);
      }
      case Kind::ve: return -math::log(p1 / p0);
      case Kind::edm: return -1.0 / t;
      default: return -1.0 / (t * (1.0 - t));  // flow
    }
  }

  KOKKOS_INLINE_FUNCTION double dlog_sigma_dt(double t) const { return f(t) - dlambda_dt(t); }

  KOKKOS_INLINE_FUNCTION double g2(double t) const {
    const double sig = sigma(t);
    return -2.0 * sig * sig * dlambda_dt(t);
  }

 private:
  KOKKOS_INLINE_FUNCTION double cosine_angle(double t) const {
    return (t + p0) / (1.0 + p0) * 0.5 * math::pi;
  }
  // The piece k (between knots k and k + 1) of a discrete schedule holding knot coordinate x.
  KOKKOS_INLINE_FUNCTION int segment(double x) const {
    const int k = static_cast<int>(math::floor(x));
    return k < 0 ? 0 : k > table.n - 2 ? table.n - 2 : k;
  }
};

}  // namespace pfode::schedule
