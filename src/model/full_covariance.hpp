// Exact denoiser of a Gaussian mixture with full covariances, sum_k w_k N(mu_k, U_k diag(c_k^2) U_k^T)
// with U_k orthogonal (DESIGN.md section 4). In component k's eigenbasis, z = U_k^T y and
// m_k = U_k^T mu_k, the component is the diagonal one:
//   D_k(y, s) = U_k [c_k^2/(c_k^2 + s^2) z + s^2/(c_k^2 + s^2) m_k],
//   log N(y; mu_k, C_k + s^2 I) = -1/2 sum_j ((z_j - m_kj)^2/(c_kj^2 + s^2) + log(2 pi (c_kj^2 + s^2))),
// so each component costs the diagonal kind's work plus two d x d rotations (4 d^2 FLOPs per
// sample). The eigenbasis terms are the diagonal kind's own building blocks (model/mixture.hpp),
// with the same streaming log-sum-exp: under identity rotations both kinds give the same bits
// (the rotations add exact zeros). A zero c_kj is allowed (data on a subspace) for s > 0; the
// ODE then stiffens like 1/s as s -> 0.
// A device model kind (model/concept.hpp); it keeps no per-sample data.
#pragma once

#include "compat/kokkos_compat.hpp"
#include "model/mixture.hpp"
#include "model/pack.hpp"

namespace pfode::model {

struct FullCovarianceMixture {
  // Weights, eigenvalues c_kj^2 (`variances`) and means in each component's eigenbasis, U_k^T mu_k.
  DiagonalMixture eigen;
  // K x dim x dim, U_k(i, j) = rotations(k, i, j): column j is the eigenvector of c_kj^2.
  Kokkos::View<const double***, Kokkos::LayoutRight> rotations;

  KOKKOS_INLINE_FUNCTION int dimension() const { return eigen.dim; }
  // Packs: the inverse variances of one component (terms of s), and each sample's coordinates in
  // its eigenbasis (values). Teams: the team's inverse variances and chunk logs (shared s); per
  // thread, one component's mean.
  KOKKOS_INLINE_FUNCTION int s_scratch_size() const { return eigen.dim; }
  KOKKOS_INLINE_FUNCTION int value_scratch_size() const { return eigen.dim; }
  KOKKOS_INLINE_FUNCTION int team_scratch_size() const { return eigen.team_scratch_size(); }
  KOKKOS_INLINE_FUNCTION int thread_scratch_size() const { return eigen.dim; }

  // The diagonal kind's denoise (model/mixture.hpp), component by component in the eigenbasis;
  // z(j) holds the eigenbasis coordinates, then the component's mean there.
  template <int W, class Samples, class In, class S, class Out, class Scratch, class Values>
  KOKKOS_INLINE_FUNCTION void denoise(const Samples&, const In& y, const S& s, const Out& out, const Scratch& scratch,
                                      const Values& z) const {
    const int dim = eigen.dim;
    const S s2 = s * s;
    double zv[W], ov[W];
    double running_max[W], normaliser[W], carried[W], fresh[W];
    for (int k = 0; k < eigen.components; ++k) {
      rotate_in<W>(k, y, z);
      double log_det[W];
      if (eigen.components > 1) {
        eigen.s_terms<W>(k, s2, scratch, log_det);
        double quad[W];
        for (int w = 0; w < W; ++w) quad[w] = 0.0;
        for (int j = 0; j < dim; ++j) {
          const double mu = eigen.means(k, j);
          const S iv = scratch(j);
          for (int w = 0; w < W; ++w) zv[w] = z(j)[w];
          for (int w = 0; w < W; ++w) {
            const double d = zv[w] - mu;
            quad[w] = math::fma(d * DiagonalMixture::of_sample(iv, w), d, quad[w]);
          }
        }
        DiagonalMixture::responsibility_step<W>(k, quad, log_det, eigen.log_weights(k), running_max, normaliser,
                                                carried, fresh);
      } else {  // one component: no responsibilities, the inverse variances alone
        for (int j = 0; j < dim; ++j) scratch(j) = 1.0 / (eigen.variances(0, j) + s2);
      }
      // The component's mean in the eigenbasis, shrink z + offset (one fma), over z.
      for (int j = 0; j < dim; ++j) {
        const S shrink = eigen.variances(k, j) * scratch(j), offset = eigen.means(k, j) * s2 * scratch(j);
        for (int w = 0; w < W; ++w) zv[w] = z(j)[w];
        for (int w = 0; w < W; ++w)
          zv[w] = math::fma(DiagonalMixture::of_sample(shrink, w), zv[w], DiagonalMixture::of_sample(offset, w));
        for (int w = 0; w < W; ++w) z(j)[w] = zv[w];
      }
      // Back to the state's coordinates, accumulated as the diagonal kind accumulates.
      for (int i = 0; i < dim; ++i) {
        double mean[W];
        for (int w = 0; w < W; ++w) mean[w] = 0.0;
        for (int j = 0; j < dim; ++j) {
          const double u = rotations(k, i, j);
          for (int w = 0; w < W; ++w) zv[w] = z(j)[w];
          for (int w = 0; w < W; ++w) mean[w] = math::fma(u, zv[w], mean[w]);
        }
        if (k == 0) {
          for (int w = 0; w < W; ++w) ov[w] = mean[w];
        } else {
          for (int w = 0; w < W; ++w) ov[w] = out(i)[w];
          for (int w = 0; w < W; ++w) ov[w] = math::fma(ov[w], carried[w], fresh[w] * mean[w]);
        }
        for (int w = 0; w < W; ++w) out(i)[w] = ov[w];
      }
    }
    if (eigen.components == 1) return;
    double inv[W];
    for (int w = 0; w < W; ++w) inv[w] = 1.0 / normaliser[w];
    for (int i = 0; i < dim; ++i) {
      for (int w = 0; w < W; ++w) ov[w] = out(i)[w];
      for (int w = 0; w < W; ++w) out(i)[w] = ov[w] * inv[w];
    }
  }

