// What a cell writes for comparison with other tools: saved states (final, and at every grid
// point), the sigma = 0 target of final-denoise cells, checked against an independent solve.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstdio>
#include <fstream>

#include "io/results_file.hpp"
#include "solver/presets.hpp"
#include "support.hpp"

using namespace pfode;

namespace {

double rms(const double* a, const double* b, int n) {
  double sum = 0;
  for (int j = 0; j < n; ++j) sum += (a[j] - b[j]) * (a[j] - b[j]);
  return std::sqrt(sum / n);
}

// y*(0) from y at s0 for a diagonal mixture, apart from pfode's reference: classical RK4 in
// u = log s on dy/du = s^2 sum_k r_k (y - mu_k)/(c_k^2 + s^2) (the score form: no y - D
// cancellation), down to s = 1e-9 min(c), where y has stopped moving (the rest is O(s^2)).
std::vector<double> y_at_zero(const model::ModelSpec& m, std::vector<double> y, double s0, int steps) {
  const int k_count = static_cast<int>(m.weights.size()), dim = m.dim;
  double c_min = 1e300;
  for (double c : m.stds) c_min = std::min(c_min, c);
  auto field = [&](const std::vector<double>& v, double u) {
    const double s2 = std::exp(2 * u);
    std::vector<double> log_r(k_count), out(dim, 0.0);
    for (int k = 0; k < k_count; ++k) {
      double q = std::log(m.weights[k]);
      for (int j = 0; j < dim; ++j) {
        const double var = m.stds[k * dim + j] * m.stds[k * dim + j] + s2, d = v[j] - m.means[k * dim + j];
        q -= 0.5 * (d * d / var + std::log(var));
      }
      log_r[k] = q;
    }
    const double top = *std::max_element(log_r.begin(), log_r.end());
    double total = 0;
    for (double& q : log_r) total += (q = std::exp(q - top));
    for (int k = 0; k < k_count; ++k)
      for (int j = 0; j < dim; ++j) {
        const double var = m.stds[k * dim + j] * m.stds[k * dim + j] + s2;
        out[j] += log_r[k] / total * s2 * (v[j] - m.means[k * dim + j]) / var;
      }
    return out;
  };
  const double u0 = std::log(s0), u1 = std::log(1e-9 * c_min), h = (u1 - u0) / steps;
  for (int i = 0; i < steps; ++i) {
    const double u = u0 + i * h;
    auto shift = [&](const std::vector<double>& k, double f) {
      std::vector<double> out(y);
      for (int j = 0; j < dim; ++j) out[j] += f * h * k[j];
      return out;
    };
    const auto k1 = field(y, u), k2 = field(shift(k1, 0.5), u + 0.5 * h), k3 = field(shift(k2, 0.5), u + 0.5 * h),
               k4 = field(shift(k3, 1.0), u + h);
    for (int j = 0; j < dim; ++j) y[j] += h / 6 * (k1[j] + 2 * k2[j] + 2 * k3[j] + k4[j]);
  }
  return y;
}

}  // namespace

TEST_CASE("save_states: final states and states at every grid point, round-tripped through the file",
          "[outputs]") {
  for (const char* save : {"final", "grid"}) {
    INFO("save_states = " << save);
    auto e = test::experiment(test::mixture2d(), "vp-linear", "uniform-lambda", "dpm-solver++2m", {8, 12}, 6);
    e.save_states = std::string(save) == "grid" ? sweep::Experiment::SaveStates::grid : sweep::Experiment::SaveStates::final;
    e.save_samples = {4, 1};
    const auto cells = test::run_cells(e);
    const std::string path = "pfode_test_outputs.h5";
    std::remove(path.c_str());
    {
      const auto f = io::File::create(path);
      for (const auto& c : cells) io::write_cell(f.root(), c);
    }
    const auto root = io::File::open_read(path).root();
    for (const auto& c : cells) {
      const auto back = io::read_cell(root.open_group(root.children().at(c.id)));
      const int dim = 2, points = static_cast<int>(c.t.size());
      REQUIRE(back.saved_samples == std::vector<int>{4, 1});
      REQUIRE(back.state_dim == dim);
      CHECK(back.final_state == c.final_state);
      CHECK(back.exact_final_state == c.exact_final_state);
      CHECK(back.states == c.states);
      CHECK(back.exact_states == c.exact_states);
      REQUIRE(back.final_state.size() == 2u * dim);
      for (int k = 0; k < 2; ++k) {
        // The per-sample GTE is the distance between the saved final state and its target.
        CHECK(rms(&back.final_state[k * dim], &back.exact_final_state[k * dim], dim) ==
              Approx(c.gte[back.saved_samples[k]]).epsilon(1e-14));
        if (back.states.empty()) continue;
        REQUIRE(back.states.size() == 2u * points * dim);
        const double* x = &back.states[k * points * dim];
        const double* exact = &back.exact_states[k * points * dim];
        CHECK(rms(x, exact, dim) == 0.0);  // the start is the exact state
        for (int j = 0; j < dim; ++j) CHECK(x[(points - 1) * dim + j] == back.final_state[k * dim + j]);
        // Along the way the states leave the exact ones, and the error grows to the GTE.
        CHECK(rms(x + dim, exact + dim, dim) > 0.0);
      }
      CHECK(back.gte_target == "grid_end");
      // The trace too: every step's order (2M: 1, then 2), one evaluation per grid point but the last.
      CHECK(back.step_order == c.step_order);
      CHECK(back.step_corrected == c.step_corrected);
      CHECK(back.eval_s == c.eval_s);
      CHECK(back.eval_t == c.eval_t);
      CHECK(back.step_order.size() == static_cast<size_t>(c.steps));
      CHECK(back.eval_t.size() == static_cast<size_t>(c.nfe));
      for (size_t i = 0; i < back.eval_t.size(); ++i) CHECK(back.eval_t[i] == Approx(c.t[i]).epsilon(1e-12));
      if (std::string(save) == "final") CHECK(back.states.empty());
    }
    std::remove(path.c_str());
  }
}

