// Time-step spacings: endpoints, monotonicity, counts, and the defining property of each.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>

#include "schedule/registry.hpp"
#include "spacing/spacing.hpp"

using namespace pfode;

TEST_CASE("every spacing on every schedule: exact endpoints, strictly decreasing, N + 1 points", "[spacing]") {
  for (const auto& sched_info : schedule::all_schedules())
    for (const auto& sp_info : spacing::all_spacings()) {
      if (sp_info.kind == spacing::Kind::custom) continue;
      const auto& s = sched_info.defaults;
      for (int n : {1, 2, 5, 17, 500}) {
        INFO(sched_info.name << " / " << sp_info.name << " / " << n);
        const auto t = spacing::make_grid(spacing::parse_spacing(sp_info.name), s, n);
        REQUIRE(t.size() == static_cast<size_t>(n + 1));
        // diffusers' grids are their timesteps, inside [t_min, t_max] (test_discrete_schedules.cpp).
        REQUIRE(t.front() <= s.t_max);
        REQUIRE(t.back() >= s.t_min);
        if (sp_info.spans_range) {
          REQUIRE(t.front() == s.t_max);
          REQUIRE(t.back() == s.t_min);
        }
        for (int i = 1; i <= n; ++i) REQUIRE(t[i] < t[i - 1]);
      }
    }
}

TEST_CASE("spacings are uniform in the quantity they name, on every schedule", "[spacing]") {
  const double pi = std::acos(-1.0);
  for (const auto& info : schedule::all_schedules()) {
    INFO(info.name);
    const auto& s = info.defaults;
    const int n = 10;
    auto uniform = [&](const char* name, auto quantity) {
      INFO(name);
      const auto t = spacing::make_grid(spacing::parse_spacing(name), s, n);
      const double step = quantity(t[1]) - quantity(t[0]);
      for (int i = 1; i < n; ++i) REQUIRE(quantity(t[i + 1]) - quantity(t[i]) == Approx(step).epsilon(1e-9));
    };
    uniform("uniform-t", [](double t) { return t; });
    uniform("uniform-lambda", [&](double t) { return s.lambda(t); });
    uniform("quadratic-t", [](double t) { return std::sqrt(t); });
    uniform("uniform-log-sigma", [&](double t) { return std::log(s.sigma(t)); });
    uniform("karras", [&](double t) { return std::pow(s.s(t), 1.0 / 7.0); });
    uniform("karras[rho=3]", [&](double t) { return std::pow(s.s(t), 1.0 / 3.0); });
    // cosine: t = t_min + (t_max - t_min)(1 + cos(theta))/2 with theta uniform in [0, pi].
    uniform("cosine", [&](double t) { return std::acos(std::clamp(2 * (t - s.t_min) / (s.t_max - s.t_min) - 1, -1.0, 1.0)); });
    const auto c = spacing::make_grid(spacing::parse_spacing("cosine"), s, n);
    REQUIRE(std::acos(2 * (c[1] - s.t_min) / (s.t_max - s.t_min) - 1) == Approx(pi / n).epsilon(1e-9));
  }
}

TEST_CASE("custom spacing reads its grid from a file and fixes the step count", "[spacing]") {
  const auto s = schedule::make_schedule("edm");
  {
    std::ofstream("pfode_test_grid.txt") << "# EDM, 3 steps\n80\n10 1\n0.002\n";
  }
  const auto sp = spacing::parse_spacing("custom[file=pfode_test_grid.txt]");
  REQUIRE(spacing::make_grid(sp, s, 3) == std::vector<double>{80, 10, 1, 0.002});
  REQUIRE_THROWS_WITH(spacing::make_grid(sp, s, 4), Catch::Contains("has 3 steps but the NFE budget gives 4"));
  {
    std::ofstream("pfode_test_grid.txt") << "80 10 20 0.002\n";
  }
  REQUIRE_THROWS_WITH(spacing::parse_spacing("custom[file=pfode_test_grid.txt]"), Catch::Contains("must decrease"));
  // The grid spans the schedule's whole interval: start states are drawn at t_max.
  {
    std::ofstream("pfode_test_grid.txt") << "40 10 1 0.002\n";
  }
  REQUIRE_THROWS_WITH(spacing::make_grid(spacing::parse_spacing("custom[file=pfode_test_grid.txt]"), s, 3),
                      Catch::Contains("must run from the schedule's t_max = 80 to t_min = 0.002 (the file gives 40 to 0.002)"));
  {
    std::ofstream("pfode_test_grid.txt") << "80 10 1 0.0025\n";
  }
  REQUIRE_THROWS_WITH(spacing::make_grid(spacing::parse_spacing("custom[file=pfode_test_grid.txt]"), s, 3),
                      Catch::Contains("must run from"));
  {
    std::ofstream("pfode_test_grid.txt") << "80.0000000000001 10 1 0.0020000000000001\n";  // digits dropped: snapped
  }
  REQUIRE(spacing::make_grid(spacing::parse_spacing("custom[file=pfode_test_grid.txt]"), s, 3) ==
          std::vector<double>{80, 10, 1, 0.002});
  std::remove("pfode_test_grid.txt");
  REQUIRE_THROWS_WITH(spacing::parse_spacing("custom[file=missing.txt]"), Catch::Contains("cannot read"));
  REQUIRE_THROWS_WITH(spacing::parse_spacing("custom"), Catch::Contains("needs a file"));
  REQUIRE_THROWS_WITH(spacing::parse_spacing("karras[sigma=2]"), Catch::Contains("no option 'sigma'"));
}

#include "sweep/experiment.hpp"

TEST_CASE("common s interval: every schedule spans the same s = sigma/alpha", "[spacing]") {
  const std::string path = "pfode_test_common_s.ini";
  std::ofstream(path) << "[run]\ncommon_s_interval = true\n[sweep]\nmodels = g\nschedules = vp-linear vp-cosine edm flow ve\n"
                         "solvers = euler\nnfe = 4\n[model.g]\nkind = gaussian\ndim = 1\nmeans = 0\nstds = 1\n";
  const auto e = sweep::load_experiment(path, {});
  std::remove(path.c_str());
  const auto& first = e.schedules.front().schedule;
  for (const auto& entry : e.schedules) {
    INFO(entry.name);
    REQUIRE(entry.schedule.s(entry.schedule.t_min) == Approx(first.s(first.t_min)).epsilon(1e-11));
    REQUIRE(entry.schedule.s(entry.schedule.t_max) == Approx(first.s(first.t_max)).epsilon(1e-11));
  }
  // The common interval is the intersection of the default ranges.
  double low = 0, high = INFINITY;
  for (const char* name : {"vp-linear", "vp-cosine", "edm", "flow", "ve"}) {
    const auto& d = schedule::find_schedule(name).defaults;
    low = std::max(low, d.s(d.t_min));
    high = std::min(high, d.s(d.t_max));
  }
  REQUIRE(first.s(first.t_min) == Approx(low).epsilon(1e-11));
  REQUIRE(first.s(first.t_max) == Approx(high).epsilon(1e-11));
}
