// Exact denoiser of a diagonal Gaussian mixture sum_k w_k N(mu_k, diag(c_k^2)) (DESIGN.md section 1):
//   D(y, s) = sum_k r_k(y, s) [mu_k + c_k^2 / (c_k^2 + s^2) (y - mu_k)],
// with responsibilities r_k from a streaming log-sum-exp, so no scratch memory per component.
// One component is the Gaussian, which also has the closed-form PF-ODE solution below.
// It evaluates a pack of W samples (model/pack.hpp), vectorised over W. When they share one s, the
// terms that depend on s only -- 1/(c_kj^2 + s^2) and the log-determinant -- are computed once per
// pack and component, so the per-sample work is 9 FLOPs per (component, coordinate), without
// divisions; with one s per sample (adaptive step control) they are computed per sample.
// denoise_team is the hierarchical form for large dimensions: a team of threads (one sample each)
// shares the s-only terms, and each thread spreads its sample's coordinates over vector lanes.
// A device model kind (model/concept.hpp); it keeps no per-sample data.
#pragma once

#include <type_traits>

#include "compat/kokkos_compat.hpp"
#include "model/pack.hpp"
#include "model/vector_math.hpp"

namespace pfode::model {

struct DiagonalMixture {
  // K x dim with the coordinate contiguous on every backend: the team layout's vector lanes read
  // neighbouring coordinates of one component (one thread per sample reads one value at a time).
  using Parameters = Kokkos::View<const double**, Kokkos::LayoutRight>;
  Kokkos::View<const double*> log_weights;  // K
  Parameters means;                         // K x dim
  Parameters variances;                     // K x dim (c_k^2)
  int components = 0;
  int dim = 0;

  KOKKOS_INLINE_FUNCTION int dimension() const { return dim; }
  // Scratch of denoise (terms of s per pack), and of denoise_team (doubles per team and per
  // thread): the inverse variances of one component, and the logs of its chunks of variances.
  KOKKOS_INLINE_FUNCTION int s_scratch_size() const { return dim; }
  KOKKOS_INLINE_FUNCTION int value_scratch_size() const { return 0; }
  KOKKOS_INLINE_FUNCTION int team_scratch_size() const { return dim + chunks(); }
  KOKKOS_INLINE_FUNCTION int thread_scratch_size() const { return dim; }

  // Writes D(y, s) of W samples through out(j) (a Pack<W>&); y(j) reads their input coordinates
  // (a Pack<W>). s is one double shared by the pack (fixed-grid solvers: the s-only terms are
  // computed once per pack) or a Pack<W> with each sample's own s (per-sample step control);
  // scratch(j) is a double& or a Pack<W>& to match. out must not alias y or scratch. Neither the
  // sample indices nor per-sample scratch values are needed: every sample sees the same mixture.
  // Each sample's arithmetic is the same whether s is shared or its own, and whatever W is.
  template <int W, class Samples, class In, class S, class Out, class Scratch, class Values>
  KOKKOS_INLINE_FUNCTION void denoise(const Samples&, const In& y, const S& s, const Out& out, const Scratch& scratch,
                                      const Values&) const {
    const S s2 = s * s;
    // Values pass through local arrays filled and drained by loops over w: the compiler then knows
    // nothing aliases, keeps them in vector registers and never mixes scalar and vector accesses.
    double yv[W], ov[W];
    if (components == 1) {
      for (int j = 0; j < dim; ++j) {
        const S inv = 1.0 / (variances(0, j) + s2);
        const S shrink = variances(0, j) * inv, offset = means(0, j) * s2 * inv;
        for (int w = 0; w < W; ++w) yv[w] = y(j)[w];
        for (int w = 0; w < W; ++w) ov[w] = math::fma(of_sample(shrink, w), yv[w], of_sample(offset, w));
        for (int w = 0; w < W; ++w) out(j)[w] = ov[w];
      }
      return;
    }
    double running_max[W], normaliser[W], carried[W], fresh[W];
    for (int k = 0; k < components; ++k) {
      double log_det[W];
      s_terms<W>(k, s2, scratch, log_det);
      double quad[W];
      for (int w = 0; w < W; ++w) quad[w] = 0.0;
      for (int j = 0; j < dim; ++j) {
        const double mu = means(k, j);
        const S iv = scratch(j);
        for (int w = 0; w < W; ++w) yv[w] = y(j)[w];
        for (int w = 0; w < W; ++w) {
          const double d = yv[w] - mu;
          quad[w] = math::fma(d * of_sample(iv, w), d, quad[w]);
        }
      }
      responsibility_step<W>(k, quad, log_det, log_weights(k), running_max, normaliser, carried, fresh);
      for (int j = 0; j < dim; ++j) {
        // The component's posterior mean mu + c^2/v (y - mu) = shrink y + offset, one fma.
        const S shrink = variances(k, j) * scratch(j), offset = means(k, j) * s2 * scratch(j);
        for (int w = 0; w < W; ++w) yv[w] = y(j)[w];
        if (k == 0) {
          for (int w = 0; w < W; ++w) ov[w] = math::fma(of_sample(shrink, w), yv[w], of_sample(offset, w));
        } else {
          for (int w = 0; w < W; ++w) ov[w] = out(j)[w];
          for (int w = 0; w < W; ++w)
            ov[w] = math::fma(ov[w], carried[w],
                              fresh[w] * math::fma(of_sample(shrink, w), yv[w], of_sample(offset, w)));
        }
        for (int w = 0; w < W; ++w) out(j)[w] = ov[w];
      }
    }
    double inv[W];
    for (int w = 0; w < W; ++w) inv[w] = 1.0 / normaliser[w];
    for (int j = 0; j < dim; ++j) {
      for (int w = 0; w < W; ++w) ov[w] = out(j)[w];
      for (int w = 0; w < W; ++w) out(j)[w] = ov[w] * inv[w];
    }
  }

