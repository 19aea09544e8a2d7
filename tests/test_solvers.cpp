// Every solver in the registry converges at its theoretical order on exact models: GTE order p
// and LTE order p + 1 within 0.15, fitted over the asymptotic range; NFE is what the solver states.
#include <catch2/catch.hpp>

#include <cmath>

#include "solver/registry.hpp"
#include "support.hpp"

using namespace pfode;

namespace {

// Budgets that are multiples of every stated cost up to 4, from coarse to fine; the fit finds
// the asymptotic range among them.
const std::vector<int> kBudgets = {24, 36, 48, 72, 96, 144, 192, 288, 384, 576, 768, 1152, 1536};

void check_orders(const model::ModelSpec& m, const std::string& solver_name) {
  const auto e = test::experiment(m, "vp-linear", "uniform-lambda", solver_name, kBudgets, 32);
  const auto cells = test::run_cells(e);
  const auto fits = sweep::fit_series(cells);
  REQUIRE(fits.size() == 1);
  const auto& f = fits[0];
  const int p = e.solvers[0].spec.info->order;
  INFO(m.name << " / " << solver_name << ": GTE order " << f.gte.order << " +- " << f.gte.standard_error << " over NFE "
              << (f.gte.valid ? f.nfe[f.gte.first] : 0) << ".." << (f.gte.valid ? f.nfe[f.gte.last] : 0)
              << ", LTE order " << f.lte.order << ", median-GTE order " << f.gte_median.order);
  REQUIRE(f.gte.valid);
  REQUIRE(f.gte.last - f.gte.first + 1 >= 4);  // a fit over at least four budgets
  CHECK(std::fabs(f.gte.order - p) <= 0.15);
  REQUIRE(f.lte.valid);
  CHECK(std::fabs(f.lte.order - (p + 1)) <= 0.15);
  for (const auto& c : cells) {
    REQUIRE(c.status == "ok");
    REQUIRE(c.nfe_uniform);
    REQUIRE(c.nfe == solver::nfe_for_steps(e.solvers[0].spec, static_cast<int>(c.steps)));
  }
}

}  // namespace

TEST_CASE("every solver: GTE order p and LTE order p+1 on a Gaussian", "[solvers]") {
  for (const auto& info : solver::all_solvers()) check_orders(test::gaussian(4), info.name);
}

TEST_CASE("every solver: GTE order p and LTE order p+1 on a 2-D three-component mixture", "[solvers]") {
  for (const auto& info : solver::all_solvers()) check_orders(test::mixture2d(), info.name);
}

TEST_CASE("classical solvers converge at their order in every integration variable", "[solvers]") {
  for (const char* variable : {"s", "log_s"})
    for (const char* name : {"euler", "heun", "rk4"}) {
      INFO(name << " in " << variable);
      check_orders(test::mixture2d(), std::string(name) + "[variable=" + variable + "]");
    }
}

TEST_CASE("DDIM is Euler in s to round-off", "[solvers]") {
  const auto m = test::mixture2d();
  for (const char* sched_name : {"vp-linear", "vp-cosine", "edm", "flow"}) {
    INFO(sched_name);
    const auto sched = schedule::make_schedule(sched_name);
    const auto times = spacing::make_grid(spacing::parse_spacing("karras"), sched, 25);
    const auto ddim = test::solve_on_grid(m, sched, times, "ddim", 16);
    const auto euler = test::solve_on_grid(m, sched, times, "euler[variable=s]", 16);
    for (size_t k = 0; k < ddim.final_state.size(); ++k)
      REQUIRE(std::fabs(ddim.final_state[k] - euler.final_state[k]) <= 1e-13 * std::max(1.0, std::fabs(euler.final_state[k])));
  }
}

TEST_CASE("NFE is counted by the model: every sample spends exactly the stated cost", "[solvers]") {
  const auto m = test::gaussian(2);
  const auto sched = schedule::make_schedule("edm");
  for (const auto& info : solver::all_solvers())
    for (int budget : {1, 2, 3, 4, 7, 10, 33}) {
      solver::SolverSpec spec{&info};
      if (budget < info.nfe_per_step) {
        REQUIRE_THROWS_WITH(solver::steps_for_budget(spec, budget), Catch::Contains("below what solver"));
        continue;
      }
      const int steps = solver::steps_for_budget(spec, budget);
      REQUIRE(solver::nfe_for_steps(spec, steps) <= budget);
      const auto times = spacing::make_grid(spacing::parse_spacing("karras"), sched, steps);
      const auto run = test::solve_on_grid(m, sched, times, info.name, 3);
      for (long n : run.nfe) REQUIRE(n == solver::nfe_for_steps(spec, steps));
    }
}

TEST_CASE("LTE is measured from exact inputs: a method exact for the problem has zero LTE", "[solvers]") {
  // For the Gaussian in canonical variables y - mu scales like sqrt(c^2 + s^2); no method here is
  // exact for it, but the LTE of one step must equal the GTE of a one-step run.
  const auto m = test::gaussian(3);
  const auto sched = schedule::make_schedule("vp-linear");
  const auto times = spacing::make_grid(spacing::parse_spacing("uniform-lambda"), sched, 1);
  for (const auto& info : solver::all_solvers()) {
    const auto run = test::solve_on_grid(m, sched, times, info.name, 4, true);
    for (int p = 0; p < 4; ++p) REQUIRE(run.local_error[p] == Approx(run.global_error[p * 2 + 1]).epsilon(1e-14));
  }
}
