// Optimised time grids (src/optimize): the dynamic programme against brute force, the local search
// never worse than its start, the DDIM costs and global error on a Gaussian against their closed
// forms, identical re-runs, and the named refusals of bad input (library and command line).
#include <catch2/catch.hpp>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <sstream>
#include <sys/wait.h>
#include <unistd.h>

#include "io/hdf5.hpp"
#include "model/start_states.hpp"
#include "optimize/grid_optimizer.hpp"
#include "schedule/registry.hpp"
#include "spacing/spacing.hpp"
#include "support.hpp"

using namespace pfode;

namespace {

// Every increasing path 0 = k_0 < ... < k_steps = points - 1, for brute force.
void each_path(int points, int steps, const std::function<void(const std::vector<int>&)>& visit) {
  std::vector<int> path{0};
  std::function<void()> extend = [&] {
    const int n = static_cast<int>(path.size()) - 1;
    if (n == steps - 1) {
      path.push_back(points - 1);
      visit(path);
      path.pop_back();
      return;
    }
    for (int k = path.back() + 1; k < points - 1 - (steps - 1 - n - 1); ++k) {
      path.push_back(k);
      extend();
      path.pop_back();
    }
  };
  extend();
}

// DDIM on a diagonal Gaussian in canonical variables: with u = y - mu, one step from s_i to s_j
// multiplies u by 1 + (s_j/s_i - 1) s_i^2/(c^2 + s_i^2); the exact flow by sqrt((c^2 + s_j^2)/(c^2 + s_i^2)).
double ddim_factor(double c, double si, double sj) { return 1.0 + (sj / si - 1.0) * si * si / (c * c + si * si); }
double exact_factor(double c, double si, double sj) { return std::sqrt((c * c + sj * sj) / (c * c + si * si)); }

// RMS over samples and coordinates (the objective's RMS of per-sample RMS is the same number)
// of alpha(t_last) times the DDIM error through `times` from the exact state at times[0] of the
// trajectories through y0 at t_max.
double closed_form_error(const model::ModelSpec& m, const schedule::Schedule& sched, const std::vector<double>& y0,
                         const std::vector<double>& times) {
  const double s0 = sched.s(sched.t_max);
  double sum = 0;
  const int samples = static_cast<int>(y0.size()) / m.dim;
  for (int p = 0; p < samples; ++p)
    for (int c = 0; c < m.dim; ++c) {
      const double sd = m.stds[c];
      const double u = (y0[static_cast<size_t>(p) * m.dim + c] - m.means[c]) * exact_factor(sd, s0, sched.s(times.front()));
      double numeric = 1.0;
      for (size_t k = 1; k < times.size(); ++k) numeric *= ddim_factor(sd, sched.s(times[k - 1]), sched.s(times[k]));
      const double d = sched.alpha(times.back()) * u * (numeric - exact_factor(sd, sched.s(times.front()), sched.s(times.back())));
      sum += d * d;
    }
  return std::sqrt(sum / (static_cast<double>(samples) * m.dim));
}

optimize::GridProblem gaussian_problem(const std::string& solver, int nfe, int candidates) {
  optimize::GridProblem p;
  p.model = test::gaussian(2);
  p.schedule = {"vp-linear", schedule::make_schedule("vp-linear")};
  p.solver_label = solver;
  p.solver = solver::parse_solver(solver);
  p.nfe_budget = nfe;
  p.candidates = candidates;
  const auto& s = p.schedule.schedule;
  p.y_train = model::start_states(p.model, {}, 0, 32, s.alpha(s.t_max), s.sigma(s.t_max));
  p.y_heldout = model::start_states(p.model, {}, 1, 32, s.alpha(s.t_max), s.sigma(s.t_max));
  for (const char* name : {"uniform-t", "uniform-lambda", "quadratic-t", "karras", "uniform-log-sigma"})
    p.spacings.push_back({name, spacing::parse_spacing(name)});
  return p;
}

}  // namespace

