// Exact denoiser of a diagonal Gaussian mixture sum_k w_k N(mu_k, diag(c_k^2)) (DESIGN.md section 1):
//   D(y, s) = sum_k r_k(y, s) [mu_k + c_k^2 / (c_k^2 + s^2) (y - mu_k)],
// with responsibilities r_k from a streaming log-sum-exp, so no scratch memory is needed per sample.
// One component is the Gaussian, which also has the closed-form PF-ODE solution below.
#pragma once

#include "compat/kokkos_compat.hpp"

namespace pfode::model {

struct DiagonalMixture {
  Kokkos::View<const double*> log_weights;  // K
  Kokkos::View<const double**> means;       // K x dim
  Kokkos::View<const double**> variances;   // K x dim (c_k^2)
  int components = 0;
  int dim = 0;

  // Writes D(y, s) through out(j); y(j) reads the input coordinates. out must not alias y.
  template <class In, class Out>
  KOKKOS_INLINE_FUNCTION void denoise(const In& y, double s, const Out& out) const {
    const double s2 = s * s;
    if (components == 1) {
      for (int j = 0; j < dim; ++j) {
        const double c2 = variances(0, j);
        out(j) = means(0, j) + c2 / (c2 + s2) * (y(j) - means(0, j));
      }
      return;
    }
    double running_max = 0.0, normaliser = 0.0;
    for (int k = 0; k < components; ++k) {
      double log_r = log_weights(k);
      for (int j = 0; j < dim; ++j) {
        const double v = variances(k, j) + s2;
        const double diff = y(j) - means(k, j);
        log_r -= 0.5 * (diff * diff / v + math::log(v));
      }
      if (k == 0) {
        running_max = log_r;
        normaliser = 1.0;
        for (int j = 0; j < dim; ++j) out(j) = posterior_mean(k, j, y(j), s2);
        continue;
      }
      // Weights relative to the largest log-responsibility seen so far; what was accumulated
      // is rescaled when a larger one appears, so no exponential overflows.
      double carried = 1.0, fresh = 1.0;
      if (log_r > running_max) {
        carried = math::exp(running_max - log_r);
        running_max = log_r;
      } else {
        fresh = math::exp(log_r - running_max);
      }
      normaliser = normaliser * carried + fresh;
      for (int j = 0; j < dim; ++j) out(j) = out(j) * carried + fresh * posterior_mean(k, j, y(j), s2);
    }
    const double inv = 1.0 / normaliser;
    for (int j = 0; j < dim; ++j) out(j) *= inv;
  }

  // Closed-form canonical PF-ODE flow of a Gaussian (components == 1):
  //   y_j(s) - mu_j = (y_j(s0) - mu_j) sqrt((c_j^2 + s^2) / (c_j^2 + s0^2)).
  KOKKOS_INLINE_FUNCTION double gaussian_flow(int j, double y0, double s0, double s) const {
    const double c2 = variances(0, j);
    return means(0, j) + (y0 - means(0, j)) * math::sqrt((c2 + s * s) / (c2 + s0 * s0));
  }

 private:
  KOKKOS_INLINE_FUNCTION double posterior_mean(int k, int j, double yj, double s2) const {
    const double c2 = variances(k, j);
    return means(k, j) + c2 / (c2 + s2) * (yj - means(k, j));
  }
};

// The interchangeable predictions of DESIGN.md for a state x at (alpha, sigma), given x0 = D(x/alpha, s).
KOKKOS_INLINE_FUNCTION double eps_from_x0(double x, double x0, double alpha, double sigma) {
  return (x - alpha * x0) / sigma;
}
KOKKOS_INLINE_FUNCTION double score_from_x0(double x, double x0, double alpha, double sigma) {
  return -eps_from_x0(x, x0, alpha, sigma) / sigma;
}
KOKKOS_INLINE_FUNCTION double v_from_x0(double x, double x0, double alpha, double sigma) {
  return alpha * eps_from_x0(x, x0, alpha, sigma) - sigma * x0;
}

}  // namespace pfode::model
