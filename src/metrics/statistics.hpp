// Summaries of per-sample errors (DESIGN.md "Errors"): RMS and max over samples, plus median,
// 90th percentile and the worst samples, since on mixtures a few samples can dominate the RMS.
#pragma once

#include <vector>

namespace pfode::metrics {

struct SampleSummary {
  double rms = 0, max = 0, median = 0, p90 = 0;
  std::vector<int> worst;  // indices of the largest errors, largest first (at most 5)
  bool finite = true;      // false when any sample's error is NaN or infinite (diverged)
};

SampleSummary summarize(const std::vector<double>& per_sample);

// RMS, max and median over the rows of every column of a row-major rows x columns matrix (a
// cell's per-grid-point statistics), equal to summarize() of each column; a column with a
// non-finite value gets infinity for all three.
struct ColumnSummaries {
  std::vector<double> rms, max, median;
};
ColumnSummaries summarize_columns(const std::vector<double>& matrix, int rows, int columns);

// Column i of a row-major samples x columns matrix.
std::vector<double> column(const std::vector<double>& matrix, int samples, int columns, int i);

// Linear-interpolated quantile of a sample (q in [0, 1]).
double quantile(std::vector<double> values, double q);

}  // namespace pfode::metrics