TEST_CASE("the dynamic programme finds the brute-force cheapest path", "[optimize]") {
  const int points = 10;
  std::vector<double> cost(points * points);
  for (int i = 0; i < points; ++i)
    for (int j = 0; j < points; ++j) cost[i * points + j] = std::fmod(0.37 * (i + 1) * (j + 3) + 0.11 * j * j, 1.7) + 0.01 * (j - i);
  for (int steps = 1; steps < points; ++steps) {
    double best = INFINITY;
    std::vector<int> best_path;
    each_path(points, steps, [&](const std::vector<int>& path) {
      double c = 0;
      for (size_t k = 1; k < path.size(); ++k) c += cost[path[k - 1] * points + path[k]];
      if (c < best) best = c, best_path = path;
    });
    const auto dp = optimize::cheapest_path(cost, points, steps);
    CHECK(dp.cost == Approx(best).epsilon(1e-12));
    CHECK(dp.indices == best_path);
  }
  CHECK_THROWS_WITH(optimize::cheapest_path(cost, points, 0), Catch::Contains("0 steps do not fit"));
  CHECK_THROWS_WITH(optimize::cheapest_path(cost, points, points), Catch::Contains("at most 9"));
}

TEST_CASE("the dynamic programme along its own prefixes: exact for index-dependent costs, and what it asks",
          "[optimize]") {
  const int points = 10;
  std::vector<double> cost(points * points);
  for (int i = 0; i < points; ++i)
    for (int j = 0; j < points; ++j) cost[i * points + j] = std::fmod(0.37 * (i + 1) * (j + 3) + 0.11 * j * j, 1.7) + 0.01 * (j - i);
  for (int steps = 1; steps < points; ++steps) {
    // A cost of the step's index, start and end only (a dearer first and last step, as warm-up and
    // last-step rules make them) keeps Bellman's principle: the brute-force optimum.
    auto indexed = [&](int n, int i, int j) {
      return cost[i * points + j] * (n == 0 ? 1.5 : 1.0) * (n == steps - 1 ? 0.5 : 1.0) + 0.03 * n * j;
    };
    double best = INFINITY;
    std::vector<int> best_path;
    each_path(points, steps, [&](const std::vector<int>& path) {
      double c = 0;
      for (size_t k = 1; k < path.size(); ++k) c += indexed(static_cast<int>(k) - 1, path[k - 1], path[k]);
      if (c < best) best = c, best_path = path;
    });
    const auto dp = optimize::cheapest_path_along_prefix(
        [&](const std::vector<int>& prefix, int j) {
          const int n = static_cast<int>(prefix.size()) - 1;
          // Asked only along increasing prefixes from 0 with room for the steps left.
          CHECK(prefix.front() == 0);
          CHECK(j > prefix.back());
          CHECK(j <= (n == steps - 1 ? points - 1 : points - 1 - (steps - 1 - n)));
          if (n == steps - 1) CHECK(j == points - 1);
          return indexed(n, prefix.back(), j);
        },
        points, steps);
    CHECK(dp.cost == Approx(best).epsilon(1e-12));
    CHECK(dp.indices == best_path);
    double sum = 0;
    for (int n = 0; n < steps; ++n) {
      CHECK(dp.step_cost[n] == indexed(n, best_path[n], best_path[n + 1]));
      sum += dp.step_cost[n];
    }
    CHECK(sum == Approx(dp.cost).epsilon(1e-12));
    // Without the index it is cheapest_path.
    const auto plain = optimize::cheapest_path_along_prefix(
        [&](const std::vector<int>& prefix, int j) { return cost[prefix.back() * points + j]; }, points, steps);
    CHECK(plain.indices == optimize::cheapest_path(cost, points, steps).indices);
  }
}

TEST_CASE("the local search keeps only improvements and refuses a non-monotone start", "[optimize]") {
  const std::vector<double> target{0.0, 0.3, 1.7, 2.2, 4.0};
  auto objective = [&](const std::vector<double>& l) {
    double s = 0;
    for (size_t k = 0; k < l.size(); ++k) s += (l[k] - target[k]) * (l[k] - target[k]);
    return s;
  };
  const std::vector<double> start{0.0, 1.0, 2.0, 3.0, 4.0};
  const auto r = optimize::local_search(start, objective);
  CHECK(r.value <= objective(start));
  for (size_t k = 1; k < r.history.size(); ++k) CHECK(r.history[k] < r.history[k - 1]);
  for (size_t k = 0; k < target.size(); ++k) CHECK(r.lambda[k] == Approx(target[k]).margin(5e-3));
  CHECK(r.evaluations <= optimize::LocalSearchSettings{}.max_evaluations);
  CHECK_THROWS_WITH(optimize::local_search({0.0, 2.0, 1.0, 4.0}, objective), Catch::Contains("not monotone"));
}