TEST_CASE("denoise_target = zero: final-denoise cells against x*(0), which agrees with an independent solve "
          "to 1e-10",
          "[outputs]") {
  struct Case {
    std::string schedule, preset;
  };
  const std::vector<Case> cases = {{"edm", "k-diffusion:dpm++2m"}, {"vp-linear", "k-diffusion:euler"},
                                   {"ddpm-linear", "diffusers:dpm++2m"}, {"ddpm-scaled-linear", "diffusers:unipc"}};
  for (const auto& model : {test::mixture2d(), test::gaussian(3)})
    for (const auto& c : cases) {
      INFO(model.name << " / " << c.schedule << " / " << c.preset);
      const auto& preset = solver::find_preset(c.preset);
      auto e = test::experiment(model, c.schedule, preset.spacing, preset.solver, {6, 20}, 5);
      e.solvers.push_back(test::solver_entry("dpm-solver++2m"));  // no final denoise: x*(t_N) as before
      e.spacing_solver_pairs.push_back({0, 1});
      e.denoise_to_zero = true;
      e.save_states = sweep::Experiment::SaveStates::final;
      for (int p = 0; p < e.samples; ++p) e.save_samples.push_back(p);
      const auto& sched = e.schedules[0].schedule;
      const auto y_start = model::start_states(model, e.start, e.seeds[0], e.samples, sched.alpha(sched.t_max),
                                               sched.sigma(sched.t_max));
      std::vector<double> y_zero;
      for (int p = 0; p < e.samples; ++p) {
        const std::vector<double> y0(y_start.begin() + p * model.dim, y_start.begin() + (p + 1) * model.dim);
        const auto coarse = y_at_zero(model, y0, sched.s(sched.t_max), 20000);
        const auto fine = y_at_zero(model, y0, sched.s(sched.t_max), 40000);
        for (int j = 0; j < model.dim; ++j) REQUIRE(std::fabs(coarse[j] - fine[j]) <= 1e-12);  // converged
        y_zero.insert(y_zero.end(), fine.begin(), fine.end());
      }
      for (const auto& cell : test::run_cells(e)) {
        const bool denoise = cell.solver == preset.solver;
        CHECK(cell.gte_target == (denoise ? "zero" : "grid_end"));
        if (!denoise) continue;
        for (int p = 0; p < e.samples; ++p) {
          const double* target = &cell.exact_final_state[p * model.dim];
          for (int j = 0; j < model.dim; ++j) CHECK(std::fabs(target[j] - y_zero[p * model.dim + j]) <= 1e-10);
          // The GTE is the final state's distance to x*(0), the state D at alpha = 1.
          CHECK(std::fabs(cell.gte[p] - rms(&cell.final_state[p * model.dim], &y_zero[p * model.dim], model.dim)) <=
                1e-10);
        }
      }
    }
}

