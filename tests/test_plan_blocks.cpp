// Plans that are not one cartesian product: [plan.NAME] blocks, each its own product with the axes
// it does not set taken from [sweep]; the plan runs exactly the union of their cells.
#include <catch2/catch.hpp>

#include <cstdio>
#include <set>
#include <tuple>

#include "io/hdf5.hpp"
#include "support.hpp"

using namespace pfode;

namespace {

sweep::Experiment load(const std::string& text) { return test::load_config_text(text, "pfode_test_plan_blocks.ini"); }

const std::string kGaussian = "[model.g]\nkind = gaussian\ndim = 2\nmeans = 0 1\nstds = 0.5 0.4\n";
const std::string kModels =
    kGaussian + "[model.m]\nkind = mixture\ndim = 2\nweights = 0.5 0.5\nmeans = -1 0 ; 1 0\nstds = 0.4 0.5\n";

using Key = std::tuple<std::string, std::string, std::string, std::string, int>;

std::set<Key> cells_of(const sweep::Experiment& e, const sweep::Plan& plan) {
  std::set<Key> out;
  for (const auto& c : plan.cells)
    out.insert({e.models[c.model].name, e.schedules[c.schedule].name, e.spacings[c.spacing].label,
                e.solvers[c.solver].label, e.nfe[c.budget]});
  return out;
}

}  // namespace

TEST_CASE("plan blocks: the plan is exactly the union of the blocks' products", "[plan_blocks]") {
  // UniPC on logSNR for both models, DPM-Solver++(2M) on time-quadratic for the mixture at one
  // budget, and a preset: no other combination runs.
  const auto e = load("[run]\nsamples = 4\n[sweep]\nmodels = g m\nschedules = vp-linear\nnfe = 8 16\n"
                      "[plan.unipc]\nsolvers = unipc-2\n"
                      "[plan.dpmpp]\nmodels = m\nspacings = quadratic-t\nsolvers = dpm-solver++2m\nnfe = 12\n"
                      "[plan.preset]\nmodels = g\nsolvers =\npresets = k-diffusion:euler\n" +
                      kModels);
  const auto plan = sweep::make_plan(e);
  const std::set<Key> want = {
      {"g", "vp-linear", "uniform-lambda", "unipc-2", 8},  {"g", "vp-linear", "uniform-lambda", "unipc-2", 16},
      {"m", "vp-linear", "uniform-lambda", "unipc-2", 8},  {"m", "vp-linear", "uniform-lambda", "unipc-2", 16},
      {"m", "vp-linear", "quadratic-t", "dpm-solver++2m", 12},
      {"g", "vp-linear", "karras[rho=7]", "k-diffusion:euler", 8},
      {"g", "vp-linear", "karras[rho=7]", "k-diffusion:euler", 16},
  };
  CHECK(plan.cells.size() == want.size());
  CHECK(cells_of(e, plan) == want);
  // One reference per (model, schedule, seed) that some cell needs.
  CHECK(plan.groups.size() == 2);
  // Every listed cell runs and reports; the series join cells of one (model, ..., solver) only.
  const auto results = test::run_cells(e);
  REQUIRE(results.size() == want.size());
  std::set<Key> ran;
  for (const auto& r : results) {
    CHECK(r.status == "ok");
    ran.insert({r.model, r.schedule, r.spacing, r.solver, static_cast<int>(r.nfe_budget)});
  }
  CHECK(ran == want);
  CHECK(sweep::fit_series(results).size() == 4);
  // The resolved config records the blocks as written, [sweep]'s inherited axes too.
  CHECK(e.resolved_config.find("[plan.dpmpp]\nmodels = m\nnfe = 12\n") != std::string::npos);
}