TEST_CASE("DDIM on a Gaussian: exact one-step costs, the brute-force optimum, never worse than a standard spacing",
          "[optimize]") {
  // 4 steps through 13 candidate times: 165 paths.
  const auto p = gaussian_problem("ddim", 4, 12);
  const auto& sched = p.schedule.schedule;
  const auto r = optimize::optimize_grid(p);
  REQUIRE(r.steps == 4);
  REQUIRE(r.nfe == 4);
  const int points = 13;
  REQUIRE(r.candidate_t.size() == static_cast<size_t>(points));
  CHECK(r.candidate_t.front() == sched.t_max);
  CHECK(r.candidate_t.back() == sched.t_min);

  // The costs pfode measured (solver run from the reference states) against the closed form.
  std::vector<double> exact_cost(points * points, 0.0);
  for (int i = 0; i < points; ++i)
    for (int j = i + 1; j < points; ++j) {
      // From the exact state at t_i (the closed form starts every grid from the exact flow).
      exact_cost[i * points + j] = closed_form_error(p.model, sched, p.y_train, {r.candidate_t[i], r.candidate_t[j]});
      CHECK(r.step_cost[i * points + j] == Approx(exact_cost[i * points + j]).epsilon(1e-8).margin(1e-13));
    }
  // The dynamic programme's path is the brute-force cheapest on the closed-form costs.
  double best = INFINITY;
  std::vector<int> best_path;
  each_path(points, 4, [&](const std::vector<int>& path) {
    double c = 0;
    for (size_t k = 1; k < path.size(); ++k) c += exact_cost[path[k - 1] * points + path[k]];
    if (c < best) best = c, best_path = path;
  });
  CHECK(r.dp.indices == best_path);
  CHECK(r.dp.cost == Approx(best).epsilon(1e-8));

  // The objective of every grid is the closed-form global error; the optimised grid is never worse
  // than a standard spacing or the dp grid, on the training states, and it improved on all of them.
  REQUIRE(r.grids.size() == p.spacings.size() + 3);
  REQUIRE(r.grids[p.spacings.size()].name == "kl-optimal");
  REQUIRE(r.grids.back().name == "optimized");
  const double optimized = r.grids.back().train_rms;
  for (const auto& g : r.grids) {
    CHECK(g.train_rms == Approx(closed_form_error(p.model, sched, p.y_train, g.t)).epsilon(1e-8));
    CHECK(g.heldout_rms == Approx(closed_form_error(p.model, sched, p.y_heldout, g.t)).epsilon(1e-8));
    CHECK(optimized <= g.train_rms);
  }
  double best_standard = INFINITY;
  for (size_t g = 0; g < p.spacings.size(); ++g) best_standard = std::min(best_standard, r.grids[g].train_rms);
  CHECK(optimized < 0.9 * best_standard);
  // The grid is a valid custom spacing grid: from t_max to t_min, strictly decreasing.
  const auto& t = r.grids.back().t;
  CHECK(t.front() == sched.t_max);
  CHECK(t.back() == sched.t_min);
  for (size_t k = 1; k < t.size(); ++k) CHECK(t[k] < t[k - 1]);

  // A re-run gives the same numbers, bit for bit.
  const auto again = optimize::optimize_grid(p);
  CHECK(again.step_cost == r.step_cost);
  CHECK(again.dp.indices == r.dp.indices);
  CHECK(again.grids.back().t == r.grids.back().t);
  CHECK(again.grids.back().heldout_rms == r.grids.back().heldout_rms);
}