TEST_CASE("outputs: bad run.save_states, run.save_samples and run.denoise_target are refused", "[outputs]") {
  const std::string path = "pfode_test_outputs.ini";
  auto load = [&](const std::string& run) {
    std::ofstream(path) << "[run]\nsamples = 4\n" << run
                        << "\n[sweep]\nmodels = g\nschedules = edm\nsolvers = euler\nnfe = 4\n"
                           "[model.g]\nkind = gaussian\ndim = 1\nmeans = 0\nstds = 1\n";
    return sweep::load_experiment(path, {});
  };
  CHECK_THROWS_WITH(load("save_states = all"), "run.save_states: unknown 'all' (none | final | grid)");
  CHECK_THROWS_WITH(load("save_samples = 0 4"), "run.save_samples: 4 is not a sample (0..3)");
  CHECK_THROWS_WITH(load("save_samples = 1 1"), "run.save_samples: '1' is listed twice");
  CHECK_THROWS_WITH(load("save_samples = -1"), "run.save_samples: -1 is not a sample (0..3)");
  CHECK_THROWS_WITH(load("denoise_target = t_min"), "run.denoise_target: unknown 't_min' (grid_end | zero)");
  CHECK(load("save_states = grid\nsave_samples = 3 0").save_samples == std::vector<int>{3, 0});
  CHECK(load("save_states = final").save_samples == std::vector<int>{0, 1, 2, 3});  // all by default
  CHECK(load("").save_samples.empty());  // no states saved: no list (1e9 samples would make 4 GB of it)
  std::remove(path.c_str());
}

namespace {

// One cell of `solver` on vp-linear, uniform-lambda, at `budget` (4 samples of a 2-D Gaussian).
results::CellResult traced_cell(const std::string& solver, int budget) {
  auto e = test::experiment(test::gaussian(2), "vp-linear", "uniform-lambda", solver, {budget}, 4);
  return test::run_cells(e).at(0);
}

// The orders the rules stated in README.md ("Solvers", "Options") and the official codes give
// step i of `steps`: warm-up by lower orders (i + 1), lowered last steps (steps - i) where
// lower_order_final applies.
std::vector<int> multistep_orders(int p, int steps, bool multistep_warmup, bool lower_final) {
  std::vector<int> out;
  for (int i = 0; i < steps; ++i) {
    int q = multistep_warmup ? std::min(p, i + 1) : p;
    if (lower_final) q = std::min(q, steps - i);
    out.push_back(q);
  }
  return out;
}

}  // namespace

