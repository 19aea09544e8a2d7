// Perturbed (imperfect) models and the error split (DESIGN.md section 4): eps = 0 is the exact
// model bit for bit; D_m - D is eps(s) e(y / sqrt(1 + s^2)) for every profile, recomputed here
// from the drawn field; on a Gaussian with a constant bias both references, the model error, the denoiser
// error and every cell's total error agree with the closed-form flows; bad values are refused by
// name. (Solver orders on a perturbed model: test_solvers.cpp; Python evaluation:
// tests/analysis/test_exact.sh; pack invariance: test_model.cpp.)
#include <catch2/catch.hpp>

#include <cmath>
#include <cstring>
#include <variant>

#include "model/evaluate.hpp"
#include "spacing/spacing.hpp"
#include "sweep/experiment.hpp"
#include "sweep/series.hpp"
#include "support.hpp"

using namespace pfode;

namespace {

bool same_bits(const std::vector<double>& a, const std::vector<double>& b) {
  return a.size() == b.size() && (a.empty() || std::memcmp(a.data(), b.data(), a.size() * sizeof(double)) == 0);
}

double rms(const std::vector<double>& v) {
  double sum = 0;
  for (double x : v) sum += x * x;
  return std::sqrt(sum / v.size());
}

// A rotated 4-D Gaussian with a direction of zero variance and a narrow one.
model::ModelSpec rotated_gaussian() {
  auto g = model::make_model("g4", 4, {1.0}, {0.5, -0.5, 1.0, 0.2}, {0.3, 0.0, 0.05, 0.6}, "test");
  model::set_rotations(g, model::random_rotations(1, 4, 3));
  return g;
}

}  // namespace

TEST_CASE("perturbed: eps = 0 gives the exact model's D, solver runs and reference bit for bit", "[perturbed]") {
  const auto mix = model::random_mixture("mix5", 5, 4, 2, 1.5, 0.3, 0.6);
  auto full = mix;
  model::set_rotations(full, model::random_rotations(4, 5, 8));
  for (const auto& m : {mix, full}) {
    const auto zero = model::perturb("zero", m, "fourier", 8, 1.0, 1, "constant", 0.0, 1, 1);
    REQUIRE(!std::holds_alternative<model::DiagonalMixture>(model::to_device(zero)));
    REQUIRE(!std::holds_alternative<model::FullCovarianceMixture>(model::to_device(zero)));
    std::vector<double> s;
    for (double v : {1e-3, 0.05, 0.7, 80.0})
      for (int p = 0; p < 4; ++p) s.push_back(v * (1.0 + 0.1 * p));
    const auto y = model::start_states(m, {}, 3, static_cast<int>(s.size()), 1.0, 1.0);
    REQUIRE(same_bits(model::denoise_points(model::to_device(m), y, s), model::denoise_points(model::to_device(zero), y, s)));
  }
  const auto zero = model::perturb("zero", mix, "fourier", 8, 1.0, 1, "constant", 0.0, 1, 1);
  const auto sched = schedule::make_schedule("vp-linear");
  const auto times = spacing::make_grid(spacing::parse_spacing("uniform-lambda"), sched, 12);
  lane::KernelLayout teams;
  teams.kind = lane::KernelLayout::teams;
  for (const std::string label : {"rk4", "dopri5[tol=1e-6]"})
    for (const auto& layout : {lane::KernelLayout{}, teams}) {
      INFO(label << ", " << lane::layout_name(layout.kind));
      const auto a = test::solve_on_grid(mix, sched, times, label, 19, true, layout);
      const auto b = test::solve_on_grid(zero, sched, times, label, 19, true, layout);
      REQUIRE(same_bits(a.final_state, b.final_state));
      REQUIRE(same_bits(a.global_error, b.global_error));
      REQUIRE(a.nfe == b.nfe);
    }
}