TEST_CASE("multistep solvers and EDM Heun: dp steps priced by their LTE on the dp's own grid, never worse than a start",
          "[optimize]") {
  for (const char* label : {"dpm-solver++2m", "unipc-2", "edm-heun"}) {
    INFO(label);
    // 5 steps (edm-heun: NFE 9) through 13 candidate times.
    const auto p = gaussian_problem(label, std::string(label) == "edm-heun" ? 9 : 5, 12);
    const auto r = optimize::optimize_grid(p);
    REQUIRE(r.steps == 5);
    CHECK_FALSE(r.dp_exact);
    CHECK(r.step_cost.empty());
    // Every step cost of the dp path is the LTE of that step in a run on the dp grid itself (warm-up
    // step, middle steps with their real history, and the last step as the method takes it).
    std::vector<double> dp_t;
    for (int k : r.dp.indices) dp_t.push_back(r.candidate_t[k]);
    const int samples = static_cast<int>(p.y_train.size()) / p.model.dim;
    const auto run = test::solve_on_grid(p.model, p.schedule.schedule, dp_t, solver::with_budget(p.solver, p.nfe_budget),
                                         test::to_view(p.y_train, samples, p.model.dim), true);
    REQUIRE(r.dp.step_cost.size() == 5u);
    for (int n = 0; n < 5; ++n) {
      double sum = 0;
      for (int s = 0; s < samples; ++s) sum += run.local_error[s * 5 + n] * run.local_error[s * 5 + n];
      CHECK(r.dp.step_cost[n] == Approx(std::sqrt(sum / samples)).epsilon(1e-6));
    }
    // The true objective decides: never worse than any start, on the training states.
    REQUIRE(r.grids.back().name == "optimized");
    for (const auto& g : r.grids) CHECK(r.grids.back().train_rms <= g.train_rms);
    CHECK(r.grids.back().train_rms < r.grids[r.grids.size() - 2].train_rms);  // the search improved on dp
    const auto again = optimize::optimize_grid(p);
    CHECK(again.dp.indices == r.dp.indices);
    CHECK(again.dp.step_cost == r.dp.step_cost);
    CHECK(again.grids.back().t == r.grids.back().t);
    CHECK(again.grids.back().heldout_rms == r.grids.back().heldout_rms);
  }
}

TEST_CASE("the KL-optimal grid is tan-uniform in atan(sigma/alpha)", "[optimize]") {
  for (const char* name : {"edm", "vp-linear", "ve"}) {
    INFO(name);
    const auto sched = schedule::make_schedule(name);
    const auto t = optimize::kl_optimal_grid(sched, 5);
    REQUIRE(t.size() == 6u);
    CHECK(t.front() == sched.t_max);
    CHECK(t.back() == sched.t_min);
    const double a_max = std::atan(sched.s(sched.t_max)), a_min = std::atan(sched.s(sched.t_min));
    for (int i = 0; i <= 5; ++i) CHECK(sched.s(t[i]) == Approx(std::tan(a_max + (a_min - a_max) * i / 5.0)).epsilon(1e-10));
  }
  // EDM: t = sigma, so the grid is the formula itself.
  const auto edm = optimize::kl_optimal_grid(schedule::make_schedule("edm"), 2);
  CHECK(edm[1] == Approx(std::tan(0.5 * (std::atan(80.0) + std::atan(0.002)))).epsilon(1e-12));
}

TEST_CASE("optimize refuses what it cannot do, by name", "[optimize]") {
  CHECK_THROWS_WITH(optimize::optimize_grid(gaussian_problem("heun", 1, 12)), Catch::Contains("NFE budget 1 is too small for heun"));
  for (const char* label : {"dpm-solver-fast", "pndm", "dopri5", "euler-maruyama"})
    CHECK_THROWS_WITH(optimize::optimize_grid(gaussian_problem(label, 6, 12)),
                      Catch::Contains(std::string("solver ") + label + " is not supported"));
  CHECK_THROWS_WITH(optimize::optimize_grid(gaussian_problem("ddim[final=denoise]", 5, 12)), Catch::Contains("final=denoise"));
  CHECK_THROWS_WITH(optimize::optimize_grid(gaussian_problem("ddim", 8, 4)), Catch::Contains("8 steps of ddim at NFE 8 need"));
  CHECK_THROWS_WITH(optimize::optimize_grid(gaussian_problem("ddim", 4, 1)), Catch::Contains("candidates = 1 is outside"));
  auto diffusers = gaussian_problem("ddim", 4, 12);
  diffusers.spacings.push_back({"diffusers-linspace", spacing::parse_spacing("diffusers-linspace")});
  CHECK_THROWS_WITH(optimize::optimize_grid(diffusers), Catch::Contains("diffusers-linspace does not run from t_max to t_min"));
}

