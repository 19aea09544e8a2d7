// Order fits and sample statistics on data with known answers.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>

#include "metrics/order_fit.hpp"
#include "metrics/statistics.hpp"

using namespace pfode::metrics;

TEST_CASE("order fit: exact power law gives its exponent with zero standard error", "[metrics]") {
  std::vector<double> nfe, err;
  for (int n = 8; n <= 1024; n *= 2) {
    nfe.push_back(n);
    err.push_back(3.0 * std::pow(n, -2.5));
  }
  const auto f = fit_order(nfe, err, std::vector<bool>(nfe.size(), false));
  REQUIRE(f.valid);
  REQUIRE(f.order == Approx(2.5).epsilon(1e-12));
  REQUIRE(f.standard_error < 1e-10);
  REQUIRE(f.first == 0);
  REQUIRE(f.last == static_cast<int>(nfe.size()) - 1);
  for (double p : f.local_order) REQUIRE(p == Approx(2.5).epsilon(1e-12));
}

TEST_CASE("order fit: pre-asymptotic points and the error floor are left out", "[metrics]") {
  // e = n^-2 (1 + 40/n): local order drifts from ~3 towards 2; then a floor at 1e-9.
  std::vector<double> nfe, err;
  std::vector<bool> floor;
  for (int n = 2; n <= 1 << 16; n *= 2) {
    nfe.push_back(n);
    const double e = std::pow(n, -2.0) * (1.0 + 40.0 / n);
    err.push_back(std::max(e, 1e-9));
    floor.push_back(e < 1e-8);  // within 10x of the floor
  }
  const auto f = fit_order(nfe, err, floor);
  REQUIRE(f.valid);
  // The last usable point is 8192 (16384 is at the floor); the local orders at the top average
  // 2.0104, and going down they stay within 0.15 of it to the step 256 -> 512 (2.101), not
  // 128 -> 256 (2.183). The slope over 256..8192 is numpy.polyfit's on the same points.
  REQUIRE(nfe[f.first] == 256);
  REQUIRE(nfe[f.last] == 8192);
  REQUIRE(f.order == Approx(2.037800539771311).epsilon(1e-12));
  REQUIRE(std::isnan(f.local_order.back()));
}

TEST_CASE("order fit: standard error of the slope on scattered data", "[metrics]") {
  // e = 3 n^-3 exp(r): slope and its standard error as scipy.stats.linregress gives them.
  const std::vector<double> nfe = {8, 16, 32, 64, 128, 256}, r = {0.05, -0.03, 0.04, 0.0, -0.06, 0.02};
  std::vector<double> err;
  for (size_t k = 0; k < nfe.size(); ++k) err.push_back(3.0 * std::pow(nfe[k], -3.0) * std::exp(r[k]));
  const auto f = fit_order(nfe, err, std::vector<bool>(nfe.size(), false), 10.0);  // every point in the band
  REQUIRE(f.valid);
  REQUIRE(f.first == 0);
  REQUIRE(f.order == Approx(3.011541560327112).epsilon(1e-12));
  REQUIRE(f.standard_error == Approx(0.015242060995922202).epsilon(1e-10));
}

TEST_CASE("order fit: fewer than three usable points in a row is no fit; an unusable point near the top "
          "moves the fit below it",
          "[metrics]") {
  REQUIRE(!fit_order({8, 16, 32}, {1e-3, NAN, 1e-5}, {false, false, false}).valid);
  REQUIRE(!fit_order({8, 16, 32, 64, 128}, {1e-3, 2e-4, NAN, 1e-5, 4e-6}, {false, false, false, false, false}).valid);
  // n^-2 with a diverged cell at 512: the fit runs over 8..256.
  std::vector<double> nfe, err;
  for (int n = 8; n <= 1024; n *= 2) {
    nfe.push_back(n);
    err.push_back(n == 512 ? NAN : std::pow(n, -2.0));
  }
  const auto f = fit_order(nfe, err, std::vector<bool>(nfe.size(), false));
  REQUIRE(f.valid);
  REQUIRE(nfe[f.last] == 256);
  REQUIRE(nfe[f.first] == 8);
  REQUIRE(f.order == Approx(2.0).epsilon(1e-12));
}

