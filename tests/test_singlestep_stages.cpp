// Singlestep DPM-Solver with stages=spacing against the official code's skip_type placement,
// re-derived here from its description (dpm_solver_pytorch.py: get_time_steps,
// get_orders_and_timesteps_for_singlestep_solver, the singlestep loop and the "dpmsolver" updates):
// the grids and stage fractions of the plan, and whole trajectories against the official loop
// written out on the host with the exact mixture denoiser.
#include <catch2/catch.hpp>

#include <cmath>
#include <vector>

#include "solver/presets.hpp"
#include "support.hpp"

using namespace pfode;

namespace {

// get_time_steps for time_uniform (t uniform) and time_quadratic (sqrt t uniform): N + 1 times.
std::vector<double> official_time_steps(bool quadratic, double t_T, double t_0, int n) {
  std::vector<double> t(n + 1);
  for (int k = 0; k <= n; ++k) {
    const double f = static_cast<double>(k) / n;
    t[k] = quadratic ? std::pow(std::sqrt(t_T) + f * (std::sqrt(t_0) - std::sqrt(t_T)), 2) : t_T + f * (t_0 - t_T);
  }
  return t;
}

struct OfficialPlan {
  std::vector<int> orders;
  std::vector<double> outer;                 // step boundaries
  std::vector<std::vector<double>> inner;    // each step's order + 1 points, inner ones included
};

// method "singlestep" (fixed = false: order 3 is DPM-Solver-fast) or "singlestep_fixed" for `steps` NFE.
OfficialPlan official_plan(bool quadratic, bool fixed, int order, int steps, const schedule::Schedule& sched) {
  OfficialPlan p;
  if (fixed) {
    p.orders.assign(steps / order, order);
    p.outer = official_time_steps(quadratic, sched.t_max, sched.t_min, steps / order);
  } else {
    const int k = steps / 3 + 1;
    p.orders.assign(k - (steps % 3 == 0 ? 2 : 1), 3);
    if (steps % 3 == 0) p.orders.insert(p.orders.end(), {2, 1});
    if (steps % 3 == 1) p.orders.push_back(1);
    if (steps % 3 == 2) p.orders.push_back(2);
    const auto fine = official_time_steps(quadratic, sched.t_max, sched.t_min, steps);
    int at = 0;
    p.outer.push_back(fine[0]);
    for (int o : p.orders) p.outer.push_back(fine[at += o]);
  }
  for (size_t i = 0; i < p.orders.size(); ++i)
    p.inner.push_back(official_time_steps(quadratic, p.outer[i], p.outer[i + 1], p.orders[i]));
  return p;
}

// The exact mixture denoiser D(y, s) on the host (diagonal components, log-sum-exp weights).
std::vector<double> denoise(const model::ModelSpec& m, const std::vector<double>& y, double s) {
  const int k_count = static_cast<int>(m.weights.size()), dim = m.dim;
  std::vector<double> log_r(k_count);
  for (int k = 0; k < k_count; ++k) {
    double q = std::log(m.weights[k]);
    for (int j = 0; j < dim; ++j) {
      const double v = m.stds[k * dim + j] * m.stds[k * dim + j] + s * s, d = y[j] - m.means[k * dim + j];
      q -= 0.5 * (d * d / v + std::log(2 * M_PI * v));
    }
    log_r[k] = q;
  }
  double top = log_r[0];
  for (double v : log_r) top = std::max(top, v);
  double total = 0;
  for (double& v : log_r) total += (v = std::exp(v - top));
  std::vector<double> out(dim, 0.0);
  for (int k = 0; k < k_count; ++k)
    for (int j = 0; j < dim; ++j) {
      const double c2 = m.stds[k * dim + j] * m.stds[k * dim + j];
      out[j] += log_r[k] / total * (m.means[k * dim + j] + c2 / (c2 + s * s) * (y[j] - m.means[k * dim + j]));
    }
  return out;
}

// The official singlestep loop ("dpmsolver" algorithm, noise prediction, "dpmsolver" solver type)
// from x at plan.outer[0]; stage times by inverse_lambda of lambda_s + r h.
std::vector<double> official_sample(const model::ModelSpec& m, const schedule::Schedule& sched, const OfficialPlan& p,
                                    std::vector<double> x) {
  auto eps = [&](const std::vector<double>& xv, double lam) {
    const double t = sched.t_of_lambda(lam), a = sched.alpha(t), sg = sched.sigma(t);
    std::vector<double> y(xv.size());
    for (size_t j = 0; j < xv.size(); ++j) y[j] = xv[j] / a;
    const auto d = denoise(m, y, sg / a);
    for (size_t j = 0; j < xv.size(); ++j) y[j] = (xv[j] - a * d[j]) / sg;
    return y;
  };
  auto log_alpha = [&](double lam) { return std::log(sched.alpha(sched.t_of_lambda(lam))); };
  auto sigma = [&](double lam) { return sched.sigma(sched.t_of_lambda(lam)); };
  const size_t n = x.size();
  for (size_t i = 0; i < p.orders.size(); ++i) {
    const double ls = sched.lambda(p.outer[i]), lt = sched.lambda(p.outer[i + 1]), h = lt - ls;
    const int order = p.orders[i];
    const auto e0 = eps(x, ls);
    std::vector<double> next(n);
    if (order == 1) {
      for (size_t j = 0; j < n; ++j) next[j] = std::exp(log_alpha(lt) - log_alpha(ls)) * x[j] - sigma(lt) * std::expm1(h) * e0[j];
    } else if (order == 2) {
      const double r1 = (sched.lambda(p.inner[i][1]) - ls) / h, l1 = ls + r1 * h;
      std::vector<double> u(n);
      for (size_t j = 0; j < n; ++j) u[j] = std::exp(log_alpha(l1) - log_alpha(ls)) * x[j] - sigma(l1) * std::expm1(r1 * h) * e0[j];
      const auto e1 = eps(u, l1);
      for (size_t j = 0; j < n; ++j)
        next[j] = std::exp(log_alpha(lt) - log_alpha(ls)) * x[j] - sigma(lt) * std::expm1(h) * e0[j] -
                  0.5 / r1 * sigma(lt) * std::expm1(h) * (e1[j] - e0[j]);
    } else {
      const double r1 = (sched.lambda(p.inner[i][1]) - ls) / h, r2 = (sched.lambda(p.inner[i][2]) - ls) / h;
      const double l1 = ls + r1 * h, l2 = ls + r2 * h;
      const double phi_22 = std::expm1(r2 * h) / (r2 * h) - 1.0, phi_2 = std::expm1(h) / h - 1.0;
      std::vector<double> u1(n), u2(n);
      for (size_t j = 0; j < n; ++j) u1[j] = std::exp(log_alpha(l1) - log_alpha(ls)) * x[j] - sigma(l1) * std::expm1(r1 * h) * e0[j];
      const auto e1 = eps(u1, l1);
      for (size_t j = 0; j < n; ++j)
        u2[j] = std::exp(log_alpha(l2) - log_alpha(ls)) * x[j] - sigma(l2) * std::expm1(r2 * h) * e0[j] -
                r2 / r1 * sigma(l2) * phi_22 * (e1[j] - e0[j]);
      const auto e2 = eps(u2, l2);
      for (size_t j = 0; j < n; ++j)
        next[j] = std::exp(log_alpha(lt) - log_alpha(ls)) * x[j] - sigma(lt) * std::expm1(h) * e0[j] -
                  1.0 / r2 * sigma(lt) * phi_2 * (e2[j] - e0[j]);
    }
    x = next;
  }
  return x;
}

struct Case {
  std::string preset;
  bool quadratic, fixed;
  int order;
};
const std::vector<Case> kCases = {
    {"dpm-solver:2s-time-uniform", false, true, 2},     {"dpm-solver:3s-time-uniform", false, true, 3},
    {"dpm-solver:fast-time-uniform", false, false, 3},  {"dpm-solver:2s-time-quadratic", true, true, 2},
    {"dpm-solver:3s-time-quadratic", true, true, 3},    {"dpm-solver:fast-time-quadratic", true, false, 3},
};

sweep::Experiment preset_experiment(const model::ModelSpec& m, const std::string& preset, const std::vector<int>& nfe,
                                    int samples) {
  const auto& p = solver::find_preset(preset);
  auto e = test::experiment(m, "vp-linear", p.spacing, p.solver, nfe, samples);
  e.solvers[0].label = preset;
  return e;
}

}  // namespace

