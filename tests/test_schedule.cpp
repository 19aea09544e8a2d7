// Noise schedules against the identities of DESIGN.md section 1.
#include <catch2/catch.hpp>

#include <cmath>

#include "schedule/registry.hpp"

using pfode::schedule::all_schedules;

namespace {
// Interior test points (relative position in [t_min, t_max]).
const double kFractions[] = {0.0, 1e-3, 0.01, 0.1, 0.3, 0.5, 0.7, 0.9, 0.99, 1.0};
double at(const pfode::schedule::Schedule& s, double f) { return s.t_min + f * (s.t_max - s.t_min); }
}  // namespace

TEST_CASE("every schedule: lambda is log(alpha/sigma), strictly decreasing, with an exact inverse", "[schedule]") {
  for (const auto& info : all_schedules()) {
    INFO(info.name);
    const auto& s = info.defaults;
    double previous = INFINITY;
    for (int i = 0; i <= 1000; ++i) {
      const double t = at(s, i / 1000.0);
      const double lambda = s.lambda(t);
      REQUIRE(lambda < previous);
      previous = lambda;
      REQUIRE(lambda == Approx(std::log(s.alpha(t) / s.sigma(t))).epsilon(1e-13).margin(1e-13));
      REQUIRE(s.s(t) == Approx(s.sigma(t) / s.alpha(t)).epsilon(1e-13));
      // Round trip t -> lambda -> t to 1e-12 relative (VE's t_min = 0: absolute 1e-15 there).
      REQUIRE(std::fabs(s.t_of_lambda(lambda) - t) <= 1e-12 * t + 1e-15);
    }
  }
}

TEST_CASE("every schedule: f and g^2 match finite differences of log alpha and sigma^2", "[schedule]") {
  for (const auto& info : all_schedules()) {
    INFO(info.name);
    const auto& s = info.defaults;
    for (double f : kFractions) {
      const double t = at(s, f);
      // Central differences of 4th order, kept inside [t_min, t_max].
      const double h = 1e-4 * (s.t_max - s.t_min) * std::max(1e-3, std::min(f, 1.0 - f) + 1e-3);
      const double tc = std::min(std::max(t, s.t_min + 2 * h), s.t_max - 2 * h);
      auto d = [&](auto fn) {
        return (-fn(tc + 2 * h) + 8 * fn(tc + h) - 8 * fn(tc - h) + fn(tc - 2 * h)) / (12 * h);
      };
      const double dlog_alpha = d([&](double x) { return s.log_alpha(x); });
      const double dsigma2 = d([&](double x) { return s.sigma(x) * s.sigma(x); });
      const double dlambda = d([&](double x) { return s.lambda(x); });
      INFO("t = " << tc);
      REQUIRE(s.f(tc) == Approx(dlog_alpha).epsilon(1e-7).margin(1e-9));
      REQUIRE(s.dlambda_dt(tc) == Approx(dlambda).epsilon(1e-7));
      // g^2 = d sigma^2/dt - 2 f sigma^2 = -2 sigma^2 dlambda/dt.
      const double sig = s.sigma(tc);
      REQUIRE(s.g2(tc) == Approx(dsigma2 - 2 * dlog_alpha * sig * sig).epsilon(1e-6));
      REQUIRE(s.g2(tc) == Approx(-2 * sig * sig * dlambda).epsilon(1e-6));
    }
  }
}