TEST_CASE("log-log order: least squares over the given points, NaN for a value that is not positive or a "
          "single NFE", "[metrics]") {
  const std::vector<double> nfe{4, 8, 16, 32, 64};
  std::vector<double> value;
  for (double n : nfe) value.push_back(3.0 * std::pow(n, -0.7));
  value[0] = 1e9;  // outside the range fitted below
  REQUIRE(log_log_order(nfe, value, 1, 4) == Approx(0.7).margin(1e-12));
  // Local orders 1, 1.5 and 1: least squares gives 1.2 (the end points 7/6).
  const std::vector<double> scattered{1.0, 0.5, std::pow(0.5, 2.5), std::pow(0.5, 3.5)};
  REQUIRE(log_log_order({8, 16, 32, 64}, scattered, 0, 3) == Approx(1.2).margin(1e-12));
  REQUIRE(std::isnan(log_log_order(nfe, {1, 0.5, 0.0, 0.1, 0.05}, 0, 4)));
  REQUIRE(std::isnan(log_log_order(nfe, {1, 0.5, NAN, 0.1, 0.05}, 0, 4)));
  REQUIRE(std::isnan(log_log_order(nfe, value, 2, 2)));
  REQUIRE(std::isnan(log_log_order({8, 8, 8}, {1, 2, 3}, 0, 2)));
  REQUIRE(std::isnan(log_log_order(nfe, value, 3, 7)));
}

TEST_CASE("sample summary: rms, max, median, p90, worst and divergence", "[metrics]") {
  const auto s = summarize({1, 2, 3, 4, 10});
  REQUIRE(s.rms == Approx(std::sqrt(130.0 / 5)));
  REQUIRE(s.max == 10);
  REQUIRE(s.median == 3);
  REQUIRE(s.p90 == Approx(4 + 0.6 * 6));
  REQUIRE(s.worst == std::vector<int>{4, 3, 2, 1, 0});
  const auto d = summarize({1, NAN, 3});
  REQUIRE(!d.finite);
  REQUIRE(d.worst.front() == 1);
}

TEST_CASE("column summaries by selection equal a full sort of each column, even and odd rows, with "
          "ties and a non-finite column",
          "[metrics]") {
  for (int rows : {1, 2, 7, 64}) {
    const int columns = 5;
    std::vector<double> m(static_cast<size_t>(rows) * columns);
    for (int p = 0; p < rows; ++p)
      for (int i = 0; i < columns; ++i)  // scrambled values with repeats (i = 4: every third one equal)
        m[static_cast<size_t>(p) * columns + i] = i == 4 && p % 3 == 0 ? 0.5 : std::fmod(0.37 * (p * 7 + i * 13), 1.0);
    if (rows > 1) m[static_cast<size_t>(rows / 2) * columns + 2] = INFINITY;
    const auto c = summarize_columns(m, rows, columns);
    for (int i = 0; i < columns; ++i) {
      INFO(rows << " rows, column " << i);
      const auto s = summarize(column(m, rows, columns, i));
      std::vector<double> sorted = column(m, rows, columns, i);
      std::sort(sorted.begin(), sorted.end());
      const double pos = 0.5 * (rows - 1), lo = std::floor(pos);
      const double median = sorted[lo] + (pos - lo) * (sorted[std::min<size_t>(lo + 1, rows - 1)] - sorted[lo]);
      REQUIRE(c.rms[i] == s.rms);
      REQUIRE(c.max[i] == s.max);
      REQUIRE(c.median[i] == s.median);
      if (s.finite) REQUIRE(c.median[i] == median);  // bit for bit the sorted answer
      else REQUIRE(std::isinf(c.median[i]));
    }
  }
}