TEST_CASE("perturbed: D_model - D_exact is eps(s) e(y) for every profile and field", "[perturbed]") {
  auto base = model::random_mixture("mix3", 3, 2, 4, 1.5, 0.3, 0.6);
  model::set_rotations(base, model::random_rotations(2, 3, 2));
  for (const char* field : {"fourier", "bias"})
    for (const char* profile : {"constant", "power", "low-noise", "high-noise"}) {
      const auto m = model::perturb("noisy", base, field, 6, 0.7, 9, profile, 0.03, 1.5, 0.4);
      const auto& e = m.error;
      REQUIRE(e.phases.size() == (std::string(field) == "bias" ? 0u : 6u));
      std::vector<double> s;
      for (double v : {2e-3, 0.1, 0.4, 1.3, 40.0})
        for (int p = 0; p < 3; ++p) s.push_back(v * (1.0 + 0.2 * p));
      const auto y = model::start_states(base, {}, 5, static_cast<int>(s.size()), 1.0, 1.0);
      const auto exact = model::denoise_points(model::to_device(base), y, s);
      const auto noisy = model::denoise_points(model::to_device(m), y, s);
      double worst = 0, smallest = INFINITY;
      for (size_t p = 0; p < s.size(); ++p) {
        const double sp = s[p], c2 = 0.4 * 0.4;
        const double eps = std::string(profile) == "power"       ? 0.03 * std::pow(sp, 1.5)
                           : std::string(profile) == "low-noise" ? 0.03 * c2 / (c2 + sp * sp)
                           : std::string(profile) == "high-noise" ? 0.03 * sp * sp / (c2 + sp * sp)
                                                                  : 0.03;
        for (int j = 0; j < 3; ++j) {
          double field_j = e.bias[j];
          for (size_t f = 0; f < e.phases.size(); ++f) {
            double phase = e.phases[f];  // the field's input is y / sqrt(1 + s^2)
            for (int i = 0; i < 3; ++i) phase += e.frequencies[f * 3 + i] * y[p * 3 + i] / std::sqrt(1.0 + sp * sp);
            field_j += e.amplitudes[f * 3 + j] * std::cos(phase);
          }
          const double expected = eps * field_j, got = noisy[p * 3 + j] - exact[p * 3 + j];
          worst = std::max(worst, std::fabs(got - expected));
          smallest = std::min(smallest, std::fabs(expected));
        }
      }
      INFO(field << " / " << profile);
      CHECK(worst <= 1e-14);
      if (std::string(profile) != "constant") CHECK(smallest < 1e-4);  // the profile varies over s
    }
}

TEST_CASE("error split: both references, the model and denoiser errors and the total error follow the closed "
          "forms of a biased Gaussian",
          "[perturbed]") {
  const auto g = rotated_gaussian();
  const double eps = 0.002;
  const auto noisy = model::perturb("g4-biased", g, "bias", 1, 1.0, 5, "constant", eps, 1, 1);
  REQUIRE(model::has_closed_form(noisy));
  auto e = test::experiment(noisy, "vp-linear", "uniform-lambda", "euler", {8, 16, 32, 64, 128, 256, 512}, 6);
  e.save_states = sweep::Experiment::SaveStates::final;
  e.save_samples = {0, 1, 2, 3, 4, 5};
  std::vector<results::ReferenceRecord> refs;
  const auto cells = test::run_cells(e, [&](const results::ReferenceRecord& r) { refs.push_back(r); });
  REQUIRE(refs.size() == 1);
  CHECK(refs[0].exact_model_error_estimate >= 0);
  CHECK(refs[0].exact_error <= 1e-11);  // the model's own reference against its closed form
  CHECK(refs[0].exact_error > 0);
  const auto& sched = e.schedules[0].schedule;
  const auto y_start = model::start_states(noisy, e.start, e.seeds[0], e.samples, sched.alpha(sched.t_max),
                                           sched.sigma(sched.t_max));
  const double s0 = sched.s(sched.t_max), bias_rms = eps * rms(noisy.error.bias);
  for (const auto& c : cells) {
    INFO("NFE " << c.nfe);
    REQUIRE(c.split());
    const double t_n = c.t.back(), alpha = sched.alpha(t_n), s = sched.s(t_n);
    double model_sum = 0;
    for (int p = 0; p < e.samples; ++p) {
      const auto y_model = model::gaussian_flow(noisy, y_start.data() + 4 * p, s0, s);
      const auto y_exact = model::gaussian_flow(g, y_start.data() + 4 * p, s0, s);
      double total = 0, disc = 0;
      for (int j = 0; j < 4; ++j) {
        const double x = c.final_state[4 * p + j];
        total += (x - alpha * y_exact[j]) * (x - alpha * y_exact[j]);
        disc += (x - alpha * y_model[j]) * (x - alpha * y_model[j]);
        model_sum += alpha * alpha * (y_model[j] - y_exact[j]) * (y_model[j] - y_exact[j]);
      }
      CHECK(std::fabs(c.total_error[p] - std::sqrt(total / 4)) <= 1e-11);
      CHECK(std::fabs(c.gte[p] - std::sqrt(disc / 4)) <= 1e-11);
    }
    const double model_error = std::sqrt(model_sum / (4 * e.samples));
    CHECK(std::fabs(c.model_error_rms.back() - model_error) <= 1e-11);
    CHECK(model_error > 0.5 * eps);  // the bias is felt
    REQUIRE(c.model_error_rms.size() == c.t.size());
    CHECK(c.model_error_rms.front() == 0.0);  // the same start state
    // The denoiser error of a constant bias is eps |b| everywhere along the trajectory.
    for (double d : c.denoiser_error_rms) CHECK(std::fabs(d - bias_rms) <= 1e-14);
  }
  // The crossover NFE: from there on the discretisation error stays below the model error.
  const auto fits = sweep::fit_series(cells);
  REQUIRE(fits.size() == 1);
  double crossover = NAN;
  for (size_t i = cells.size(); i-- > 0 && cells[i].gte_summary.rms < cells[i].model_error_rms.back();)
    crossover = cells[i].nfe_mean;
  INFO("crossover at NFE " << crossover << ", model error " << fits[0].model_error);
  CHECK(fits[0].crossover_nfe == crossover);
  CHECK(crossover > 8);  // inside the range: euler at NFE 8 is worse than the model
  CHECK(crossover < 512);
  CHECK(fits[0].total.valid);
  CHECK(fits[0].total.order < 0.5);  // the total error stalls at the model error
  CHECK(fits[0].gte.order > 0.85);   // while the discretisation error keeps falling at order 1
}