  // D(y, s) of the sample of each thread of a team, with the thread's coordinates over its vector
  // lanes. y(j) and out(j) are the calling thread's doubles. With team_s every thread of the team
  // calls it together at the same s (fixed-grid solvers): the team computes the s-only terms once
  // into team_scratch, the inverse variances (dim) then the chunk logs (chunks()). Otherwise each
  // thread has its own s (per-sample step control) and its inverse variances in thread_scratch; no
  // barriers. The per-coordinate arithmetic is denoise's; only the order in which sums over
  // coordinates run over vector lanes may differ (on host backends, whose vector loops run in
  // order, it is denoise's).
  template <class Member, class In, class Out, class Scratch>
  KOKKOS_INLINE_FUNCTION void denoise_team(const Member& team, int /*sample*/, const In& y, double s, const Out& out,
                                           bool team_s, const Scratch& team_scratch,
                                           const Scratch& thread_scratch) const {
    const Scratch& inverse_variance = team_s ? team_scratch : thread_scratch;
    const auto chunk_logs = [&](int c) -> double& { return team_scratch(dim + c); };
    const double s2 = s * s;
    const auto coordinates = Kokkos::ThreadVectorRange(team, dim);
    if (components == 1) {
      Kokkos::parallel_for(coordinates, [&](int j) {
        const double inv = 1.0 / (variances(0, j) + s2);
        const double shrink = variances(0, j) * inv, offset = means(0, j) * s2 * inv;
        out(j) = math::fma(shrink, y(j), offset);
      });
      return;
    }
    double running_max = 0.0, normaliser = 0.0;
    for (int k = 0; k < components; ++k) {
      const auto log_of_chunk = [&](int c) {
        const int j0 = c * log_chunk, n = dim - j0 < log_chunk ? dim - j0 : log_chunk;
        double v[log_chunk];
        for (int i = 0; i < n; ++i) v[i] = variances(k, j0 + i) + s2;
        return chunk_log(pairwise_product(v, n), k, j0, j0 + n, s2);
      };
      double log_det = 0.0;
      if (team_s) {
        team.team_barrier();  // every thread is done with the previous component's terms
        Kokkos::parallel_for(Kokkos::TeamVectorRange(team, dim),
                             [&](int j) { inverse_variance(j) = 1.0 / (variances(k, j) + s2); });
        Kokkos::parallel_for(Kokkos::TeamVectorRange(team, chunks()), [&](int c) { chunk_logs(c) = log_of_chunk(c); });
        team.team_barrier();
        for (int c = 0; c < chunks(); ++c) log_det += chunk_logs(c);
      } else {  // each lane reads back only the inverse variances it wrote
        Kokkos::parallel_for(coordinates, [&](int j) { inverse_variance(j) = 1.0 / (variances(k, j) + s2); });
        Kokkos::parallel_reduce(
            Kokkos::ThreadVectorRange(team, chunks()), [&](int c, double& partial) { partial += log_of_chunk(c); },
            log_det);
      }
      double quad = 0.0;
      Kokkos::parallel_reduce(
          coordinates,
          [&](int j, double& partial) {
            const double d = y(j) - means(k, j);
            partial = math::fma(d * inverse_variance(j), d, partial);
          },
          quad);
      const double log_r = log_responsibility(quad, log_det, log_weights(k));
      double carried = 1.0, fresh = 1.0;
      if (k == 0) {
        running_max = log_r;
        normaliser = 1.0;
      } else {
        absorb(log_r, exp_nonpositive(-math::fabs(log_r - running_max)), running_max, normaliser, carried, fresh);
      }
      Kokkos::parallel_for(coordinates, [&](int j) {
        const double shrink = variances(k, j) * inverse_variance(j), offset = means(k, j) * s2 * inverse_variance(j);
        const double mean = math::fma(shrink, y(j), offset);
        out(j) = k == 0 ? mean : math::fma(out(j), carried, fresh * mean);
      });
    }
    const double inv = 1.0 / normaliser;
    Kokkos::parallel_for(coordinates, [&](int j) { out(j) = out(j) * inv; });
  }

