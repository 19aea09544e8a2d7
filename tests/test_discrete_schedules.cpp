// Discrete-time DDPM schedules (log alpha piecewise linear in t between the training timesteps, as
// the official DPM-Solver's NoiseScheduleVP("discrete")) and diffusers' timestep spacings.
#include <catch2/catch.hpp>

#include <cmath>

#include "schedule/registry.hpp"
#include "solver/presets.hpp"
#include "spacing/spacing.hpp"
#include "support.hpp"

using namespace pfode;

namespace {

// 1/2 cumsum log(1 - beta) of DDPM (linear betas) or Stable Diffusion (sqrt(beta) linear), 1000 steps.
std::vector<double> ddpm_log_alpha(bool scaled, double b0, double b1) {
  std::vector<double> out;
  double sum = 0;
  for (int i = 0; i < 1000; ++i) {
    const double root = std::sqrt(b0) + (std::sqrt(b1) - std::sqrt(b0)) * i / 999.0;
    const double beta = scaled ? root * root : b0 + (b1 - b0) * i / 999.0;
    sum += std::log1p(-beta);  // log(1 - beta) would lose digits to 1 - beta
    out.push_back(0.5 * sum);
  }
  return out;
}

}  // namespace

TEST_CASE("ddpm schedules: log alpha is 1/2 cumsum log(1 - beta) at t = (n + 1)/1000, linear in between",
          "[discrete_schedules]") {
  for (bool scaled : {false, true}) {
    const auto s = schedule::make_schedule(scaled ? "ddpm-scaled-linear" : "ddpm-linear");
    const auto want = scaled ? ddpm_log_alpha(true, 0.00085, 0.012) : ddpm_log_alpha(false, 1e-4, 0.02);
    INFO((scaled ? "ddpm-scaled-linear" : "ddpm-linear"));
    CHECK(s.t_min == 1e-3);
    CHECK(s.t_max == 1.0);
    for (int n = 0; n < 1000; ++n) {
      const double t = (n + 1) / 1000.0;
      INFO("n " << n << ": " << s.log_alpha(t) - want[n] << " of " << want[n]);
      REQUIRE(std::fabs(s.log_alpha(t) - want[n]) <= 1e-13 * std::fabs(want[n]) + 1e-17);
      // alpha^2 + sigma^2 = 1 and s^2 = (1 - alpha_bar)/alpha_bar, diffusers' sigma.
      const double alpha_bar = std::exp(2 * want[n]);
      REQUIRE(s.s(t) == Approx(std::sqrt((1 - alpha_bar) / alpha_bar)).epsilon(1e-12));
      if (n + 1 < 1000) {
        const double mid = (n + 1.5) / 1000.0;  // half-way: the mean of the two knots
        const double between = 0.5 * (want[n] + want[n + 1]);
        REQUIRE(std::fabs(s.log_alpha(mid) - between) <= 1e-13 * std::fabs(between) + 1e-17);
        REQUIRE(s.f(mid) == Approx((want[n + 1] - want[n]) * 1000.0).epsilon(1e-9));
      }
    }
    // The defaults' endpoints (numpy: prod(1 - betas)): DDPM 4.0358e-5, Stable Diffusion 4.6601e-3.
    CHECK(std::exp(2 * s.log_alpha(1.0)) == Approx(scaled ? 4.6601e-3 : 4.0358e-5).epsilon(1e-4));
  }
}

TEST_CASE("ddpm schedules: lambda and its inverse round-trip (knots, between them, and any lambda in range)",
          "[discrete_schedules]") {
  for (const char* name : {"ddpm-linear", "ddpm-scaled-linear"}) {
    INFO(name);
    const auto s = schedule::make_schedule(name);
    double worst_t = 0, worst_lambda = 0;
    for (int i = 0; i <= 20000; ++i) {
      const double t = s.t_min + (s.t_max - s.t_min) * i / 20000.0;  // knots (every 20th) and in between
      worst_t = std::max(worst_t, std::fabs(s.t_of_lambda(s.lambda(t)) - t) / t);
    }
    const double l0 = s.lambda(s.t_max), l1 = s.lambda(s.t_min);
    for (int i = 0; i <= 20000; ++i) {
      const double lam = l0 + (l1 - l0) * i / 20000.0;
      worst_lambda = std::max(worst_lambda, std::fabs(s.lambda(s.t_of_lambda(lam)) - lam));
    }
    INFO("t -> lambda -> t: " << worst_t << " relative; lambda -> t -> lambda: " << worst_lambda);
    CHECK(worst_t <= 1e-12);
    CHECK(worst_lambda <= 1e-12);
  }
}

TEST_CASE("ddpm schedules: bad parameters are refused", "[discrete_schedules]") {
  CHECK_THROWS_WITH(schedule::make_schedule("ddpm-linear", {{"beta_end", 1.0}}),
                    Catch::Contains("need 0 < beta_start < beta_end < 1"));
  CHECK_THROWS_WITH(schedule::make_schedule("ddpm-linear", {{"t_min", 5e-4}}),
                    Catch::Contains("need 1e-3 <= t_min and t_max <= 1"));
  CHECK_THROWS_WITH(schedule::make_schedule("ddpm-scaled-linear", {{"beta_start", 0.02}}),
                    Catch::Contains("need 0 < beta_start < beta_end < 1"));
  // Overrides rebuild the table.
  const auto s = schedule::make_schedule("ddpm-linear", {{"beta_end", 0.01}});
  CHECK(s.log_alpha(1.0) == Approx(ddpm_log_alpha(false, 1e-4, 0.01).back()).epsilon(1e-13));
}

