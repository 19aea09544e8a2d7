// Presets: every one parses into a spacing and a solver, names are unique, unknown names are
// rejected with the list, and hand-checked conventions hold (k-diffusion Heun spends 2n - 1 NFE
// for n sigmas, DPM++(2M) n, DPM-Solver-fast exactly its budget, the official multistep
// lower-order-final rule only below 10 steps).
#include <catch2/catch.hpp>

#include <set>

#include "solver/presets.hpp"
#include "solver/registry.hpp"
#include "spacing/spacing.hpp"
#include "support.hpp"

using namespace pfode;

TEST_CASE("every preset parses into a pfode spacing and solver", "[solver_presets]") {
  std::set<std::string> names;
  REQUIRE(solver::all_presets().size() >= 10);
  for (const auto& p : solver::all_presets()) {
    INFO(p.name);
    CHECK(names.insert(p.name).second);
    CHECK_NOTHROW(spacing::parse_spacing(p.spacing));
    CHECK_NOTHROW(solver::parse_solver(p.solver));
    CHECK_FALSE(p.description.empty());
    CHECK(&solver::find_preset(p.name) == &p);
  }
  CHECK_THROWS_WITH(solver::find_preset("k-diffusion:lms"), Catch::Contains("unknown preset") &&
                                                                 Catch::Contains("k-diffusion:heun"));
}

namespace {

// Runs a preset on EDM at one budget through the registry path and returns the per-sample NFE.
std::vector<long> preset_nfe(const std::string& name, int budget, int& steps) {
  const auto& p = solver::find_preset(name);
  const auto spec = solver::with_budget(solver::parse_solver(p.solver), budget);
  steps = solver::steps_for_budget(spec, budget);
  const auto sched = schedule::make_schedule("edm");
  const auto times = spacing::make_grid(spacing::parse_spacing(p.spacing), sched, steps);
  const auto m = test::mixture2d();
  return test::solve_on_grid(m, sched, times, spec, 3).nfe;
}

}  // namespace

TEST_CASE("k-diffusion presets spend what k-diffusion spends for n sigmas", "[solver_presets]") {
  for (int n : {2, 5, 10, 18}) {
    INFO("n = " << n << " sigmas (plus the appended 0)");
    int steps = 0;
    // Heun (= EDM Algorithm 1): n - 1 Heun steps and the Euler step to 0, 2n - 1 evaluations.
    for (long nfe : preset_nfe("k-diffusion:heun", 2 * n - 1, steps)) CHECK(nfe == 2 * n - 1);
    CHECK(steps == n - 1);
    // DPM++(2M) and Euler: one evaluation per sigma.
    for (const char* name : {"k-diffusion:dpm++2m", "k-diffusion:euler"}) {
      for (long nfe : preset_nfe(name, n, steps)) CHECK(nfe == n);
      CHECK(steps == n - 1);
    }
  }
}

TEST_CASE("official DPM-Solver presets: fast spends exactly its budget, multistep lowers below 10 steps",
          "[solver_presets]") {
  for (int budget : {6, 10, 11, 20}) {
    int steps = 0;
    for (long nfe : preset_nfe("dpm-solver:fast-logsnr", budget, steps)) CHECK(nfe == budget);
    CHECK(steps == budget / 3 + 1);
  }
  const auto spec = solver::parse_solver(solver::find_preset("dpm-solver:3m-time-uniform").solver);
  CHECK(spec.lower_order_final_below == 10);
  CHECK(!solver::rk_warmup(spec));
  const auto unipc = solver::parse_solver(solver::find_preset("unipc:bh1-3").solver);
  CHECK(unipc.lower_order_final_below == solver::lower_order_final_always);
  CHECK(unipc.unipc_variant == 0);
  CHECK(solver::parse_solver(solver::find_preset("diffusers:unipc").solver).final_denoise);
}
