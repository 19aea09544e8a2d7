#include "metrics/weak_error.hpp"

#include <cmath>
#include <stdexcept>

namespace pfode::metrics {

namespace {

// Cholesky factor of a symmetric positive definite n x n matrix (row-major, lower triangle),
// its log-determinant and inverse; throws std::logic_error when it is not positive definite.
struct Cholesky {
  int n = 0;
  std::vector<double> l;
  double log_det = 0;

  explicit Cholesky(const std::vector<double>& a, int size) : n(size), l(a.size(), 0.0) {
    for (int i = 0; i < n; ++i)
      for (int j = 0; j <= i; ++j) {
        double sum = a[i * n + j];
        for (int k = 0; k < j; ++k) sum -= l[i * n + k] * l[j * n + k];
        if (i == j) {
          if (!(sum > 0)) throw std::logic_error("weak error: a kernel covariance is not positive definite");
          l[i * n + i] = std::sqrt(sum);
          log_det += 2.0 * std::log(l[i * n + i]);
        } else {
          l[i * n + j] = sum / l[j * n + j];
        }
      }
  }
  // x^T A^{-1} x.
  double quadratic(const std::vector<double>& x) const {
    std::vector<double> z(n);
    double q = 0;
    for (int i = 0; i < n; ++i) {
      double sum = x[i];
      for (int k = 0; k < i; ++k) sum -= l[i * n + k] * z[k];
      z[i] = sum / l[i * n + i];
      q += z[i] * z[i];
    }
    return q;
  }
  std::vector<double> inverse() const {
    std::vector<double> inv(static_cast<size_t>(n) * n), e(n);
    for (int col = 0; col < n; ++col) {
      // Solve L L^T v = e_col.
      std::vector<double> z(n), v(n);
      for (int i = 0; i < n; ++i) {
        double sum = i == col ? 1.0 : 0.0;
        for (int k = 0; k < i; ++k) sum -= l[i * n + k] * z[k];
        z[i] = sum / l[i * n + i];
      }
      for (int i = n - 1; i >= 0; --i) {
        double sum = z[i];
        for (int k = i + 1; k < n; ++k) sum -= l[k * n + i] * v[k];
        v[i] = sum / l[i * n + i];
      }
      for (int i = 0; i < n; ++i) inv[i * n + col] = v[i];
    }
    return inv;
  }
};

// l^2 I + S for a d x d S.
std::vector<double> shifted(const double* s, int d, double l2) {
  std::vector<double> a(s, s + static_cast<size_t>(d) * d);
  for (int i = 0; i < d; ++i) a[i * d + i] += l2;
  return a;
}

// det(I + S/l^2)^{-1/2} exp(-dm^T (l^2 I + S)^{-1} dm / 2): E k over a Gaussian of covariance S
// and mean difference dm.
double gaussian_kernel_mean(const double* s, int d, double l2, const std::vector<double>& dm) {
  const Cholesky c(shifted(s, d, l2), d);
  const double log_det_scaled = c.log_det - d * std::log(l2);  // log det(I + S/l^2)
  return std::exp(-0.5 * log_det_scaled - 0.5 * c.quadratic(dm));
}

// Square-root summary of an estimate S of a squared distance with standard error `se`; `scale`
// normalises (1/sqrt(d) or 1/d).
WeakEstimate summarise(double s, double se, double noise, double scale) {
  WeakEstimate e;
  const auto root = [&](double v) { return std::sqrt(std::max(v, 0.0)) * scale; };
  e.value = root(s);
  e.low = root(s - 1.96 * se);
  e.high = root(s + 1.96 * se);
  e.noise = noise * scale;
  e.significant = s > 2.0 * se;
  return e;
}

// The batch statistic: theta_b per batch (rows), theta* the target. S, its standard error, and
// sqrt(tr V).
void batch_estimate(const std::vector<std::vector<double>>& theta, const std::vector<double>& target, double& s,
                    double& se, double& noise) {
  const int batches = static_cast<int>(theta.size()), n = static_cast<int>(target.size());
  std::vector<double> bar(n, 0.0);
  for (const auto& t : theta)
    for (int j = 0; j < n; ++j) bar[j] += t[j] / batches;
  std::vector<double> bias(n);
  double bias2 = 0;
  for (int j = 0; j < n; ++j) {
    bias[j] = bar[j] - target[j];
    bias2 += bias[j] * bias[j];
  }
  // V = sum_b dev_b dev_b^T / (B (B - 1)): tr V, b^T V b and tr V^2 from inner products.
  const double norm = 1.0 / (static_cast<double>(batches) * (batches - 1));
  std::vector<std::vector<double>> dev(batches, std::vector<double>(n));
  double trace = 0, bvb = 0;
  for (int k = 0; k < batches; ++k) {
    double along = 0, sq = 0;
    for (int j = 0; j < n; ++j) {
      dev[k][j] = theta[k][j] - bar[j];
      along += bias[j] * dev[k][j];
      sq += dev[k][j] * dev[k][j];
    }
    trace += norm * sq;
    bvb += norm * along * along;
  }
  double trace_v2 = 0;
  for (int a = 0; a < batches; ++a)
    for (int b = 0; b < batches; ++b) {
      double g = 0;
      for (int j = 0; j < n; ++j) g += dev[a][j] * dev[b][j];
      trace_v2 += norm * norm * g * g;
    }
  s = bias2 - trace;
  se = std::sqrt(std::max(0.0, 4.0 * bvb + 2.0 * trace_v2));
  noise = std::sqrt(trace);
}

}  // namespace

TargetMixture target_law(const model::ModelSpec& spec, double alpha, double s) {
  TargetMixture p;
  p.dim = spec.dim;
  p.components = spec.components;
  p.weights = spec.weights;
  const int d = spec.dim;
  // Component k's covariance alpha^2 (U_k diag(c_k^2) U_k^T + s^2 I); U_k = I for a diagonal model.
  for (int k = 0; k < spec.components; ++k) {
    for (int j = 0; j < d; ++j) p.means.push_back(alpha * spec.means[static_cast<size_t>(k) * d + j]);
    const double* c = &spec.stds[static_cast<size_t>(k) * d];
    for (int i = 0; i < d; ++i)
      for (int j = 0; j < d; ++j) {
        double v = i == j ? s * s : 0.0;
        if (spec.full_covariance()) {
          const double* u = &spec.rotations[static_cast<size_t>(k) * d * d];
          for (int m = 0; m < d; ++m) v += u[i * d + m] * c[m] * c[m] * u[j * d + m];
        } else if (i == j) {
          v += c[i] * c[i];
        }
        p.covariances.push_back(alpha * alpha * v);
      }
  }
  return p;
}

void mixture_moments(const TargetMixture& p, std::vector<double>& mean, std::vector<double>& covariance) {
  const int d = p.dim;
  mean.assign(d, 0.0);
  covariance.assign(static_cast<size_t>(d) * d, 0.0);
  for (int k = 0; k < p.components; ++k)
    for (int j = 0; j < d; ++j) mean[j] += p.weights[k] * p.means[static_cast<size_t>(k) * d + j];
  for (int k = 0; k < p.components; ++k) {
    const double* m = &p.means[static_cast<size_t>(k) * d];
    const double* s = &p.covariances[static_cast<size_t>(k) * d * d];
    for (int i = 0; i < d; ++i)
      for (int j = 0; j < d; ++j)
        covariance[i * d + j] += p.weights[k] * (s[i * d + j] + (m[i] - mean[i]) * (m[j] - mean[j]));
  }
}

double default_bandwidth(const TargetMixture& p) {
  std::vector<double> mean, covariance;
  mixture_moments(p, mean, covariance);
  double trace = 0;
  for (int j = 0; j < p.dim; ++j) trace += covariance[j * p.dim + j];
  return std::sqrt(trace / p.dim);
}

double expected_kernel(const TargetMixture& p, double bandwidth, const std::vector<double>& x) {
  const int d = p.dim;
  double sum = 0;
  for (int k = 0; k < p.components; ++k) {
    std::vector<double> dm(d);
    for (int j = 0; j < d; ++j) dm[j] = x[j] - p.means[static_cast<size_t>(k) * d + j];
    sum += p.weights[k] * gaussian_kernel_mean(&p.covariances[static_cast<size_t>(k) * d * d], d,
                                               bandwidth * bandwidth, dm);
  }
  return sum;
}

double expected_kernel_pair(const TargetMixture& p, const TargetMixture& q, double bandwidth) {
  const int d = p.dim;
  double sum = 0;
  for (int a = 0; a < p.components; ++a)
    for (int b = 0; b < q.components; ++b) {
      std::vector<double> s(static_cast<size_t>(d) * d), dm(d);
      for (size_t e = 0; e < s.size(); ++e)
        s[e] = p.covariances[static_cast<size_t>(a) * d * d + e] + q.covariances[static_cast<size_t>(b) * d * d + e];
      for (int j = 0; j < d; ++j)
        dm[j] = p.means[static_cast<size_t>(a) * d + j] - q.means[static_cast<size_t>(b) * d + j];
      sum += p.weights[a] * q.weights[b] * gaussian_kernel_mean(s.data(), d, bandwidth * bandwidth, dm);
    }
  return sum;
}

WeakAccumulator::WeakAccumulator(TargetMixture target, double bandwidth, int block, long total_samples, int batches)
    : target_(std::move(target)), bandwidth_(bandwidth), block_(block), batches_(batches), total_(total_samples) {
  if (!(bandwidth_ > 0)) throw std::invalid_argument("weak error: the kernel bandwidth must be positive");
  if (block_ < 2) throw std::invalid_argument("weak error: MMD blocks need at least 2 samples");
  if (total_ < 2L * batches_) throw std::invalid_argument("weak error: too few samples for the batch statistics");
  mixture_moments(target_, mean_, covariance_);
  const int d = target_.dim, k_count = target_.components;
  batch_count_.assign(batches_, 0);
  batch_sum_.assign(static_cast<size_t>(batches_) * d, 0.0);
  batch_outer_.assign(static_cast<size_t>(batches_) * d * d, 0.0);
  // Witness terms: c_k = w_k det(I + S_k/l^2)^{-1/2}, A_k = (l^2 I + S_k)^{-1}.
  const double l2 = bandwidth_ * bandwidth_;
  weight_factor_ = Kokkos::View<double*>("pfode::metrics::weight_factor", k_count);
  component_mean_ = Kokkos::View<double**>("pfode::metrics::component_mean", k_count, d);
  precision_ = Kokkos::View<double***>("pfode::metrics::precision", k_count, d, d);
  auto wf = Kokkos::create_mirror_view(weight_factor_);
  auto cm = Kokkos::create_mirror_view(component_mean_);
  auto pr = Kokkos::create_mirror_view(precision_);
  for (int k = 0; k < k_count; ++k) {
    const Cholesky c(shifted(&target_.covariances[static_cast<size_t>(k) * d * d], d, l2), d);
    wf(k) = target_.weights[k] * std::exp(-0.5 * (c.log_det - d * std::log(l2)));
    const auto inv = c.inverse();
    for (int i = 0; i < d; ++i) {
      cm(k, i) = target_.means[static_cast<size_t>(k) * d + i];
      for (int j = 0; j < d; ++j) pr(k, i, j) = inv[i * d + j];
    }
  }
  Kokkos::deep_copy(weight_factor_, wf);
  Kokkos::deep_copy(component_mean_, cm);
  Kokkos::deep_copy(precision_, pr);
  target_self_ = expected_kernel_pair(target_, target_, bandwidth_);
}

void WeakAccumulator::add(const Kokkos::View<double***>& x, int point, long first) {
  if (first != seen_ || first % block_ != 0)
    throw std::logic_error("weak error: chunks must come in order and start at a block boundary");
  const int n = static_cast<int>(x.extent(0)), d = target_.dim;
  const auto host = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), x);
  for (int p = 0; p < n; ++p) {
    const long index = first + p;
    const int b = static_cast<int>(index * batches_ / total_);
    batch_count_[b] += 1;
    double* sum = &batch_sum_[static_cast<size_t>(b) * d];
    double* outer = &batch_outer_[static_cast<size_t>(b) * d * d];
    for (int i = 0; i < d; ++i) {
      const double xi = host(p, point, i) - mean_[i];
      sum[i] += xi;
      for (int j = 0; j < d; ++j) outer[i * d + j] += xi * (host(p, point, j) - mean_[j]);
    }
  }

  // MMD: per sample, the kernel row over its block (others only) and the witness E_p k(x, .).
  const int whole = n / block_ * block_;
  if (whole > 0) {
    Kokkos::View<double*> row("pfode::metrics::kernel_row", whole), witness("pfode::metrics::witness", whole);
    const int block = block_, k_count = target_.components;
    const double inv_2l2 = 0.5 / (bandwidth_ * bandwidth_);
    const auto wf = weight_factor_;
    const auto cm = component_mean_;
    const auto pr = precision_;
    Kokkos::parallel_for(
        "pfode::metrics::mmd_rows", Kokkos::RangePolicy<>(0, whole), KOKKOS_LAMBDA(const int i) {
          const int start = i / block * block;
          double sum = 0.0;
          for (int j = start; j < start + block; ++j) {
            if (j == i) continue;
            double dist2 = 0.0;
            for (int c = 0; c < d; ++c) {
              const double diff = x(i, point, c) - x(j, point, c);
              dist2 += diff * diff;
            }
            sum += math::exp(-dist2 * inv_2l2);
          }
          row(i) = sum;
          double w = 0.0;
          for (int k = 0; k < k_count; ++k) {
            double quad = 0.0;
            for (int a = 0; a < d; ++a) {
              double inner = 0.0;
              for (int b = 0; b < d; ++b) inner += pr(k, a, b) * (x(i, point, b) - cm(k, b));
              quad += (x(i, point, a) - cm(k, a)) * inner;
            }
            w += wf(k) * math::exp(-0.5 * quad);
          }
          witness(i) = w;
        });
    const auto row_host = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), row);
    const auto witness_host = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), witness);
    for (int start = 0; start < whole; start += block_) {
      double u = 0, w = 0;
      for (int i = start; i < start + block_; ++i) {
        u += row_host(i);
        w += witness_host(i);
      }
      block_mmd2_.push_back(u / (static_cast<double>(block_) * (block_ - 1)) - 2.0 * w / block_ + target_self_);
    }
  }
  seen_ += n;
}