TEST_CASE("stages=spacing: the plan's grids and stage fractions are the official skip_type placement",
          "[singlestep_stages]") {
  const auto sched = schedule::make_schedule("vp-linear");
  double r1_min = 1, r1_max = 0;
  for (const auto& c : kCases) {
    const std::vector<int> budgets = {6, 7, 8, 10, 20};
    const auto e = preset_experiment(test::gaussian(2), c.preset, budgets, 1);
    const auto plan = sweep::make_plan(e);
    REQUIRE(plan.cells.size() == budgets.size());
    for (const auto& cell : plan.cells) {
      const int budget = e.nfe[cell.budget];
      INFO(c.preset << " NFE " << budget);
      const auto official = official_plan(c.quadratic, c.fixed, c.order, budget, sched);
      REQUIRE(cell.times.size() == official.outer.size());
      for (size_t i = 0; i < cell.times.size(); ++i) CHECK(cell.times[i] == Approx(official.outer[i]).epsilon(1e-14));
      const auto grid = solver::make_step_grid(sched, cell.times, solver::Variable::t, cell.stage_times);
      const auto r = test::to_host(grid.stage_r);
      REQUIRE(static_cast<size_t>(r.extent(0)) == official.orders.size());
      for (size_t i = 0; i < official.orders.size(); ++i) {
        const double ls = sched.lambda(official.outer[i]), h = sched.lambda(official.outer[i + 1]) - ls;
        for (int k = 0; k < 2; ++k) {
          if (k + 1 < official.orders[i]) {
            const double want = (sched.lambda(official.inner[i][k + 1]) - ls) / h;
            CHECK(std::fabs(r(i, k) - want) <= 1e-12);
            if (k == 0 && !c.quadratic) r1_min = std::min(r1_min, want), r1_max = std::max(r1_max, want);
          } else {
            CHECK(std::isnan(r(i, k)));  // a step of lower order has no such stage
          }
        }
      }
      // The NFE is the official count: the budget (fast) or order x steps.
      CHECK(cell.nfe_stated == (c.fixed ? budget / c.order * c.order : budget));
    }
  }
  // What the README states for uniform-t on vp-linear at NFE 6-20: r1 from 0.11 to 0.55 of a step
  // in lambda, far from 1/2 (1/3).
  INFO("r1 in " << r1_min << " .. " << r1_max);
  CHECK(std::round(r1_min * 100) == 11);
  CHECK(std::round(r1_max * 100) == 55);
}