  // Chunks of log_chunk variances whose product gives one log of the log-determinant.
  KOKKOS_INLINE_FUNCTION int chunks() const { return (dim + log_chunk - 1) / log_chunk; }

  // Closed-form canonical PF-ODE flow of a Gaussian (components == 1):
  //   y_j(s) - mu_j = (y_j(s0) - mu_j) sqrt((c_j^2 + s^2) / (c_j^2 + s0^2)).
  KOKKOS_INLINE_FUNCTION double gaussian_flow(int j, double y0, double s0, double s) const {
    const double c2 = variances(0, j);
    return means(0, j) + (y0 - means(0, j)) * math::sqrt((c2 + s * s) / (c2 + s0 * s0));
  }

  // Closed forms for the likelihood (likelihood/), one sample at a time (y(j) reads its coordinate
  // j): log p(y; s) = log sum_k w_k N(y; mu_k, diag(c_k^2) + s^2 I), and D(y, s) together with the
  // trace of its Jacobian (DESIGN.md section 4), with A_k = c_k^2 / (c_k^2 + s^2) and
  // g_k = -(y - mu_k) / (c_k^2 + s^2): tr dD/dy = sum_k r_k tr A_k + sum_k r_k (m_k - D) . g_k.
  // Three plain passes over the components (normaliser, D, cross term), no scratch; not the
  // sampling kernels' path, which stays as it is.
  template <class In>
  KOKKOS_INLINE_FUNCTION double log_density(const In& y, double s) const {
    return log_normaliser(y, s * s) - 0.5 * dim * math::log(2.0 * math::pi);
  }

  template <class In, class Out>
  KOKKOS_INLINE_FUNCTION double denoise_trace(const In& y, double s, const Out& out) const {
    const double s2 = s * s, log_norm = log_normaliser(y, s2);
    for (int j = 0; j < dim; ++j) out(j) = 0.0;
    double trace = 0.0;
    for (int k = 0; k < components; ++k) {
      const double r = math::exp(log_component(k, y, s2) - log_norm);
      for (int j = 0; j < dim; ++j) {
        const double shrink = variances(k, j) / (variances(k, j) + s2);
        out(j) += r * (means(k, j) + shrink * (y(j) - means(k, j)));
        trace += r * shrink;
      }
    }
    for (int k = 0; k < components; ++k) {
      const double r = math::exp(log_component(k, y, s2) - log_norm);
      double cross = 0.0;
      for (int j = 0; j < dim; ++j) {
        const double inv = 1.0 / (variances(k, j) + s2), d = y(j) - means(k, j);
        cross -= (means(k, j) + variances(k, j) * inv * d - out(j)) * d * inv;
      }
      trace += r * cross;
    }
    return trace;
  }