TEST_CASE("perturbed: bad values are refused by name", "[perturbed]") {
  const auto g = test::gaussian(2);
  REQUIRE_THROWS_WITH(model::perturb("n", g, "fourier", 4, 1.0, 0, "constant", -0.1, 1, 1),
                      Catch::Contains("model n: error_size must be >= 0"));
  REQUIRE_THROWS_WITH(model::perturb("n", g, "noise", 4, 1.0, 0, "constant", 0.1, 1, 1),
                      Catch::Contains("unknown error field 'noise'"));
  REQUIRE_THROWS_WITH(model::perturb("n", g, "fourier", 4, 1.0, 0, "cubic", 0.1, 1, 1),
                      Catch::Contains("unknown error_profile 'cubic'"));
  REQUIRE_THROWS_WITH(model::perturb("n", g, "fourier", 4, 1.0, 0, "low-noise", 0.1, 1, 0),
                      Catch::Contains("error_scale must be positive"));
  REQUIRE_THROWS_WITH(model::perturb("n", g, "fourier", 4, 0.0, 0, "constant", 0.1, 1, 1),
                      Catch::Contains("length must be positive"));
  const auto once = model::perturb("n", g, "bias", 4, 1.0, 0, "constant", 0.1, 1, 1);
  REQUIRE_THROWS_WITH(model::perturb("n2", once, "bias", 4, 1.0, 0, "constant", 0.1, 1, 1),
                      Catch::Contains("its exact model n is itself perturbed"));
  // Through the config: the exact model by name, a model that names itself, a flow to s = 0.
  const auto load = [](const std::string& extra, const std::string& run = "") {
    return test::load_config_text("[run]\nsamples = 4\n" + run +
                                      "[sweep]\nmodels = n\nschedules = edm\nsolvers = euler\nnfe = 8\n"
                                      "[model.g]\nkind = gaussian\ndim = 2\nmeans = 0 1\nstds = 0.5 0.4\n"
                                      "[model.n]\nkind = perturbed\n" +
                                      extra,
                                  "pfode_test_perturbed.ini");
  };
  const auto e = load("exact = g\nerror_size = 0.05\nerror_profile = power\nerror_exponent = 2\n");
  REQUIRE(e.models.size() == 1);
  CHECK(e.models[0].error.exact == "g");
  CHECK(e.models[0].kind() == "perturbed-diagonal-mixture");
  CHECK(e.models[0].exact().name == "g");
  CHECK(e.models[0].exact().is_exact());
  REQUIRE_THROWS_WITH(load("exact = n\n"), Catch::Contains("model n: exact names the model itself"));
  REQUIRE_THROWS_WITH(load("error_size = 1\n"), Catch::Contains("missing value for 'model.n.exact'"));
  REQUIRE_THROWS_WITH(load("exact = g\nerror_size = -1\n"), Catch::Contains("model n: error_size must be >= 0"));
  REQUIRE_THROWS_WITH(load("exact = h\n"), Catch::Contains("model 'h' has no [model.h] section"));
  REQUIRE_THROWS_WITH(load("exact = g\n", "denoise_target = zero\n"),
                      Catch::Contains("run.denoise_target = zero: model n is perturbed"));
}