namespace {

struct Cli {
  std::filesystem::path dir = std::filesystem::temp_directory_path() / ("pfode_optimize_" + std::to_string(::getpid()));
  Cli() {
    std::filesystem::remove_all(dir);
    std::filesystem::create_directories(dir);
  }
  ~Cli() { std::filesystem::remove_all(dir); }
  int run(const std::string& args, std::string* err = nullptr) const {
    const auto err_file = dir / "err.txt";
    const std::string cmd = std::string(PFODE_EXECUTABLE) + " optimize " + args + " > /dev/null 2> " + err_file.string();
    const int raw = std::system(cmd.c_str());
    if (err) {
      std::ifstream in(err_file);
      std::stringstream ss;
      ss << in.rdbuf();
      *err = ss.str();
    }
    return WIFEXITED(raw) ? WEXITSTATUS(raw) : -1;
  }
};

}  // namespace

TEST_CASE("pfode optimize writes a custom spacing file a sweep reads, and an HDF5 record", "[optimize]") {
  Cli cli;
  const auto config = cli.dir / "x.ini";
  std::ofstream(config) << "[run]\nout = " << (cli.dir / "x.h5").string()
                        << "\nsamples = 16\nseeds = 0\n[sweep]\nmodels = g\nschedules = vp-linear\n"
                           "spacings = uniform-lambda uniform-t\nsolvers = ddim\nnfe = 3\n"
                           "[model.g]\nkind = gaussian\ndim = 2\nmeans = 0.5 -0.5\nstds = 0.3 0.5\n";
  const std::string c = config.string() + " --candidates 8";
  std::string err;
  REQUIRE(cli.run(c, &err) == 0);
  const auto h5 = cli.dir / "x-optimize.h5", grid_file = cli.dir / "x-optimize-g-vp-linear-ddim-nfe3.txt";
  REQUIRE(std::filesystem::exists(grid_file));
  const auto sched = schedule::make_schedule("vp-linear");
  const auto grid = spacing::make_grid(spacing::parse_spacing("custom[file=" + grid_file.string() + "]"), sched, 3);
  const auto file = io::File::open_read(h5.string());
  const auto g = file.root().open_group("optimize").open_group("000000");
  const auto t = g.read_dataset("grid_t");
  CHECK(std::vector<double>(t.end() - 4, t.end()) == grid);  // the last row: the optimised grid
  const auto train = g.read_dataset("train_gte_rms");
  for (double v : train) CHECK(train.back() <= v);
  CHECK(g.read_long_attribute("heldout_samples") == 16);
  CHECK(file.root().read_long_attribute("heldout_seed") == 1);

  // Existing outputs are kept unless --force; bad options and inputs are named.
  CHECK(cli.run(c, &err) == 2);
  CHECK_THAT(err, Catch::Contains("exists; pass --force"));
  CHECK(cli.run(c + " --force", &err) == 0);
  CHECK(cli.run(config.string() + " --force --candidates 1", &err) == 2);
  CHECK_THAT(err, Catch::Contains("--candidates must be in [2, 4096]"));
  CHECK(cli.run(c + " --force --heldout-seed 0", &err) == 2);
  CHECK_THAT(err, Catch::Contains("held-out seed 0 is one of the training seeds"));
  CHECK(cli.run(c + " --force --set sweep.solvers=dpm-solver-fast", &err) == 2);
  CHECK_THAT(err, Catch::Contains("pfode: error: optimize: solver dpm-solver-fast is not supported"));
  CHECK(cli.run(c + " --force --set sweep.solvers=rk3 --set sweep.nfe=2", &err) == 2);
  CHECK_THAT(err, Catch::Contains("NFE budget 2 is too small for rk3"));
}
