// Scoring samplers outside pfode: the problem file reads back what was written, and a sampler's
// states scored by external::score_runs give the numbers of the sweep's own cells.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstdio>
#include <cstring>

#include "external/score.hpp"
#include "io/problem_file.hpp"
#include "model/evaluate.hpp"
#include "support.hpp"

using namespace pfode;

namespace {

bool same_bits(const std::vector<double>& a, const std::vector<double>& b) {
  return a.size() == b.size() && (a.empty() || std::memcmp(a.data(), b.data(), a.size() * sizeof(double)) == 0);
}

// DDIM written as a sampler outside pfode would, on the host from the problem's start states and
// grid, with the C++ model: the states at every grid time (samples x points x dim). With
// to_zero the last state is replaced by the final step to sigma = 0: x = D(x_N / alpha_N, s_N).
std::vector<double> host_ddim(const model::DeviceModel& m, const external::Grid& g, const std::vector<double>& x_T,
                              bool to_zero = false) {
  const int dim = model::dimension(m), samples = static_cast<int>(x_T.size()) / dim, points = g.steps + 1;
  std::vector<double> x = x_T, states(static_cast<size_t>(samples) * points * dim);
  for (int i = 0;; ++i) {
    for (int p = 0; p < samples; ++p)
      for (int c = 0; c < dim; ++c)
        states[(static_cast<size_t>(p) * points + i) * dim + c] = x[static_cast<size_t>(p) * dim + c];
    if (i == g.steps) {
      if (!to_zero) break;
      std::vector<double> y(x.size());
      for (size_t k = 0; k < x.size(); ++k) y[k] = x[k] * (1.0 / g.alpha[i]);
      const auto d = model::denoise_points(m, y, std::vector<double>(samples, g.s[i]));
      for (int p = 0; p < samples; ++p)
        for (int c = 0; c < dim; ++c) states[(static_cast<size_t>(p) * points + i) * dim + c] = d[static_cast<size_t>(p) * dim + c];
      break;
    }
    const double inv_alpha = 1.0 / g.alpha[i], factor = std::expm1(g.lambda[i] - g.lambda[i + 1]);
    std::vector<double> y(x.size());
    for (size_t k = 0; k < x.size(); ++k) y[k] = x[k] * inv_alpha;
    const auto d = model::denoise_points(m, y, std::vector<double>(samples, g.s[i]));
    for (size_t k = 0; k < x.size(); ++k) x[k] = g.alpha[i + 1] * (y[k] + factor * (y[k] - d[k]));
  }
  return states;
}

// One host DDIM run per grid of the problem, on the experiment's first model and schedule, from
// the first start states; with to_zero each ends with the step to sigma = 0 (target "zero").
external::RunsFile host_ddim_runs(const sweep::Experiment& e, const external::Problem& problem, bool to_zero = false) {
  const auto model = model::to_device(e.models[0]);
  external::RunsFile runs;
  runs.path = "runs.h5";
  runs.problem_id = problem.id;
  for (const auto& g : problem.grids) {
    external::ExternalRun run;
    run.name = (to_zero ? "to-zero-" : "ddim-") + std::to_string(g.steps);
    run.label = to_zero ? "host-ddim-to-zero" : "host-ddim";
    run.model = e.models[0].name;
    run.schedule = e.schedules[0].name;
    run.spacing = g.spacing;
    run.order_theory = 1;
    if (to_zero) run.target = "zero";
    run.t = g.t;
    run.x = host_ddim(model, g, problem.starts[0].x_T, to_zero);
    run.nfe.assign(e.samples, g.steps + (to_zero ? 1 : 0));
    run.samples = e.samples;
    run.dim = e.models[0].dim;
    runs.runs.push_back(std::move(run));
  }
  return runs;
}

}  // namespace

