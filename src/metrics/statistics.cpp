#include "metrics/statistics.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

namespace pfode::metrics {

double quantile(std::vector<double> values, double q) {
  if (values.empty()) return std::numeric_limits<double>::quiet_NaN();
  std::sort(values.begin(), values.end());
  const double pos = q * (values.size() - 1);
  const size_t lo = static_cast<size_t>(std::floor(pos));
  const size_t hi = std::min(lo + 1, values.size() - 1);
  return values[lo] + (pos - lo) * (values[hi] - values[lo]);
}

SampleSummary summarize(const std::vector<double>& per_sample) {
  SampleSummary s;
  if (per_sample.empty()) return s;
  double sum = 0;
  for (double e : per_sample) {
    if (!std::isfinite(e)) s.finite = false;
    sum += e * e;
    s.max = std::max(s.max, e);
  }
  if (!s.finite) {
    const double inf = std::numeric_limits<double>::infinity();
    s.rms = s.max = s.median = s.p90 = inf;
  } else {
    s.rms = std::sqrt(sum / per_sample.size());
    s.median = quantile(per_sample, 0.5);
    s.p90 = quantile(per_sample, 0.9);
  }
  std::vector<int> order(per_sample.size());
  std::iota(order.begin(), order.end(), 0);
  const size_t k = std::min<size_t>(5, order.size());
  // Non-finite errors rank first, so diverged samples are named.
  auto key = [&](int i) { return std::isfinite(per_sample[i]) ? per_sample[i] : std::numeric_limits<double>::infinity(); };
  std::partial_sort(order.begin(), order.begin() + k, order.end(),
                    [&](int a, int b) { return key(a) > key(b) || (key(a) == key(b) && a < b); });
  s.worst.assign(order.begin(), order.begin() + k);
  return s;
}

std::vector<double> column(const std::vector<double>& matrix, int samples, int columns, int i) {
  std::vector<double> out(samples);
  for (int p = 0; p < samples; ++p) out[p] = matrix[static_cast<size_t>(p) * columns + i];
  return out;
}

}  // namespace pfode::metrics