WeakErrors WeakAccumulator::finish() const {
  if (seen_ != total_) throw std::logic_error("weak error: not every sample was added");
  const int d = target_.dim;
  WeakErrors out;
  out.samples = total_;
  out.bandwidth = bandwidth_;
  out.block = block_;
  out.batches = batches_;
  // Per batch: the mean and the (unbiased) covariance, both relative to the target mean.
  std::vector<std::vector<double>> means(batches_), covariances(batches_);
  for (int b = 0; b < batches_; ++b) {
    const double count = static_cast<double>(batch_count_[b]);
    const double* sum = &batch_sum_[static_cast<size_t>(b) * d];
    const double* outer = &batch_outer_[static_cast<size_t>(b) * d * d];
    means[b].resize(d);
    for (int i = 0; i < d; ++i) means[b][i] = sum[i] / count + mean_[i];
    covariances[b].resize(static_cast<size_t>(d) * d);
    for (int i = 0; i < d; ++i)
      for (int j = 0; j < d; ++j)
        covariances[b][i * d + j] = (outer[i * d + j] - sum[i] * sum[j] / count) / (count - 1.0);
  }
  double s, se, noise;
  batch_estimate(means, mean_, s, se, noise);
  out.mean = summarise(s, se, noise, 1.0 / std::sqrt(static_cast<double>(d)));
  batch_estimate(covariances, covariance_, s, se, noise);
  out.covariance = summarise(s, se, noise, 1.0 / d);
  const int blocks = static_cast<int>(block_mmd2_.size());
  out.mmd_samples = static_cast<long>(blocks) * block_;
  if (blocks >= 2) {
    double mean = 0;
    for (double v : block_mmd2_) mean += v / blocks;
    double var = 0;
    for (double v : block_mmd2_) var += (v - mean) * (v - mean) / (blocks - 1);
    const double standard_error = std::sqrt(var / blocks);
    out.mmd = summarise(mean, standard_error, standard_error, 1.0);
    out.mmd.noise = std::sqrt(standard_error);  // the MMD that the noise alone would show
  }
  return out;
}

}  // namespace pfode::metrics