TEST_CASE("external: the problem file reads back what was written, and refuses an edited one", "[external]") {
  auto e = test::experiment(test::mixture2d(), "vp-cosine", "karras", "ddim", {4, 6}, 5);
  e.models.push_back(test::gaussian(3));
  e.schedules.push_back({"edm", schedule::make_schedule("edm", {{"t_min", 0.01}})});
  e.schedules.push_back({"ddpm-scaled-linear", schedule::make_schedule("ddpm-scaled-linear", {{"beta_end", 0.015}})});
  e.spacings.push_back({"uniform-t", spacing::parse_spacing("uniform-t")});
  e.solvers.push_back(test::solver_entry("heun"));
  e.spacing_solver_pairs = {{0, 0}, {0, 1}, {1, 1}};
  e.seeds = {0, 7};
  e.reference_tolerance = 1e-11;
  e.resolved_config = "[run]\nsamples = 5\n";
  const auto problem = external::make_problem(e, sweep::make_plan(e));
  REQUIRE(problem.starts.size() == 2 * 3 * 2);
  REQUIRE(problem.grids.size() == 3 * 6);  // per schedule: karras 4, 6 (ddim) and 2, 3 (heun); uniform-t 2, 3
  const std::string path = "pfode_test_problem.h5";
  std::remove(path.c_str());
  io::write_problem_file(path, problem, io::collect_provenance(0, nullptr, "test.ini"));
  const auto back = io::read_problem_file(path);
  REQUIRE(back.id == problem.id);
  REQUIRE(back.samples == problem.samples);
  REQUIRE(back.resolved_config == problem.resolved_config);
  REQUIRE(back.reference.tolerance == problem.reference.tolerance);
  REQUIRE(back.reference.pack_step == problem.reference.pack_step);
  REQUIRE(back.models.size() == problem.models.size());
  for (const auto& m : problem.models) {
    const auto* r = back.find_model(m.name);
    REQUIRE(r);
    REQUIRE((r->dim == m.dim && r->components == m.components && r->source == m.source));
    REQUIRE((same_bits(r->weights, m.weights) && same_bits(r->means, m.means) && same_bits(r->stds, m.stds)));
  }
  REQUIRE(back.schedules.size() == problem.schedules.size());
  for (const auto& s : problem.schedules) {
    const auto* r = back.find_schedule(s.name);
    REQUIRE(r);
    REQUIRE(r->schedule.kind == s.schedule.kind);
    REQUIRE(same_bits({r->schedule.t_min, r->schedule.t_max, r->schedule.p0, r->schedule.p1},
                      {s.schedule.t_min, s.schedule.t_max, s.schedule.p0, s.schedule.p1}));
    // A discrete schedule's table is rebuilt from its parameters: the same log alpha, bit for bit.
    REQUIRE(r->schedule.table.n == s.schedule.table.n);
    REQUIRE(std::memcmp(r->schedule.table.log_alpha, s.schedule.table.log_alpha, sizeof s.schedule.table.log_alpha) == 0);
  }
  for (const auto& s : problem.starts) {
    const auto* r = back.find_start(s.model, s.schedule, s.seed);
    REQUIRE(r);
    REQUIRE((same_bits(r->y_T, s.y_T) && same_bits(r->x_T, s.x_T)));
  }
  REQUIRE(back.grids.size() == problem.grids.size());
  for (size_t k = 0; k < problem.grids.size(); ++k) {
    const auto &a = problem.grids[k], &b = back.grids[k];
    REQUIRE((a.schedule == b.schedule && a.spacing == b.spacing && a.steps == b.steps && a.nfe_budgets == b.nfe_budgets));
    REQUIRE((same_bits(a.t, b.t) && same_bits(a.alpha, b.alpha) && same_bits(a.sigma, b.sigma) &&
             same_bits(a.lambda, b.lambda) && same_bits(a.s, b.s)));
  }
  // The grid of 2 steps on uniform-t serves heun at NFE 4 (2 NFE per step); the karras grid of 4
  // steps, ddim at NFE 4.
  for (const auto& g : problem.grids) {
    if (g.spacing == "uniform-t" && g.steps == 2) REQUIRE(g.nfe_budgets == std::vector<long>{4});
    if (g.spacing == "karras" && g.steps == 4) REQUIRE(g.nfe_budgets == std::vector<long>{4});
  }
  // Any change to what decides a score changes the fingerprint.
  auto changed = problem;
  changed.starts[3].y_T[2] = std::nextafter(changed.starts[3].y_T[2], 1e9);
  REQUIRE(external::problem_fingerprint(changed) != problem.id);
  changed = problem;
  changed.grids[1].t[1] = std::nextafter(changed.grids[1].t[1], 0.0);
  REQUIRE(external::problem_fingerprint(changed) != problem.id);
  // A missing file is named.
  REQUIRE_THROWS_WITH(io::read_problem_file("no_such_problem.h5"), "problem 'no_such_problem.h5': no such file");
  std::remove(path.c_str());
}

