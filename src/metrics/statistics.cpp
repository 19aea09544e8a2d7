#include "metrics/statistics.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

namespace pfode::metrics {

namespace {

// The quantile of [first, last) by selection (the range is reordered): the element of rank lo by
// nth_element, the one of rank lo + 1 as the smallest of those above it. O(n), and the same
// interpolation, hence the same bits, as after a full sort.
double select_quantile(double* first, double* last, double q) {
  const size_t n = static_cast<size_t>(last - first);
  if (n == 0) return std::numeric_limits<double>::quiet_NaN();
  const double pos = q * (n - 1);
  const size_t lo = static_cast<size_t>(std::floor(pos));
  std::nth_element(first, first + lo, last);
  const double below = first[lo];
  const double above = lo + 1 < n ? *std::min_element(first + lo + 1, last) : below;
  return below + (pos - lo) * (above - below);
}

}  // namespace

double quantile(std::vector<double> values, double q) {
  return select_quantile(values.data(), values.data() + values.size(), q);
}

ColumnSummaries summarize_columns(const std::vector<double>& matrix, int rows, int columns) {
  ColumnSummaries out;
  out.rms.resize(columns);
  out.max.resize(columns);
  out.median.resize(columns);
  // One pass turns the rows into contiguous columns; each column is then summed and selected in place.
  // The pass takes 8 rows at a time, so that each column receives a whole cache line at once
  // instead of one value per row at a stride of `rows`.
  std::vector<double> by_column(matrix.size());
  constexpr int block = 8;
  for (int p0 = 0; p0 < rows; p0 += block) {
    const int p1 = std::min(rows, p0 + block);
    for (int i = 0; i < columns; ++i)
      for (int p = p0; p < p1; ++p)
        by_column[static_cast<size_t>(i) * rows + p] = matrix[static_cast<size_t>(p) * columns + i];
  }
  for (int i = 0; i < columns; ++i) {
    double* first = by_column.data() + static_cast<size_t>(i) * rows;
    double sum = 0, largest = 0;
    bool finite = true;
    for (int p = 0; p < rows; ++p) {
      const double e = first[p];
      finite = finite && std::isfinite(e);
      sum += e * e;
      largest = std::max(largest, e);
    }
    if (!finite || rows == 0) {  // as summarize(): a diverged sample makes every statistic infinite
      const double v = rows == 0 ? 0.0 : std::numeric_limits<double>::infinity();
      out.rms[i] = out.max[i] = out.median[i] = v;
      continue;
    }
    out.rms[i] = std::sqrt(sum / rows);
    out.max[i] = largest;
    out.median[i] = select_quantile(first, first + rows, 0.5);
  }
  return out;
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
    std::vector<double> values = per_sample;  // one copy, reordered by both selections
    s.median = select_quantile(values.data(), values.data() + values.size(), 0.5);
    s.p90 = select_quantile(values.data(), values.data() + values.size(), 0.9);
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