  // The calling thread's sample, its coordinates over the thread's vector lanes. A rotation mixes
  // every coordinate, so each eigenbasis coordinate z_j is a reduction over the lanes (which gives
  // it to every lane); each lane then accumulates the component's mean for its own coordinates in
  // thread_scratch, and reads back only what it wrote. The inverse variances are the team's (team
  // scratch, shared s) or recomputed by every lane (its own s), so no lane reads another's writes.
  template <class Member, class In, class Out, class Scratch>
  KOKKOS_INLINE_FUNCTION void denoise_team(const Member& team, int /*sample*/, const In& y, double s, const Out& out,
                                           bool team_s, const Scratch& team_scratch,
                                           const Scratch& thread_scratch) const {
    const int dim = eigen.dim, chunks = eigen.chunks();
    const double s2 = s * s;
    const auto coordinates = Kokkos::ThreadVectorRange(team, dim);
    const auto& mean = thread_scratch;
    double running_max = 0.0, normaliser = 0.0;
    for (int k = 0; k < eigen.components; ++k) {
      const auto log_of_chunk = [&](int c) {
        const int j0 = c * DiagonalMixture::log_chunk;
        const int n = dim - j0 < DiagonalMixture::log_chunk ? dim - j0 : DiagonalMixture::log_chunk;
        double v[DiagonalMixture::log_chunk];
        for (int i = 0; i < n; ++i) v[i] = eigen.variances(k, j0 + i) + s2;
        return eigen.chunk_log(DiagonalMixture::pairwise_product(v, n), k, j0, j0 + n, s2);
      };
      double log_det = 0.0;
      const bool many = eigen.components > 1;
      if (team_s) {
        team.team_barrier();  // every thread is done with the previous component's terms
        Kokkos::parallel_for(Kokkos::TeamVectorRange(team, dim),
                             [&](int j) { team_scratch(j) = 1.0 / (eigen.variances(k, j) + s2); });
        if (many)
          Kokkos::parallel_for(Kokkos::TeamVectorRange(team, chunks),
                               [&](int c) { team_scratch(dim + c) = log_of_chunk(c); });
        team.team_barrier();
        if (many)
          for (int c = 0; c < chunks; ++c) log_det += team_scratch(dim + c);
      } else if (many) {
        Kokkos::parallel_reduce(
            Kokkos::ThreadVectorRange(team, chunks), [&](int c, double& partial) { partial += log_of_chunk(c); },
            log_det);
      }
      const auto inverse_variance = [&](int j) {
        return team_s ? team_scratch(j) : 1.0 / (eigen.variances(k, j) + s2);
      };
      double quad = 0.0;
      for (int j = 0; j < dim; ++j) {
        double zj = 0.0;
        Kokkos::parallel_reduce(
            coordinates, [&](int i, double& partial) { partial = math::fma(rotations(k, i, j), y(i), partial); }, zj);
        const double iv = inverse_variance(j), mu = eigen.means(k, j);
        const double d = zj - mu;
        quad = math::fma(d * iv, d, quad);
        const double shrink = eigen.variances(k, j) * iv, offset = mu * s2 * iv;
        const double mean_j = math::fma(shrink, zj, offset);
        Kokkos::parallel_for(coordinates, [&](int i) {
          mean(i) = math::fma(rotations(k, i, j), mean_j, j == 0 ? 0.0 : mean(i));
        });
      }
      double carried = 1.0, fresh = 1.0;
      if (many) {
        const double log_r = DiagonalMixture::log_responsibility(quad, log_det, eigen.log_weights(k));
        if (k == 0) {
          running_max = log_r;
          normaliser = 1.0;
        } else {
          DiagonalMixture::absorb(log_r, exp_nonpositive(-math::fabs(log_r - running_max)), running_max, normaliser,
                                  carried, fresh);
        }
      }
      Kokkos::parallel_for(coordinates,
                           [&](int i) { out(i) = k == 0 ? mean(i) : math::fma(out(i), carried, fresh * mean(i)); });
    }
    if (eigen.components == 1) return;
    const double inv = 1.0 / normaliser;
    Kokkos::parallel_for(coordinates, [&](int i) { out(i) = out(i) * inv; });
  }

 private:
  // z(j) <- (U_k^T y)_j for every sample of the pack, summed over i in order.
  template <int W, class In, class Z>
  KOKKOS_INLINE_FUNCTION void rotate_in(int k, const In& y, const Z& z) const {
    const int dim = eigen.dim;
    double yv[W], zv[W];
    for (int j = 0; j < dim; ++j)
      for (int w = 0; w < W; ++w) z(j)[w] = 0.0;
    for (int i = 0; i < dim; ++i) {
      for (int w = 0; w < W; ++w) yv[w] = y(i)[w];
      for (int j = 0; j < dim; ++j) {
        const double u = rotations(k, i, j);
        for (int w = 0; w < W; ++w) zv[w] = z(j)[w];
        for (int w = 0; w < W; ++w) zv[w] = math::fma(u, yv[w], zv[w]);
        for (int w = 0; w < W; ++w) z(j)[w] = zv[w];
      }
    }
  }
};

}  // namespace pfode::model