  // v . (dD/dy) v given D(y, s) (Hutchinson's estimate of the trace for a probe v):
  // sum_k r_k [v . A_k v + (v . (m_k - D)) (g_k . v)].
  template <class In, class Den, class Probe>
  KOKKOS_INLINE_FUNCTION double jacobian_quadratic(const In& y, double s, const Den& denoised, const Probe& v) const {
    const double s2 = s * s, log_norm = log_normaliser(y, s2);
    double sum = 0.0;
    for (int k = 0; k < components; ++k) {
      double diagonal = 0.0, along_mean = 0.0, along_g = 0.0;
      for (int j = 0; j < dim; ++j) {
        const double inv = 1.0 / (variances(k, j) + s2), d = y(j) - means(k, j), vj = v(j);
        diagonal += vj * vj * variances(k, j) * inv;
        along_mean += vj * (means(k, j) + variances(k, j) * inv * d - denoised(j));
        along_g -= vj * d * inv;
      }
      sum += math::exp(log_component(k, y, s2) - log_norm) * (diagonal + along_mean * along_g);
    }
    return sum;
  }

  // log w_k + log N(y; mu_k, diag(c_k^2) + s^2 I) + dim log(2 pi) / 2, and its log-sum-exp over k.
  template <class In>
  KOKKOS_INLINE_FUNCTION double log_component(int k, const In& y, double s2) const {
    double quad = 0.0, log_det = 0.0;
    for (int j = 0; j < dim; ++j) {
      const double v = variances(k, j) + s2, d = y(j) - means(k, j);
      quad += d * d / v;
      log_det += math::log(v);
    }
    return log_responsibility(quad, log_det, log_weights(k));
  }
  template <class In>
  KOKKOS_INLINE_FUNCTION double log_normaliser(const In& y, double s2) const {
    double largest = log_component(0, y, s2), sum = 1.0;
    for (int k = 1; k < components; ++k) {
      const double l = log_component(k, y, s2);
      if (l > largest) {
        sum = sum * math::exp(largest - l) + 1.0;
        largest = l;
      } else {
        sum += math::exp(l - largest);
      }
    }
    return largest + math::log(sum);
  }

  // Building blocks of the mixture kinds. The full-covariance kind (model/full_covariance.hpp)
  // evaluates each component in its eigenbasis with them, so the two kinds round alike.
  static constexpr int log_chunk = 16;

  // Log of a component's unnormalised responsibility, log w_k - (quad + log det) / 2.
  KOKKOS_FORCEINLINE_FUNCTION static double log_responsibility(double quad, double log_det, double log_w) {
    return math::fma(-0.5, quad + log_det, log_w);
  }

  // One step of the streaming log-sum-exp, given e = exp(-|log_r - running_max|): weights stay
  // relative to the largest log-responsibility seen so far, and what was accumulated is rescaled
  // (by carried) when a larger one appears, so no exponential overflows. A NaN propagates.
  KOKKOS_FORCEINLINE_FUNCTION static void absorb(double log_r, double e, double& running_max, double& normaliser,
                                            double& carried, double& fresh) {
    const bool larger = log_r > running_max;
    carried = larger ? e : 1.0;
    fresh = larger ? 1.0 : e;
    running_max = larger ? log_r : running_max;
    normaliser = math::fma(normaliser, carried, fresh);
  }

  // Component k's step of the pack's streaming log-sum-exp, from its quad and log-determinant:
  // the first component starts it, each later one is absorbed (carried and fresh then weigh what
  // was accumulated and component k's mean).
  template <int W>
  KOKKOS_FORCEINLINE_FUNCTION static void responsibility_step(int k, const double (&quad)[W], const double (&log_det)[W],
                                                            double log_w, double (&running_max)[W],
                                                            double (&normaliser)[W], double (&carried)[W],
                                                            double (&fresh)[W]) {
    double log_r[W];
    for (int w = 0; w < W; ++w) log_r[w] = log_responsibility(quad[w], log_det[w], log_w);
    if (k == 0) {
      for (int w = 0; w < W; ++w) {
        running_max[w] = log_r[w];
        normaliser[w] = 1.0;
      }
    } else {
      double e[W];
      for (int w = 0; w < W; ++w) e[w] = exp_nonpositive(-math::fabs(log_r[w] - running_max[w]));
      for (int w = 0; w < W; ++w) absorb(log_r[w], e[w], running_max[w], normaliser[w], carried[w], fresh[w]);
    }
  }