TEST_CASE("traces: each step's order and corrector flag follow the solver's stated rules, and the model is "
          "evaluated where its steps say",
          "[outputs]") {
  // DPM-Solver-fast: K = NFE//3 + 1 steps, orders [3]*(K-2)+[2,1] / [3]*(K-1)+[1] / [3]*(K-1)+[2];
  // each step evaluates at its start and at its stages, r = 1/3, 2/3 (1/2) of the step in lambda.
  for (int budget : {9, 10, 11}) {
    const auto c = traced_cell("dpm-solver-fast", budget);
    const int k = budget / 3 + 1;
    std::vector<int> want(k, 3);
    if (budget % 3 == 0) want[k - 2] = 2;
    want[k - 1] = budget % 3 == 2 ? 2 : 1;
    INFO("dpm-solver-fast NFE " << budget);
    CHECK(c.step_order == want);
    REQUIRE(c.eval_s.size() == static_cast<size_t>(budget));
    size_t at = 0;
    for (int i = 0; i < k; ++i) {
      const double l0 = c.lambda[i], h = c.lambda[i + 1] - l0;
      CHECK(c.eval_s[at++] == Approx(std::exp(-l0)).epsilon(1e-14));
      for (int j = 1; j < want[i]; ++j)
        CHECK(-std::log(c.eval_s[at++]) == Approx(l0 + h * j / want[i]).epsilon(1e-12));
    }
    CHECK(std::vector<int>(k, 0) == c.step_corrected);
  }
  // Official multistep DPM-Solver++(2M): DDIM first step, lowered at the end only below 10 steps;
  // one evaluation per grid point but the last.
  for (int budget : {5, 12}) {
    const auto c = traced_cell("dpm-solver++2m[warmup=multistep,lower_order_final=10]", budget);
    INFO("dpm-solver++2m NFE " << budget);
    CHECK(c.step_order == multistep_orders(2, budget, true, budget < 10));
    REQUIRE(c.eval_s.size() == static_cast<size_t>(budget));
    for (int i = 0; i < budget; ++i) CHECK(c.eval_s[i] == Approx(std::exp(-c.lambda[i])).epsilon(1e-14));
  }
  // Official UniPC order 3 (unipc:bh2-3): lower-order warm-up and last steps, UniC on every step
  // but the last, whose evaluation is skipped: NFE = steps, at grid points 0 .. N-1.
  {
    const auto c = traced_cell(solver::find_preset("unipc:bh2-3").solver, 8);
    CHECK(c.step_order == std::vector<int>{1, 2, 3, 3, 3, 3, 2, 1});
    CHECK(c.step_corrected == std::vector<int>{1, 1, 1, 1, 1, 1, 1, 0});
    REQUIRE(c.eval_s.size() == 8u);
    for (int i = 0; i < 8; ++i) CHECK(c.eval_s[i] == Approx(std::exp(-c.lambda[i])).epsilon(1e-14));
  }
  // unipc-3 by default: two Runge-Kutta (singlestep DPM-Solver-3) warm-up steps, uncorrected.
  {
    const auto c = traced_cell("unipc-3", 12);
    REQUIRE(c.step_order.size() >= 4);
    CHECK(c.step_order[0] == 3);
    CHECK(c.step_order[1] == 3);
    CHECK(c.step_corrected[0] == 0);
    CHECK(c.step_corrected[1] == 0);
    CHECK(c.step_corrected[2] == 1);
    CHECK(c.step_corrected.back() == 0);
  }
  // EDM Heun: Heun steps, Euler on the last; two evaluations a step, one on the last.
  {
    const auto c = traced_cell("edm-heun", 9);
    CHECK(c.step_order == std::vector<int>{2, 2, 2, 2, 1});
    REQUIRE(c.eval_s.size() == 9u);
    for (int i = 0; i < 5; ++i) {
      CHECK(c.eval_s[2 * i] == Approx(std::exp(-c.lambda[i])).epsilon(1e-14));
      if (i < 4) CHECK(c.eval_s[2 * i + 1] == Approx(std::exp(-c.lambda[i + 1])).epsilon(1e-14));
    }
  }
  // F-PNDM: three pseudo-RK4 warm-up steps of four evaluations, then one per step.
  {
    const auto c = traced_cell("pndm", 16);
    CHECK(c.step_order == std::vector<int>(c.steps, 4));
    CHECK(c.eval_s.size() == static_cast<size_t>(c.nfe));
    CHECK(c.eval_s[4] == Approx(std::exp(-c.lambda[1])).epsilon(1e-14));  // step 1 starts after 4 evaluations
  }
  // A final denoise is the last evaluation, at t_N.
  {
    const auto c = traced_cell("euler[final=denoise]", 6);
    REQUIRE(c.eval_s.size() == 6u);
    CHECK(c.eval_s.back() == Approx(std::exp(-c.lambda.back())).epsilon(1e-14));
    CHECK(c.eval_t.back() == Approx(c.t.back()).epsilon(1e-12));
  }
  // An adaptive solver: no fixed steps, every evaluation of sample 0 inside [s_min, s_max].
  {
    const auto c = traced_cell("dopri5", 200);
    CHECK(c.step_order.empty());
    CHECK(c.eval_s.size() >= 90u);
    for (double s : c.eval_s) CHECK((s >= std::exp(-c.lambda.back()) * (1 - 1e-12) && s <= std::exp(-c.lambda[0]) * (1 + 1e-12)));
  }
}

TEST_CASE("traces: every fixed-grid solver, on packs and teams, keeps one entry per step and every evaluation of "
          "sample 0, inside the grid and the same on both layouts",
          "[outputs]") {
  for (const auto& info : solver::all_solvers()) {
    // Stochastic samplers run through solver::sample_solver, which keeps no traces.
    if (info.adaptive || info.family == solver::Family::stochastic) continue;
    for (const std::string final_step : {"", "[final=denoise]"}) {
      auto e = test::experiment(test::gaussian(2), "vp-linear", "uniform-lambda", info.name + final_step, {13}, 3);
      std::vector<results::CellResult> by_layout;
      for (const std::string layout : {"packs", "teams"}) {
        e.layout = lane::parse_layout(layout);
        by_layout.push_back(test::run_cells(e).at(0));
      }
      const auto& c = by_layout[0];
      INFO(info.name << final_step);
      CHECK(c.step_order.size() == static_cast<size_t>(c.steps));
      CHECK(c.step_corrected.size() == static_cast<size_t>(c.steps));
      for (int q : c.step_order) CHECK((q >= 1 && q <= 4));
      CHECK(c.eval_s.size() == static_cast<size_t>(c.nfe));
      CHECK(c.eval_t.size() == c.eval_s.size());
      const double s_first = std::exp(-c.lambda.front()), s_last = std::exp(-c.lambda.back());
      CHECK(c.eval_s.front() == Approx(s_first).epsilon(1e-14));  // every method starts with the model at t_0
      for (double s : c.eval_s) CHECK((s >= s_last * (1 - 1e-12) && s <= s_first * (1 + 1e-12)));
      CHECK(by_layout[1].step_order == c.step_order);
      CHECK(by_layout[1].step_corrected == c.step_corrected);
      CHECK(by_layout[1].eval_s == c.eval_s);
    }
  }
}