TEST_CASE("external: a sampler's states scored against the problem give the sweep's own cells, bit for bit",
          "[external]") {
  // DDIM on the host from the problem's start states and grids, scored, against pfode's ddim
  // cells: the same reference (same start states, same union of times) and the same arithmetic.
  const auto e = test::experiment(test::mixture2d(), "vp-linear", "uniform-lambda", "ddim", {4, 8, 16}, 20);
  const auto plan = sweep::make_plan(e);
  const auto problem = external::make_problem(e, plan);
  std::vector<results::ReferenceRecord> refs;
  const auto cells = test::run_cells(e, [&](const results::ReferenceRecord& r) { refs.push_back(r); });
  auto runs = host_ddim_runs(e, problem);
  // The last run diverges in one sample: recorded, not refused.
  auto diverged = runs.runs.back();
  diverged.label = "host-ddim-nan";
  diverged.x[diverged.x.size() - 1] = NAN;
  runs.runs.push_back(diverged);
  REQUIRE_NOTHROW(external::check_runs(problem, "problem.h5", runs));
  const auto scores = external::score_runs(problem, runs);

  REQUIRE(scores.references.size() == 1);
  REQUIRE(scores.references[0].times == refs[0].times);
  REQUIRE(same_bits({scores.references[0].error_estimate, scores.references[0].nfe_mean},
                    {refs[0].error_estimate, refs[0].nfe_mean}));
  REQUIRE(scores.cells.size() == 4);
  for (int k = 0; k < 3; ++k) {
    const auto &s = scores.cells[k], &c = cells[k];
    INFO("NFE " << c.nfe << ": scored GTE " << s.gte_summary.rms << ", cell " << c.gte_summary.rms);
    REQUIRE((s.nfe == c.nfe && s.steps == c.steps && s.order_theory == c.order_theory));
    REQUIRE(same_bits(s.gte, c.gte));
    REQUIRE(same_bits(s.gte_relative, c.gte_relative));
    REQUIRE(same_bits(s.error_rms, c.error_rms));
    REQUIRE(same_bits(s.error_max, c.error_max));
    REQUIRE(same_bits(s.t, c.t));
    REQUIRE(same_bits(s.lambda, c.lambda));
    REQUIRE((s.status == "ok" && s.near_floor == c.near_floor && s.reference_error == c.reference_error));
    REQUIRE(s.lte_rms.empty());
  }
  REQUIRE(scores.cells[3].status == "diverged");
  const auto series = sweep::fit_series(scores.cells);
  REQUIRE(series.size() == 2);
  REQUIRE(series[0].gte.valid);
  REQUIRE(std::fabs(series[0].gte.order - sweep::fit_series(cells)[0].gte.order) < 1e-12);
}

TEST_CASE("external: runs on an imperfect model get the error split of the sweep's own cells, bit for bit",
          "[external]") {
  // A perturbed mixture: the score solves its own PF-ODE and the exact one, as the sweep does, and
  // splits each run's error into discretisation (the GTE), total and model error.
  const auto noisy = model::perturb("noisy", test::mixture2d(), "bias", 6, 0.7, 9, "constant", 0.05, 1.0, 1.0);
  REQUIRE(!noisy.is_exact());
  const auto e = test::experiment(noisy, "vp-linear", "uniform-lambda", "ddim", {4, 8, 16, 32}, 12);
  const auto problem = external::make_problem(e, sweep::make_plan(e));
  const auto cells = test::run_cells(e);
  const auto scores = external::score_runs(problem, host_ddim_runs(e, problem));
  REQUIRE(scores.cells.size() == cells.size());
  for (size_t k = 0; k < cells.size(); ++k) {
    const auto &s = scores.cells[k], &c = cells[k];
    INFO("NFE " << c.nfe << ": total error " << c.total_summary.rms << ", model error " << c.model_error_rms.back());
    REQUIRE(c.split());
    REQUIRE(s.split());
    REQUIRE(c.model_error_rms.back() > 0);
    REQUIRE(same_bits(s.gte, c.gte));
    REQUIRE(same_bits(s.total_error, c.total_error));
    REQUIRE(same_bits({s.total_summary.rms, s.total_summary.median}, {c.total_summary.rms, c.total_summary.median}));
    REQUIRE(same_bits(s.model_error_rms, c.model_error_rms));
    REQUIRE(same_bits(s.denoiser_error_rms, c.denoiser_error_rms));
  }
  const auto scored = sweep::fit_series(scores.cells), own = sweep::fit_series(cells);
  REQUIRE((scored.size() == 1 && own.size() == 1));
  REQUIRE(same_bits({scored[0].model_error, scored[0].total.order}, {own[0].model_error, own[0].total.order}));
}

TEST_CASE("external: a run ending at sigma = 0 is scored against x*(0) as final=denoise cells are", "[external]") {
  // k-diffusion's samplers end with a step to sigma = 0; pfode's ddim[final=denoise] under
  // run.denoise_target = zero does the same, measured against the reference continued to s = 0.
  auto e = test::experiment(test::mixture2d(), "edm", "karras", "ddim[final=denoise]", {5, 9}, 12);
  e.denoise_to_zero = true;
  const auto problem = external::make_problem(e, sweep::make_plan(e));
  const auto cells = test::run_cells(e);
  auto runs = host_ddim_runs(e, problem, true);
  REQUIRE_NOTHROW(external::check_runs(problem, "problem.h5", runs));
  const auto scores = external::score_runs(problem, runs);
  REQUIRE(scores.references[0].s_zero > 0);
  for (int k = 0; k < 2; ++k) {
    INFO("NFE " << cells[k].nfe << ": scored GTE " << scores.cells[k].gte_summary.rms << ", cell "
                << cells[k].gte_summary.rms);
    REQUIRE(cells[k].gte_target == "zero");
    REQUIRE(scores.cells[k].gte_target == "zero");
    REQUIRE(scores.cells[k].nfe == cells[k].nfe);
    REQUIRE(same_bits(scores.cells[k].gte, cells[k].gte));
    REQUIRE(same_bits(scores.cells[k].error_rms, cells[k].error_rms));
  }
  runs.runs[0].target = "sigma0";
  REQUIRE_THROWS_WITH(external::check_runs(problem, "problem.h5", runs),
                      Catch::Contains("run 'to-zero-4': target 'sigma0' (grid_end"));
}