TEST_CASE("plan blocks: a cell in two blocks, missing axes and stray keys are refused", "[plan_blocks]") {
  const std::string base = "[run]\nsamples = 4\n[sweep]\nmodels = g\nschedules = edm\nnfe = 8\n";
  CHECK_THROWS_WITH(sweep::make_plan(load(base + "[plan.a]\nsolvers = euler heun\n[plan.b]\nsolvers = heun\n" + kGaussian)),
                    "plan.b: cell g/edm/uniform-lambda/heun/nfe=8/seed=0 is also in plan.a (a cell is listed once)");
  CHECK_THROWS_WITH(load("[run]\nsamples = 4\n[sweep]\nmodels = g\nnfe = 8\n[plan.a]\nsolvers = euler\n" + kGaussian),
                    "config: missing value for 'plan.a.schedules' (set it there or in [sweep])");
  CHECK_THROWS_WITH(load(base + "[plan.a]\nschedules = edm\n" + kGaussian),
                    "config: missing value for 'plan.a.solvers' (or give plan.a.presets)");
  CHECK_THROWS_WITH(load(base + "[plan.a]\nsolvers = euler\ncolour = blue\n" + kGaussian),
                    "config: unknown setting 'plan.a.colour'");
  CHECK_THROWS_WITH(load(base + "[plan.a]\nsolvers = euler euler\n" + kGaussian),
                    "plan.a.solvers: 'euler' is listed twice");
}

TEST_CASE("start states from one file: a dataset per model, or per (model, schedule)", "[plan_blocks]") {
  // Two models of different dimensions, two schedules: datasets named by {model} (and {schedule}).
  const std::string file = "pfode_test_starts.h5";
  std::remove(file.c_str());
  {
    const auto f = io::File::create(file);
    std::vector<double> two(8), three(12);
    for (size_t i = 0; i < two.size(); ++i) two[i] = 0.1 * i - 0.3;
    for (size_t i = 0; i < three.size(); ++i) three[i] = 0.2 - 0.05 * i;
    f.root().create_group("g").write_dataset("x_T", two, {4, 2});
    f.root().create_group("h").write_dataset("x_T", three, {4, 3});
    f.root().write_dataset("x_T_g_edm", two, {4, 2});
    f.root().write_dataset("x_T_g_ve", std::vector<double>(three.begin(), three.begin() + 8), {4, 2});
  }
  const std::string model_g = "[model.g]\nkind = gaussian\ndim = 2\nmeans = 0 1\nstds = 0.5 0.4\n";
  const std::string model_h = "[model.h]\nkind = gaussian\ndim = 3\nmeans = 0 1 2\nstds = 0.5 0.4 0.3\n";
  auto config = [&](const std::string& names, const std::string& schedules, const std::string& dataset) {
    return "[run]\nsamples = 4\nstart = file\nstart_file = " + file + "\nstart_dataset = " + dataset +
           "\n[sweep]\nmodels = " + names + "\nschedules = " + schedules + "\nsolvers = ddim\nnfe = 6\n" +
           (names.find('g') != std::string::npos ? model_g : "") + (names.find('h') != std::string::npos ? model_h : "");
  };
  auto gte = [](const sweep::Experiment& e, const std::string& model, const std::string& schedule) {
    for (const auto& c : test::run_cells(e))
      if (c.model == model && c.schedule == schedule) return c.gte;
    FAIL("no cell " << model << "/" << schedule);
    return std::vector<double>{};
  };
  const auto both = load(config("g h", "edm", "{model}/x_T"));
  CHECK(gte(both, "g", "edm") == gte(load(config("g", "edm", "g/x_T")), "g", "edm"));
  CHECK(gte(both, "h", "edm") == gte(load(config("h", "edm", "h/x_T")), "h", "edm"));
  const auto per_schedule = load(config("g", "edm ve", "x_T_{model}_{schedule}"));
  CHECK(gte(per_schedule, "g", "ve") == gte(load(config("g", "ve", "x_T_g_ve")), "g", "ve"));
  CHECK(gte(per_schedule, "g", "ve") != gte(load(config("g", "ve", "x_T_g_edm")), "g", "ve"));
  // Each dataset the plan needs is read at load: a missing one, or an unknown placeholder, is named.
  CHECK_THROWS_WITH(load(config("g h", "edm", "x_T_{model}_{schedule}")),
                    Catch::Contains("cannot read dataset 'x_T_h_edm'"));
  CHECK_THROWS_WITH(load(config("g", "edm", "{sample}/x_T")), Catch::Contains("unknown placeholder '{sample}'"));
  std::remove(file.c_str());
}