TEST_CASE("stages=spacing: trajectories equal the official singlestep loop written out", "[singlestep_stages]") {
  const auto m = test::mixture2d();
  const auto sched = schedule::make_schedule("vp-linear");
  const int samples = 4;
  for (const auto& c : kCases) {
    const int budget = c.fixed ? 12 : 11;
    const auto e = preset_experiment(m, c.preset, {budget}, samples);
    const auto cell = sweep::make_plan(e).cells.at(0);
    const auto spec = solver::with_budget(e.solvers[0].spec, budget);
    const auto model = model::to_device(m);
    const auto starts = test::marginal_starts(m, sched, samples);
    std::vector<double> s_out;
    for (double t : cell.times) s_out.push_back(sched.s(t));
    const auto ref = reference::solve_reference(model, starts, s_out);
    Kokkos::View<int*> index("pfode::test::index", cell.times.size());
    auto ih = Kokkos::create_mirror_view(index);
    for (size_t i = 0; i < cell.times.size(); ++i) ih(i) = static_cast<int>(i);
    Kokkos::deep_copy(index, ih);
    const auto grid = solver::make_step_grid(sched, cell.times, solver::Variable::t, cell.stage_times);
    const auto run = solver::run_solver(spec, grid, model, solver::ExactStates{ref.y, index}, samples, false);
    CHECK(run.nfe[0] == budget - (c.fixed ? budget % c.order : 0));
    const auto official = official_plan(c.quadratic, c.fixed, c.order, budget, sched);
    const auto y0 = test::to_host(starts);
    double worst = 0, moved = 0;
    for (int p = 0; p < samples; ++p) {
      std::vector<double> x(m.dim);
      for (int j = 0; j < m.dim; ++j) x[j] = sched.alpha(sched.t_max) * y0(p, j);
      const auto want = official_sample(m, sched, official, x);
      for (int j = 0; j < m.dim; ++j) {
        worst = std::max(worst, std::fabs(run.final_state[p * m.dim + j] - want[j]) / std::max(1.0, std::fabs(want[j])));
        moved = std::max(moved, std::fabs(want[j] - x[j]));
      }
    }
    INFO(c.preset << ": largest relative difference " << worst);
    CHECK(worst <= 1e-12);
    CHECK(moved > 0.1);  // the loop went somewhere
  }
  // stages=lambda on the same grid is another method (r fixed at 1/2, 1/3, 2/3).
  const auto lambda_stages = test::experiment(m, "vp-linear", "uniform-t", "dpm-solver-3", {12}, 1);
  CHECK(sweep::make_plan(lambda_stages).cells.at(0).stage_times.empty());
}

