// Order fits and sample statistics on data with known answers.
#include <catch2/catch.hpp>

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
  REQUIRE(std::fabs(f.order - 2.0) < 0.1);
  REQUIRE(nfe[f.first] >= 64);   // the drifting start is excluded
  REQUIRE(!floor[f.last]);       // so is the floor
  REQUIRE(std::isnan(f.local_order.back()));
}

TEST_CASE("order fit: fewer than three usable points is no fit", "[metrics]") {
  const auto f = fit_order({8, 16, 32}, {1e-3, NAN, 1e-5}, {false, false, false});
  REQUIRE(!f.valid);
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
