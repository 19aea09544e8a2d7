// Weak error: how far the law of a sampler's final states is from the exact law p(x; t_N), which a
// Gaussian mixture gives in closed form (DESIGN.md section 4, "Exact-target MMD"). Three distances,
// each with a Monte-Carlo confidence interval:
//   mean        |E x - m*| / sqrt(d)           (RMS over coordinates)
//   covariance  ||Cov x - C*||_F / d            (RMS over entries)
//   mmd         MMD(law, p) with the Gaussian kernel k(x, x') = exp(-|x - x'|^2 / (2 l^2))
// Each is the square root of an unbiased estimate S of its square (clipped at 0), with the 95 %
// interval of S mapped through the square root:
//   mean, covariance: the statistic theta (mean vector, covariance entries) per batch of samples
//     (`batches` equal runs of sample indices); theta_bar their mean, V = their spread / (B (B - 1))
//     its covariance, S = |theta_bar - theta*|^2 - tr V, Var S ~ 4 b^T V b + 2 tr V^2 (b the bias);
//   mmd: block U-statistics over runs of `block` consecutive samples, each block's estimate
//     U_b - 2 mean_{i in b} E_p k(x_i, .) + E_{p,p} k with the last two in closed form (only the
//     first carries noise of order 1/block); S = their mean, Var S = their spread / #blocks.
// `noise` is the estimate's Monte-Carlo standard error at zero bias (sqrt(tr V) for mean and
// covariance, the standard error of S for the MMD's square); `significant` says that S exceeds
// twice its standard error, so the bias is resolved and the point can enter an order fit.
// Every sum runs in sample order on the host or per sample on the device, so the numbers do not
// depend on chunking, threads or backend.
#pragma once

#include <limits>
#include <vector>

#include "compat/kokkos_compat.hpp"
#include "model/model_spec.hpp"

namespace pfode::metrics {

// The exact law sum_k w_k N(m_k, S_k) in x (d x d covariances, row-major, component after component).
struct TargetMixture {
  int dim = 0, components = 0;
  std::vector<double> weights, means, covariances;
};

// p(x; t) of a model: x = alpha y with y ~ sum_k w_k N(mu_k, C_k + s^2 I) (s = 0: the data).
TargetMixture target_law(const model::ModelSpec& spec, double alpha, double s);

// The mixture's mean and covariance.
void mixture_moments(const TargetMixture& p, std::vector<double>& mean, std::vector<double>& covariance);

// The default kernel width: l^2 = tr Cov(p) / d, the mean variance per coordinate.
double default_bandwidth(const TargetMixture& p);

struct WeakEstimate {
  double value = std::numeric_limits<double>::quiet_NaN();  // sqrt(max(S, 0)) (normalised as above)
  double low = std::numeric_limits<double>::quiet_NaN(), high = std::numeric_limits<double>::quiet_NaN();
  double noise = std::numeric_limits<double>::quiet_NaN();
  bool significant = false;
};

struct WeakErrors {
  long samples = 0;       // samples in the mean and covariance
  long mmd_samples = 0;   // samples in whole MMD blocks
  double bandwidth = 0;   // l
  int block = 0, batches = 0;
  WeakEstimate mean, covariance, mmd;
};

// Accumulates final states in sample order, in chunks of whole MMD blocks (the last chunk may
// end with a partial block, whose samples count for mean and covariance only).
class WeakAccumulator {
 public:
  WeakAccumulator(TargetMixture target, double bandwidth, int block, long total_samples, int batches = 32);
  // x: (sample, point, coordinate) device states of samples first .. first + n - 1 (n = extent 0),
  // the final states at `point`; chunks must come in order, each starting at a block boundary.
  void add(const Kokkos::View<double***>& x, int point, long first);
  WeakErrors finish() const;

 private:
  TargetMixture target_;
  double bandwidth_;
  int block_, batches_;
  long total_, seen_ = 0;
  std::vector<double> mean_, covariance_;  // the target's
  // Per batch: count, sum x, sum x x^T (shifted by the target mean, for accuracy).
  std::vector<long> batch_count_;
  std::vector<double> batch_sum_, batch_outer_;
  std::vector<double> block_mmd2_;  // one estimate of MMD^2 per whole block
  // The witness terms on the device: c_k, m_k and A_k = (l^2 I + S_k)^{-1}, and E_{p,p} k.
  Kokkos::View<double*> weight_factor_;
  Kokkos::View<double**> component_mean_;
  Kokkos::View<double***> precision_;
  double target_self_ = 0;
};

// E_{x'~p} k(x, x') for one x (host; the device kernel's formula), and E_{x,x'~p} k: for tests.
double expected_kernel(const TargetMixture& p, double bandwidth, const std::vector<double>& x);
double expected_kernel_pair(const TargetMixture& p, const TargetMixture& q, double bandwidth);

}  // namespace pfode::metrics
