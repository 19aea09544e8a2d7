// The Brownian path of the stochastic samplers: one function of (seed, sample, coordinate,
// channel, u), Brownian in law (increments and space-time areas), the same whatever the step size
// or query order, and the exponential integrals drawn jointly with the increments.
#include <catch2/catch.hpp>

#include <cmath>
#include <vector>

#include "brownian/step_noise.hpp"
#include "schedule/registry.hpp"
#include "sweep/sampling.hpp"

using namespace pfode;

namespace {

brownian::BrownianPath path_of(std::uint64_t seed, int depth = 26) {
  brownian::BrownianPath p;
  p.seed = seed;
  p.depth = depth;
  return p;
}

}  // namespace

TEST_CASE("brownian: a path is a function of its keys, whatever the order of queries", "[brownian]") {
  const auto path = path_of(11);
  const std::vector<double> us = {-3.7, 2.25, 0.0, -0.001, 4.5, -3.7000001, 31.9, -32.0};
  std::vector<brownian::PathPoint> forward, backward(us.size());
  for (double u : us) forward.push_back(path.at(5, 1, 0, u));
  for (size_t k = us.size(); k-- > 0;) backward[k] = path.at(5, 1, 0, us[k]);
  for (size_t k = 0; k < us.size(); ++k) {
    REQUIRE(forward[k].w == backward[k].w);
    REQUIRE(forward[k].k == backward[k].k);
  }
  // W(u_low) = 0 and K(u_low) = 0; nearby points give nearby values; other keys other paths.
  REQUIRE(path.at(5, 1, 0, -32.0).w == 0.0);
  REQUIRE(std::fabs(forward[0].w - forward[5].w) < 1e-2);
  REQUIRE(path.at(6, 1, 0, 2.25).w != forward[1].w);
  REQUIRE(path.at(5, 0, 0, 2.25).w != forward[1].w);
  REQUIRE(path.at(5, 1, 1, 2.25).w != forward[1].w);
  REQUIRE(path_of(12).at(5, 1, 0, 2.25).w != forward[1].w);
}

TEST_CASE("brownian: increments and space-time areas have the Brownian law", "[brownian]") {
  // Over many samples: the increment over [a, b] has variance b - a, its space-time area variance
  // (b - a)/12, the two are uncorrelated, and increments over disjoint intervals too; checked
  // on an interval wider than a node and one a few leaves wide.
  const auto path = path_of(3);
  const int n = 20000;
  for (const auto& [a, b] : std::vector<std::pair<double, double>>{{-1.3, 0.7}, {0.5, 0.5 + 2e-5}}) {
    const double h = b - a, mid = 0.5 * (a + b);
    double sw = 0, sww = 0, saa = 0, swa = 0, s12 = 0;
    for (int p = 0; p < n; ++p) {
      const auto pa = path.at(p, 0, 0, a), pm = path.at(p, 0, 0, mid), pb = path.at(p, 0, 0, b);
      const auto step = brownian::reverse_step(pb, pa, b, a);
      sw += step.db;
      sww += step.db * step.db;
      saa += step.area * step.area;
      swa += step.db * step.area;
      s12 += (pm.w - pa.w) * (pb.w - pm.w);
    }
    INFO("interval [" << a << ", " << b << "]");
    const double se = std::sqrt(2.0 / n);  // relative standard error of a variance
    REQUIRE(std::fabs(sw / n) < 4.0 * std::sqrt(h / n));
    REQUIRE(std::fabs(sww / n / h - 1.0) < 4.0 * se);
    REQUIRE(std::fabs(saa / n / (h / 12.0) - 1.0) < 4.0 * se);
    REQUIRE(std::fabs(swa / n) / std::sqrt(h * h / 12.0) < 4.0 / std::sqrt(n));
    REQUIRE(std::fabs(s12 / n) / (0.5 * h) < 4.0 / std::sqrt(n));
  }
}

