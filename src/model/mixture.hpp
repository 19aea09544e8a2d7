// Exact denoiser of a diagonal Gaussian mixture sum_k w_k N(mu_k, diag(c_k^2)) (DESIGN.md section 1):
//   D(y, s) = sum_k r_k(y, s) [mu_k + c_k^2 / (c_k^2 + s^2) (y - mu_k)],
// with responsibilities r_k from a streaming log-sum-exp, so no scratch memory is needed per sample.
// One component is the Gaussian, which also has the closed-form PF-ODE solution below.
// Cost (the inner loop of every sweep): per (component, coordinate) two divisions and ~11 FLOPs;
// the log-determinant takes one log per log_chunk coordinates (of the product of their variances)
// instead of one per coordinate, which halved the time of a 16-D, 8-component evaluation.
// (Computing a chunk's reciprocals from one division by prefix products was tried: slower, the
// multiply chain is latency-bound.)
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
      const double log_r = log_weights(k) - 0.5 * log_gauss_terms(y, s2, k);
      if (k == 0) {
        running_max = log_r;
        normaliser = 1.0;
        accumulate_mean(y, s2, k, 0.0, 1.0, true, out);
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
      if (fresh == 0.0) continue;  // exp underflowed (carried is 1): adding 0 * mean changes nothing
      normaliser = normaliser * carried + fresh;
      accumulate_mean(y, s2, k, carried, fresh, false, out);
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
  static constexpr int log_chunk = 16;

  // sum_j [(y_j - mu_kj)^2 / v_kj + log v_kj] with v_kj = c_kj^2 + s^2. The log-determinant takes
  // the log of a product of log_chunk variances; the product stays a normal double while the
  // variances lie within ~1e-19 < v < 1e19 (s < 3e9, c > 3e-10); otherwise that chunk falls back
  // to one log per coordinate, so the result is the same to rounding either way.
  template <class In>
  KOKKOS_INLINE_FUNCTION double log_gauss_terms(const In& y, double s2, int k) const {
    double quad = 0.0, log_det = 0.0;
    int j0 = 0;
    for (; j0 + log_chunk <= dim; j0 += log_chunk) {
      double v[log_chunk], q[log_chunk];
      for (int c = 0; c < log_chunk; ++c) {
        v[c] = variances(k, j0 + c) + s2;
        const double diff = y(j0 + c) - means(k, j0 + c);
        q[c] = diff * diff / v[c];
      }
      for (int w = log_chunk / 2; w > 0; w /= 2)  // pairwise: no long dependency chain
        for (int c = 0; c < w; ++c) {
          v[c] *= v[c + w];
          q[c] += q[c + w];
        }
      quad += q[0];
      log_det += chunk_log(v[0], k, j0, j0 + log_chunk, s2);
    }
    if (j0 < dim) {
      double prod = 1.0;
      for (int j = j0; j < dim; ++j) {
        const double v = variances(k, j) + s2;
        const double diff = y(j) - means(k, j);
        quad += diff * diff / v;
        prod *= v;
      }
      log_det += chunk_log(prod, k, j0, dim, s2);
    }
    return quad + log_det;
  }

  KOKKOS_INLINE_FUNCTION double chunk_log(double prod, int k, int j0, int j1, double s2) const {
    if (prod > 2.2250738585072014e-308 && prod < 1.7976931348623157e308) return math::log(prod);
    double sum = 0.0;  // also propagates a NaN
    for (int j = j0; j < j1; ++j) sum += math::log(variances(k, j) + s2);
    return sum;
  }

  // out <- out * carried + fresh * m_k (or out <- m_k when first), m_k the posterior mean of k.
  template <class In, class Out>
  KOKKOS_INLINE_FUNCTION void accumulate_mean(const In& y, double s2, int k, double carried, double fresh,
                                              bool first, const Out& out) const {
    if (first) {
      for (int j = 0; j < dim; ++j) out(j) = posterior_mean(k, j, y(j), s2);
    } else {
      for (int j = 0; j < dim; ++j) out(j) = out(j) * carried + fresh * posterior_mean(k, j, y(j), s2);
    }
  }

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