TEST_CASE("stages=spacing: options and bad input", "[singlestep_stages]") {
  CHECK(solver::describe_options(solver::parse_solver("dpm-solver-2[stages=spacing]")) == "stages=spacing,final=none");
  CHECK(solver::describe_options(solver::parse_solver("dpm-solver-fast")) == "stages=lambda,final=none");
  CHECK_THROWS_WITH(solver::parse_solver("dpm-solver-2[stages=grid]"),
                    "option stages: 'grid' (known: lambda, spacing)");
  CHECK_THROWS_WITH(solver::parse_solver("dpm-solver++2s[stages=spacing]"),
                    "solver dpm-solver++2s has no option 'stages'");
  // On uniform-lambda the official code keeps K steps uniform in lambda (logSNR): stages=lambda.
  const auto e = test::experiment(test::gaussian(2), "vp-linear", "uniform-lambda", "dpm-solver-fast[stages=spacing]",
                                  {10}, 1);
  const auto plain = test::experiment(test::gaussian(2), "vp-linear", "uniform-lambda", "dpm-solver-fast", {10}, 1);
  CHECK(sweep::make_plan(e).cells.at(0).times == sweep::make_plan(plain).cells.at(0).times);
  CHECK(sweep::make_plan(e).cells.at(0).stage_times.empty());
  // A custom grid has no points to put inside its steps: the cell is refused before any compute.
  auto custom = test::experiment(test::gaussian(2), "vp-linear", "uniform-t", "dpm-solver-2[stages=spacing]", {4}, 1);
  custom.spacings[0] = {"custom[file=grid.txt]", spacing::Spacing{}};
  custom.spacings[0].spacing.kind = spacing::Kind::custom;
  custom.spacings[0].spacing.custom_times = {1.0, 0.5, 1e-3};
  CHECK_THROWS_WITH(sweep::make_plan(custom), Catch::Contains("stages=spacing needs a spacing that can place points"));
}

TEST_CASE("stages=spacing: DPM-Solver-2 and -3 keep their orders (stages tend to r = 1/2, 1/3, 2/3)",
          "[singlestep_stages]") {
  // Karras' grid resolves lambda on vp-linear, so the fits are asymptotic (the uniform-t grid
  // does not: README, "Time-step spacings").
  for (const char* name : {"dpm-solver-2[stages=spacing]", "dpm-solver-3[stages=spacing]"}) {
    auto e = test::experiment(test::mixture2d(), "vp-linear", "karras", name,
                              {24, 36, 48, 72, 96, 144, 192, 288, 384, 576, 768}, 16);
    e.reference_tolerance = 1e-14;
    const auto fits = sweep::fit_series(test::run_cells(e));
    REQUIRE(fits.size() == 1);
    const auto& f = fits[0];
    INFO(name << ": GTE order " << f.gte.order << " over " << f.gte.last - f.gte.first + 1 << " budgets, LTE order "
              << f.lte.order);
    REQUIRE(f.gte.valid);
    CHECK(f.gte.last - f.gte.first + 1 >= 4);
    CHECK(std::fabs(f.gte.order - f.order_theory) <= 0.15);
    CHECK(std::fabs(f.lte.order - f.lte_order_theory) <= 0.15);
  }
}