  // Sample w's value of a shared (double) or per-sample (Pack) quantity.
  KOKKOS_FORCEINLINE_FUNCTION static double of_sample(double x, int) { return x; }
  template <int W>
  KOKKOS_FORCEINLINE_FUNCTION static double of_sample(const Pack<W>& x, int w) {
    return x[w];
  }

  // scratch(j) <- 1 / v_kj with v_kj = c_kj^2 + s^2; log_det[w] <- sum_j log v_kj of sample w. The
  // log-determinant takes the log of a product of log_chunk variances; the product stays a normal
  // double while the variances lie within ~1e-19 < v < 1e19 (s < 3e9, c > 3e-10); otherwise that
  // chunk falls back to one log per coordinate, so the result is the same to rounding either way.
  template <int W, class S, class Row>
  KOKKOS_INLINE_FUNCTION void s_terms(int k, const S& s2, const Row& scratch, double (&log_det)[W]) const {
    for (int w = 0; w < W; ++w) log_det[w] = 0.0;
    for (int j0 = 0; j0 < dim; j0 += log_chunk) {
      const int n = dim - j0 < log_chunk ? dim - j0 : log_chunk;
      S v[log_chunk];  // straight-line loops over the chunk vectorise
      for (int c = 0; c < n; ++c) v[c] = variances(k, j0 + c) + s2;
      for (int c = 0; c < n; ++c) scratch(j0 + c) = 1.0 / v[c];
      add_chunk_log<W>(pairwise_product(v, n), k, j0, j0 + n, s2, log_det);
    }
  }

  // Product of v[0..n) as a pairwise tree over log_chunk entries (no long dependency chain); v is
  // overwritten.
  template <class S>
  KOKKOS_INLINE_FUNCTION static S pairwise_product(S (&v)[log_chunk], int n) {
    for (int c = n; c < log_chunk; ++c) v[c] = 1.0;
    for (int half = log_chunk / 2; half > 0; half /= 2)
      for (int c = 0; c < half; ++c) v[c] *= v[c + half];
    return v[0];
  }

  // log_det[w] += log of sample w's chunk product (chunk_log).
  template <int W, class S>
  KOKKOS_INLINE_FUNCTION void add_chunk_log(const S& prod, int k, int j0, int j1, const S& s2,
                                            double (&log_det)[W]) const {
    if constexpr (std::is_same_v<S, double>) {  // shared s: one log for the pack
      const double lg = chunk_log(prod, k, j0, j1, s2);
      for (int w = 0; w < W; ++w) log_det[w] += lg;
    } else {
      bool all_normal = true;
      for (int w = 0; w < W; ++w) all_normal = all_normal && normal(prod[w]);
      double lg[W];
      if (all_normal) {  // the usual case, as straight-line code that vectorises
        for (int w = 0; w < W; ++w) lg[w] = log_normal(prod[w]);
      } else {
        for (int w = 0; w < W; ++w) lg[w] = chunk_log(prod[w], k, j0, j1, s2[w]);
      }
      for (int w = 0; w < W; ++w) log_det[w] += lg[w];
    }
  }

  // Log of a chunk product of variances, or the sum of their logs where the product left the
  // normal range (also propagates a NaN).
  KOKKOS_INLINE_FUNCTION double chunk_log(double prod, int k, int j0, int j1, double s2) const {
    if (normal(prod)) return log_normal(prod);
    double sum = 0.0;
    for (int j = j0; j < j1; ++j) sum += math::log(variances(k, j) + s2);
    return sum;
  }

  KOKKOS_FORCEINLINE_FUNCTION static bool normal(double x) {
    return x >= 2.2250738585072014e-308 && x <= 1.7976931348623157e308;
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