TEST_CASE("diffusers timestep spacings: the timesteps set_timesteps picks, numpy's rounding included",
          "[discrete_schedules]") {
  auto timesteps = [](const std::string& label, int count) {
    return spacing::diffusers_timesteps(spacing::parse_spacing(label), count);
  };
  // As numpy evaluates DPMSolverMultistepScheduler's formulas (16: halves rounded to even).
  CHECK(timesteps("diffusers-linspace", 10) == std::vector<long>{999, 899, 799, 699, 599, 500, 400, 300, 200, 100});
  CHECK(timesteps("diffusers-linspace", 7) == std::vector<long>{999, 856, 714, 571, 428, 285, 143});
  CHECK(timesteps("diffusers-linspace", 16) ==
        std::vector<long>{999, 937, 874, 812, 749, 687, 624, 562, 500, 437, 375, 312, 250, 187, 125, 62});
  CHECK(timesteps("diffusers-leading", 7) == std::vector<long>{875, 750, 625, 500, 375, 250, 125});
  CHECK(timesteps("diffusers-leading[offset=1]", 10) ==
        std::vector<long>{901, 811, 721, 631, 541, 451, 361, 271, 181, 91});
  CHECK(timesteps("diffusers-trailing", 7) == std::vector<long>{999, 856, 713, 570, 428, 285, 142});
  CHECK(timesteps("diffusers-trailing", 16) ==
        std::vector<long>{999, 937, 874, 811, 749, 687, 624, 561, 499, 437, 374, 311, 249, 187, 124, 61});
  // 61 steps: diffusers' arange has 62 values, the last timestep -1; refused, not silently changed.
  CHECK_THROWS_WITH(timesteps("diffusers-trailing", 61), Catch::Contains("gives 62"));
  CHECK_THROWS_WITH(timesteps("diffusers-linspace", 1001), Catch::Contains("1..1000 timesteps"));
  CHECK_THROWS_WITH(spacing::parse_spacing("diffusers-linspace[offset=1]"), Catch::Contains("no option 'offset'"));
  // On a discrete schedule timestep k is t = (k + 1)/1000: the grid's points are training timesteps.
  const auto ddpm = schedule::make_schedule("ddpm-linear");
  const auto t = spacing::make_grid(spacing::parse_spacing("diffusers-linspace"), ddpm, 9);
  REQUIRE(t.size() == 10);
  CHECK(t.front() == 1.0);
  CHECK(t.back() == Approx(0.101).epsilon(1e-15));
  // Elsewhere the 1000 timesteps span [t_min, t_max] evenly.
  const auto vp = schedule::make_schedule("vp-linear");
  CHECK(spacing::make_grid(spacing::parse_spacing("diffusers-trailing"), vp, 6) ==
        std::vector<double>{1.0, spacing::time_of_timestep(vp, 856), spacing::time_of_timestep(vp, 713),
                            spacing::time_of_timestep(vp, 570), spacing::time_of_timestep(vp, 428),
                            spacing::time_of_timestep(vp, 285), spacing::time_of_timestep(vp, 142)});
}

TEST_CASE("diffusers presets on ddpm-linear: n timesteps, n NFE, the step to 0 as the final denoise; "
          "a grid that starts below t_max starts on the exact trajectory",
          "[discrete_schedules]") {
  const auto m = test::mixture2d();
  for (const char* preset : {"diffusers:dpm++2m", "diffusers:unipc", "diffusers:dpm++2m-karras"}) {
    const auto& p = solver::find_preset(preset);
    auto e = test::experiment(m, "ddpm-linear", p.spacing, p.solver, {10, 25}, 4);
    const auto plan = sweep::make_plan(e);
    const auto cells = test::run_cells(e);
    for (const auto& c : cells) {
      INFO(preset << " NFE " << c.nfe_budget);
      CHECK(c.status == "ok");
      CHECK(c.nfe == c.nfe_budget);                    // one evaluation per timestep, the last one the denoise
      CHECK(c.steps == c.nfe_budget - 1);
      CHECK(c.t.size() == static_cast<size_t>(c.nfe_budget));  // the n timesteps
      CHECK(c.t.front() == 1.0);
    }
  }
  // diffusers-leading starts at timestep 900 for 10 steps: from the exact state there.
  auto e = test::experiment(m, "ddpm-linear", "diffusers-leading", "ddim", {9}, 4);
  const auto cell = test::run_cells(e).at(0);
  CHECK(cell.t.front() == Approx(0.901).epsilon(1e-15));
  CHECK(cell.error_rms.front() == 0.0);
  CHECK(cell.status == "ok");
}

TEST_CASE("exponential integrators keep their orders on the discrete schedule (the canonical ODE is the same)",
          "[discrete_schedules]") {
  // Classical methods in t see log alpha's kinks at the timesteps; exponential ones step in lambda
  // and only need the grid's alpha and sigma.
  for (const char* name : {"dpm-solver-2", "dpm-solver++2m", "unipc-2"}) {
    auto e = test::experiment(test::mixture2d(), "ddpm-linear", "karras", name, {24, 36, 48, 72, 96, 144, 192, 288, 384},
                              16);
    e.reference_tolerance = 1e-14;
    const auto fits = sweep::fit_series(test::run_cells(e));
    REQUIRE(fits.size() == 1);
    INFO(name << ": GTE order " << fits[0].gte.order << ", LTE order " << fits[0].lte.order);
    REQUIRE(fits[0].gte.valid);
    CHECK(std::fabs(fits[0].gte.order - fits[0].order_theory) <= 0.15);
    CHECK(std::fabs(fits[0].lte.order - fits[0].lte_order_theory) <= 0.15);
  }
}