TEST_CASE("brownian: a refined grid's increments sum to the coarse ones", "[brownian]") {
  // The cursor of a sampler over a grid and over the same grid with every step split in 8 (as
  // the strong reference refines): summed fine increments equal the coarse ones to round-off, and
  // the space-time areas combine as the split rule says.
  const auto sched = schedule::make_schedule("vp-linear");
  std::vector<double> times;
  for (int i = 0; i <= 5; ++i) times.push_back(sched.t_max + (sched.t_min - sched.t_max) * i / 5.0);
  const auto fine = sweep::refine_times(sched, times, 8);
  REQUIRE(fine.size() == 41);
  const auto path = path_of(21);
  for (int sample : {0, 7}) {
    for (size_t i = 0; i + 1 < times.size(); ++i) {
      const double ua = -sched.lambda(times[i]), ub = -sched.lambda(times[i + 1]);
      const auto coarse = brownian::reverse_step(path.at(sample, 1, 0, ua), path.at(sample, 1, 0, ub), ua, ub);
      double sum = 0;
      for (size_t k = 8 * i; k < 8 * i + 8; ++k) {
        const double fa = -sched.lambda(fine[k]), fb = -sched.lambda(fine[k + 1]);
        sum += brownian::reverse_step(path.at(sample, 1, 0, fa), path.at(sample, 1, 0, fb), fa, fb).db;
      }
      REQUIRE(std::fabs(sum - coarse.db) < 1e-12);
    }
  }
  // Halving a step: H = (H1 + H2)/2 + (W1 - W2)/4 for the two halves (in the reverse-time motion,
  // whose first half is the later part in u).
  const double ua = 1.0, um = 0.25, ub = -0.5;
  const auto a = path.at(2, 0, 0, ua), m = path.at(2, 0, 0, um), b = path.at(2, 0, 0, ub);
  const auto whole = brownian::reverse_step(a, b, ua, ub), first = brownian::reverse_step(a, m, ua, um),
             second = brownian::reverse_step(m, b, um, ub);
  REQUIRE(std::fabs(whole.area - (0.5 * (first.area + second.area) + 0.25 * (first.db - second.db))) < 1e-12);
}

TEST_CASE("brownian: exponential integrals are drawn jointly with the increment", "[brownian]") {
  using brownian::ExponentialIntegral;
  // The residual variance's series and closed form agree where both are accurate.
  for (double x : {0.3, 0.7, 0.99})
    REQUIRE(ExponentialIntegral::residual_variance(x) ==
            Approx((-std::expm1(-2 * x) / (2 * x)) - std::pow(-std::expm1(-x) / x, 2)).epsilon(1e-9));
  REQUIRE(ExponentialIntegral::residual_variance(1e-3) == Approx(std::exp(-2e-3) * 1e-6 / 12.0).epsilon(2e-3));
  // (Expected, from the weights: RMS 0.0145 for the joint draw, 0.142 for the increment only,
  // standard deviation 0.632.)
  // J = int_0^h e^{-c(h - tau)} dB against the path's own integral, summed over 128 pieces:
  // the joint draw is within O(c^2 h^{5/2}) of it, the increment-only draw O(c h^{3/2}); both
  // have the exact variance.
  const auto path = path_of(8);
  const double c = 1.0, u_a = 0.4, h = 0.8;
  const int n = 2000, pieces = 128;
  double joint_err = 0, increment_err = 0, joint_var = 0, exact_var = 0;
  const auto joint = ExponentialIntegral::joint(c, h), increment = ExponentialIntegral::increment_only(c, h);
  for (int p = 0; p < n; ++p) {
    const auto a = path.at(p, 0, 0, u_a), b = path.at(p, 0, 0, u_a - h);
    const auto step = brownian::reverse_step(a, b, u_a, u_a - h);
    double riemann = 0;
    auto prev = a;
    for (int k = 1; k <= pieces; ++k) {
      const double tau = h * k / pieces;
      const auto next = path.at(p, 0, 0, u_a - tau);
      riemann += std::exp(-c * (h - (tau - 0.5 * h / pieces))) * (prev.w - next.w);
      prev = next;
    }
    joint_err += std::pow(joint(step) - riemann, 2);
    increment_err += std::pow(increment(step) - riemann, 2);
    joint_var += joint(step) * joint(step);
    exact_var += riemann * riemann;
  }
  const double var = -std::expm1(-2 * c * h) / (2 * c);
  REQUIRE(joint_var / n == Approx(var).epsilon(0.12));  // 3.8 standard errors
  REQUIRE(exact_var / n == Approx(var).epsilon(0.12));
  INFO("RMS vs the path's integral: joint " << std::sqrt(joint_err / n) << ", increment "
                                             << std::sqrt(increment_err / n));
  REQUIRE(std::sqrt(joint_err / n) < 0.2 * std::sqrt(increment_err / n));
  REQUIRE(std::sqrt(joint_err / n) < 0.05 * std::sqrt(var));
}