TEST_CASE("schedules: alpha, sigma and f as the papers write them, at interior times", "[schedule]") {
  const double pi = std::acos(-1.0);
  for (double t : {0.001, 0.1, 0.37, 0.5, 0.8, 0.99}) {
    INFO("t = " << t);
    // VP-linear (Song et al. 2021): beta(t) = 0.1 + 19.9 t, alpha = exp(-int_0^t beta / 2), and
    // f = d log alpha/dt = -beta(t)/2.
    const auto vp = pfode::schedule::make_schedule("vp-linear");
    const double beta = 0.1 + 19.9 * t, integral = 0.1 * t + 0.5 * 19.9 * t * t;
    REQUIRE(vp.alpha(t) == Approx(std::exp(-0.5 * integral)).epsilon(1e-14));
    REQUIRE(vp.sigma(t) == Approx(std::sqrt(1.0 - std::exp(-integral))).epsilon(1e-13));
    REQUIRE(vp.f(t) == Approx(-0.5 * beta).epsilon(1e-14));
    // VP-cosine (Nichol & Dhariwal 2021, s = 0.008): alpha_bar = cos^2(((t + s)/(1 + s)) pi/2) /
    // cos^2((s/(1 + s)) pi/2), alpha = sqrt(alpha_bar).
    const auto cosine = pfode::schedule::make_schedule("vp-cosine");
    const double b = (t + 0.008) / 1.008 * pi / 2, a = 0.008 / 1.008 * pi / 2;
    const double alpha_bar = std::cos(b) * std::cos(b) / (std::cos(a) * std::cos(a));
    REQUIRE(cosine.alpha(t) == Approx(std::sqrt(alpha_bar)).epsilon(1e-13));
    // 1 - alpha_bar = (cos a - cos b)(cos a + cos b)/cos^2 a, the difference without cancellation.
    const double one_minus = 2 * std::sin((a + b) / 2) * std::sin((b - a) / 2) * (std::cos(a) + std::cos(b)) /
                             (std::cos(a) * std::cos(a));
    REQUIRE(cosine.sigma(t) == Approx(std::sqrt(one_minus)).epsilon(1e-13));
    // VE (Song et al. 2021): sigma = 0.01 (50/0.01)^t, alpha = 1.
    const auto ve = pfode::schedule::make_schedule("ve");
    REQUIRE(ve.sigma(t) == Approx(0.01 * std::pow(5000.0, t)).epsilon(1e-14));
    REQUIRE(ve.alpha(t) == 1.0);
    // Flow matching: alpha = 1 - t, sigma = t; EDM: alpha = 1, sigma = t (here t scaled to [0.002, 80]).
    const auto flow = pfode::schedule::make_schedule("flow");
    REQUIRE(flow.alpha(t) == Approx(1.0 - t).epsilon(1e-15));
    REQUIRE(flow.sigma(t) == t);
    const auto edm = pfode::schedule::make_schedule("edm");
    REQUIRE(edm.sigma(80.0 * t) == 80.0 * t);
    REQUIRE(edm.alpha(80.0 * t) == 1.0);
  }
  // Endpoints: VP-linear's alpha^2(1) = exp(-(beta_min + beta_max)/2); the intervals of the README.
  const auto vp = pfode::schedule::make_schedule("vp-linear");
  REQUIRE(vp.alpha(1.0) * vp.alpha(1.0) == Approx(std::exp(-10.05)).epsilon(1e-14));
  REQUIRE(vp.t_min == 1e-3);
  REQUIRE(pfode::schedule::make_schedule("edm").t_max == 80.0);
  REQUIRE(pfode::schedule::make_schedule("vp-cosine").t_max == Approx(0.9946).epsilon(1e-4));
}

TEST_CASE("schedules: unknown names and bad parameters are rejected", "[schedule]") {
  REQUIRE_THROWS_WITH(pfode::schedule::make_schedule("vp-quadratic"), Catch::Contains("unknown schedule 'vp-quadratic'"));
  REQUIRE_THROWS_WITH(pfode::schedule::make_schedule("vp-linear", {{"beta_min", -1.0}}), Catch::Contains("beta_min"));
  REQUIRE_THROWS_WITH(pfode::schedule::make_schedule("edm", {{"rho", 7.0}}), Catch::Contains("no parameter 'rho'"));
  REQUIRE_THROWS(pfode::schedule::make_schedule("flow", {{"t_max", 1.0}}));
  // s = sigma/alpha must stay where the reference integrates it: 1e-8 .. 1e7.
  REQUIRE_THROWS_WITH(pfode::schedule::make_schedule("ve", {{"sigma_max", 1e300}}),
                      Catch::Contains("s = sigma/alpha spans 0.01 .. 1e+300, outside [1e-8, 1e7]"));
  REQUIRE_THROWS_WITH(pfode::schedule::make_schedule("vp-linear", {{"beta_max", 200.0}}), Catch::Contains("outside"));
  REQUIRE_NOTHROW(pfode::schedule::make_schedule("ve", {{"sigma_max", 1e6}}));
}
