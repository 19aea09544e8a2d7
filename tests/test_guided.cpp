// Guided models (classifier-free guidance on a class-conditional mixture, model/guided.hpp): w = 0
// is each sample's class mixture bit for bit (denoiser, solver runs in packs and teams); D_w is
// recomputed on the host from the mixture's formula, inside and outside the guidance interval;
// packs that mix classes give each sample its own class's result; each run seed draws its own
// classes, in the sweep as on the host; the error split compares a
// guided model with its w = 0 model; bad values are refused by name. (Solver orders on a guided
// model: test_solvers.cpp.)
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <set>
#include <variant>

#include "model/evaluate.hpp"
#include "spacing/spacing.hpp"
#include "sweep/experiment.hpp"
#include "support.hpp"

using namespace pfode;

namespace {

bool same_bits(const std::vector<double>& a, const std::vector<double>& b) {
  return a.size() == b.size() && (a.empty() || std::memcmp(a.data(), b.data(), a.size() * sizeof(double)) == 0);
}

// A 3-D mixture of five components in three classes (class 2 has one component).
const std::vector<int> kClasses = {0, 1, 0, 2, 1};
model::ModelSpec mixture3d() { return model::random_mixture("mix3", 3, 5, 4, 1.2, 0.3, 0.6); }

// Class c's mixture as its own model: its components, their weights renormalised.
model::ModelSpec class_mixture(const model::ModelSpec& m, const std::vector<int>& classes, int c) {
  std::vector<double> weights, means, stds;
  for (int k = 0; k < m.components; ++k) {
    if (classes[k] != c) continue;
    weights.push_back(m.weights[k]);
    for (int j = 0; j < m.dim; ++j) {
      means.push_back(m.means[static_cast<size_t>(k) * m.dim + j]);
      stds.push_back(m.stds[static_cast<size_t>(k) * m.dim + j]);
    }
  }
  return model::make_model("class" + std::to_string(c), m.dim, weights, means, stds, "test");
}

model::ModelSpec guided(double w, std::vector<int> given = {}, double s_lo = 0, double s_hi = INFINITY) {
  return model::guide("g", mixture3d(), kClasses, w, s_lo, s_hi, std::move(given), 11, "g[w=0]");
}

// D(y, s) of a mixture restricted to components with classes[k] == c (c < 0: every component), by
// its formula on the host: responsibilities from log w_k - |y - mu_k|^2_V / 2 - log det V / 2.
std::vector<double> host_mixture(const model::ModelSpec& m, const std::vector<int>& classes, int c, const double* y,
                                 double s) {
  const int d = m.dim;
  std::vector<double> log_r, out(d, 0.0);
  std::vector<int> ks;
  for (int k = 0; k < m.components; ++k) {
    if (c >= 0 && classes[k] != c) continue;
    double lr = std::log(m.weights[k]);
    for (int j = 0; j < d; ++j) {
      const double v = m.stds[k * d + j] * m.stds[k * d + j] + s * s, diff = y[j] - m.means[k * d + j];
      lr -= 0.5 * (diff * diff / v + std::log(v));
    }
    log_r.push_back(lr);
    ks.push_back(k);
  }
  const double top = *std::max_element(log_r.begin(), log_r.end());
  double total = 0;
  for (double& lr : log_r) total += (lr = std::exp(lr - top));
  for (size_t i = 0; i < ks.size(); ++i)
    for (int j = 0; j < d; ++j) {
      const int k = ks[i];
      const double c2 = m.stds[k * d + j] * m.stds[k * d + j];
      out[j] += log_r[i] / total * (m.means[k * d + j] + c2 / (c2 + s * s) * (y[j] - m.means[k * d + j]));
    }
  return out;
}

}  // namespace

TEST_CASE("guided: w = 0 is each sample's class mixture bit for bit, in the denoiser and in solver runs",
          "[guided]") {
  const auto m = guided(0.0);
  REQUIRE(m.is_exact());
  REQUIRE(std::holds_alternative<model::Guided>(model::to_device(m)));
  std::vector<double> s;
  for (double v : {1e-3, 0.05, 0.7, 80.0})
    for (int p = 0; p < 6; ++p) s.push_back(v * (1.0 + 0.1 * p));
  const int n = static_cast<int>(s.size());
  const auto y = model::start_states(mixture3d(), {}, 3, n, 1.0, 1.0);
  const auto d = model::denoise_points(model::to_device(m), y, s);
  std::set<int> seen;
  for (int p = 0; p < n; ++p) {
    const int c = model::sample_class(m, p);
    seen.insert(c);
    const std::vector<double> yp(y.begin() + 3 * p, y.begin() + 3 * p + 3), dp(d.begin() + 3 * p, d.begin() + 3 * p + 3);
    REQUIRE(same_bits(dp, model::denoise_points(model::to_device(class_mixture(mixture3d(), kClasses, c)), yp, {s[p]})));
  }
  CHECK(seen.size() == 3);  // the draw gives every class
  // Solver runs and the reference with every sample in class 1: the class's mixture's bits.
  const auto sched = schedule::make_schedule("vp-linear");
  const auto times = spacing::make_grid(spacing::parse_spacing("uniform-lambda"), sched, 12);
  const auto starts = test::marginal_starts(mixture3d(), sched, 19, 5);
  lane::KernelLayout teams;
  teams.kind = lane::KernelLayout::teams;
  for (const std::string label : {"rk4", "dpm-solver++2m", "dopri5[tol=1e-6]"})
    for (const auto& layout : {lane::KernelLayout{}, teams}) {
      INFO(label << ", " << lane::layout_name(layout.kind));
      const auto spec = solver::parse_solver(label);
      const auto a = test::solve_on_grid(class_mixture(mixture3d(), kClasses, 1), sched, times, spec, starts, true, layout);
      const auto b = test::solve_on_grid(guided(0.0, {1}), sched, times, spec, starts, true, layout);
      REQUIRE(same_bits(a.final_state, b.final_state));
      REQUIRE(same_bits(a.global_error, b.global_error));
      REQUIRE(same_bits(a.local_error, b.local_error));
      REQUIRE(a.nfe == b.nfe);
    }
}

TEST_CASE("guided: D_w = (1 + w) D(y | c) - w D(y) inside the interval, D(y | c) outside, recomputed on the host",
          "[guided]") {
  const auto base = mixture3d();
  for (double w : {0.5, 4.0}) {
    const auto m = guided(w, {}, 0.1, 2.0);
    REQUIRE(!m.is_exact());
    REQUIRE(m.exact().name == "g[w=0]");
    REQUIRE(m.exact().guidance.weight == 0);
    std::vector<double> s;
    for (double v : {2e-3, 0.1, 0.4, 1.3, 2.0, 2.5, 40.0})
      for (int p = 0; p < 3; ++p) s.push_back(v * (1.0 + 0.02 * p));
    const int n = static_cast<int>(s.size());
    const auto y = model::start_states(base, {}, 5, n, 1.0, 1.0);
    const auto d = model::denoise_points(model::to_device(m), y, s);
    double worst = 0, guidance = 0;
    int on = 0;
    for (int p = 0; p < n; ++p) {
      const int c = model::sample_class(m, p);
      const auto conditional = host_mixture(base, kClasses, c, &y[3 * p], s[p]);
      const auto unconditional = host_mixture(base, kClasses, -1, &y[3 * p], s[p]);
      const bool inside = s[p] >= 0.1 && s[p] <= 2.0;
      on += inside;
      for (int j = 0; j < 3; ++j) {
        const double expected = inside ? (1 + w) * conditional[j] - w * unconditional[j] : conditional[j];
        worst = std::max(worst, std::fabs(d[3 * p + j] - expected));
        guidance = std::max(guidance, std::fabs(expected - conditional[j]));
      }
    }
    INFO("w = " << w);
    CHECK(worst <= 1e-14);
    CHECK(guidance > 1e-2);  // the guidance term is not negligible at these points
    CHECK(on == 10);
  }
}

TEST_CASE("guided: in packs and teams that mix classes each sample follows its own class", "[guided]") {
  // A run with drawn classes against runs with every sample in one class: sample p of the first
  // is sample p of the run in its class, bit for bit.
  const auto sched = schedule::make_schedule("vp-linear");
  const auto times = spacing::make_grid(spacing::parse_spacing("uniform-lambda"), sched, 10);
  const int samples = 19;
  const auto starts = test::marginal_starts(mixture3d(), sched, samples, 2);
  lane::KernelLayout teams;
  teams.kind = lane::KernelLayout::teams;
  const auto mixed = guided(2.0);
  for (const auto& layout : {lane::KernelLayout{}, teams}) {
    INFO(lane::layout_name(layout.kind));
    const auto spec = solver::parse_solver("unipc-2");
    const auto run = test::solve_on_grid(mixed, sched, times, spec, starts, false, layout);
    std::vector<solver::SolverRun> per_class;
    for (int c = 0; c < 3; ++c) per_class.push_back(test::solve_on_grid(guided(2.0, {c}), sched, times, spec, starts, false, layout));
    for (int p = 0; p < samples; ++p) {
      const auto& own = per_class[model::sample_class(mixed, p)];
      REQUIRE(std::memcmp(&run.final_state[3 * p], &own.final_state[3 * p], 3 * sizeof(double)) == 0);
    }
    // and the classes matter: two classes' runs differ
    CHECK(!same_bits(per_class[0].final_state, per_class[1].final_state));
  }
}

TEST_CASE("guided: each run seed draws its own classes, and the sweep runs each seed's group with them", "[guided]") {
  const auto m = guided(2.0);
  const int samples = 12;
  std::vector<int> seed0, seed5, other_class_seed;
  const auto other = model::guide("g", mixture3d(), kClasses, 2.0, 0, INFINITY, {}, 12, "g[w=0]");
  for (int p = 0; p < samples; ++p) {
    seed0.push_back(model::sample_class(model::for_run_seed(m, 0), p));
    seed5.push_back(model::sample_class(model::for_run_seed(m, 5), p));
    other_class_seed.push_back(model::sample_class(model::for_run_seed(other, 5), p));
  }
  CHECK(seed0 != seed5);
  CHECK(other_class_seed != seed5);  // class_seed: another draw for the same run seed
  CHECK(model::sample_class(model::for_run_seed(guided(2.0, {2, 0}), 5), 3) == 0);  // given: every seed
  // The sweep's seed-5 group: its cell is the run of the model with seed 5's classes from that
  // seed's start states, not the run with seed 0's.
  auto e = test::experiment(m, "vp-linear", "uniform-lambda", "ddim", {8}, samples);
  e.seeds = {5};
  e.save_states = sweep::Experiment::SaveStates::final;
  for (int p = 0; p < samples; ++p) e.save_samples.push_back(p);
  const auto cells = test::run_cells(e);
  REQUIRE(cells.size() == 1);
  const auto& sched = e.schedules[0].schedule;
  const auto starts = test::marginal_starts(m, sched, samples, 5);
  const auto own = test::solve_on_grid(model::for_run_seed(m, 5), sched, cells[0].t, solver::parse_solver("ddim"), starts);
  const auto seed0_classes = test::solve_on_grid(m, sched, cells[0].t, solver::parse_solver("ddim"), starts);
  REQUIRE(cells[0].final_state.size() == own.final_state.size());
  double own_gap = 0, seed0_gap = 0;
  for (size_t i = 0; i < own.final_state.size(); ++i) {
    own_gap = std::max(own_gap, std::fabs(cells[0].final_state[i] - own.final_state[i]));
    seed0_gap = std::max(seed0_gap, std::fabs(cells[0].final_state[i] - seed0_classes.final_state[i]));
  }
  CHECK(own_gap <= 1e-12);
  CHECK(seed0_gap > 1e-3);
}

TEST_CASE("guided: the error split compares the guided flow with its w = 0 flow", "[guided]") {
  auto e = test::experiment(guided(1.5), "vp-linear", "uniform-lambda", "dpm-solver++2m", {16, 64}, 6);
  std::vector<results::ReferenceRecord> refs;
  const auto cells = test::run_cells(e, [&](const results::ReferenceRecord& r) { refs.push_back(r); });
  REQUIRE(refs.size() == 1);
  CHECK(refs[0].exact_model_nfe_mean > 0);
  for (const auto& c : cells) {
    REQUIRE(c.split());
    // The model error is the distance of the guided flow from the class mixtures' flow: as large
    // as the guidance makes it, far above the solvers' discretisation error at NFE 64.
    CHECK(c.model_error_rms.back() > 1e-2);
    CHECK(c.denoiser_error_rms.back() > 0);
  }
  CHECK(cells.back().gte_summary.rms < 0.1 * cells.back().model_error_rms.back());
}

TEST_CASE("guided: config keys, one model per w, bad values named", "[guided]") {
  const auto load = [](const std::string& extra, const std::string& run = "") {
    return test::load_config_text("[run]\nsamples = 4\n" + run +
                                      "[sweep]\nmodels = cfg\nschedules = edm\nsolvers = euler\nnfe = 8\n"
                                      "[model.mix]\nkind = mixture\ndim = 1\nweights = 0.5 0.25 0.25\n"
                                      "means = -1; 1; 2\nstds = 0.3; 0.4; 0.5\n[model.cfg]\nkind = guided\n" +
                                      extra,
                                  "pfode_test_guided.ini");
  };
  const auto e = load("mixture = mix\nclasses = 0 1 1\nw = 0 1.5 8\ninterval = 0.2 5\nsample_classes = 1 0\n");
  REQUIRE(e.models.size() == 3);
  CHECK(e.models[0].name == "cfg[w=0]");
  CHECK(e.models[1].name == "cfg[w=1.5]");
  CHECK(e.models[2].guidance.weight == 8);
  CHECK(e.models[1].kind() == "guided-diagonal-mixture");
  CHECK(e.models[1].exact().name == "cfg[w=0]");
  CHECK(e.models[1].guidance.class_weights == std::vector<double>{0.5, 0.5});
  CHECK(e.models[1].guidance.s_lo == 0.2);
  CHECK(model::sample_class(e.models[1], 0) == 1);
  CHECK(model::sample_class(e.models[1], 3) == 0);
  CHECK(e.models[0].is_exact());
  CHECK(!e.models[1].is_exact());
  REQUIRE_THROWS_WITH(load("mixture = mix\nclasses = 0 1 1\nw = 1 -2\n"), Catch::Contains("model cfg[w=-2]: w must be >= 0"));
  REQUIRE_THROWS_WITH(load("mixture = mix\nclasses = 0 1 1\nw = 1\nsample_classes = 0 2\n"),
                      Catch::Contains("model cfg[w=1]: sample_classes: unknown class 2 (classes are 0..1)"));
  REQUIRE_THROWS_WITH(load("mixture = mix\nclasses = 0 2 2\nw = 1\n"),
                      Catch::Contains("model cfg[w=1]: class 1 has no components"));
  REQUIRE_THROWS_WITH(load("mixture = mix\nclasses = 0 1 1\nw = 1\ninterval = 3 0.5\n"),
                      Catch::Contains("model cfg[w=1]: interval is reversed"));
  REQUIRE_THROWS_WITH(load("mixture = mix\nclasses = 0 1 1\nw = 1\ninterval = 3\n"),
                      Catch::Contains("model.cfg.interval: give two values"));
  REQUIRE_THROWS_WITH(load("mixture = mix\nclasses = 0 1\nw = 1\n"),
                      Catch::Contains("classes has 2 values, one per component of mix expected (3)"));
  REQUIRE_THROWS_WITH(load("mixture = mix\nclasses = 0 -1 1\nw = 1\n"), Catch::Contains("classes: -1 is not a class"));
  REQUIRE_THROWS_WITH(load("mixture = mix\nclasses = 0 1 1\nw = 1 1\n"), Catch::Contains("model.cfg.w: '1' is listed twice"));
  REQUIRE_THROWS_WITH(load("mixture = mix\nclasses = 0 1 1\n"), Catch::Contains("missing value for 'model.cfg.w'"));
  REQUIRE_THROWS_WITH(load("mixture = cfg\nclasses = 0 1 1\nw = 1\n"), Catch::Contains("mixture names the model itself"));
  REQUIRE_THROWS_WITH(load("mixture = mix\nclasses = 0 1 1\nw = 1\nerror_size = 1\n"),
                      Catch::Contains("unknown setting 'error_size' for kind = guided"));
  REQUIRE_THROWS_WITH(load("mixture = mix\nclasses = 0 1 1\nw = 1\n", "denoise_target = zero\n"),
                      Catch::Contains("run.denoise_target = zero: model cfg[w=1] is guided"));
  REQUIRE_THROWS_WITH(load("mixture = mix\nclasses = 0 1 1\nw = 1\nsample_classes = 1\n", "weak_samples = 2048\n"),
                      Catch::Contains("run.weak_samples: model cfg[w=1] has given sample_classes"));
  // A guided model is not a base for another model, nor a guided model's mixture a rotated one.
  const auto base = mixture3d();
  const auto g = guided(1.0);
  REQUIRE_THROWS_WITH(model::perturb("n", g, "bias", 1, 1.0, 0, "constant", 0.1, 1, 1), Catch::Contains("is guided"));
  REQUIRE_THROWS_WITH(model::guide("h", g, kClasses, 1, 0, 1, {}, 0, "h0"), Catch::Contains("not an exact diagonal mixture"));
  REQUIRE_THROWS_WITH(model::guide("h", mixture3d(), kClasses, 1, 0, 1, {}, std::uint64_t{1} << 32, "h0"),
                      Catch::Contains("model h: class_seed must be < 2^32"));
  auto rotated = base;
  model::set_rotations(rotated, model::identity_rotations(5, 3));
  REQUIRE_THROWS_WITH(model::guide("h", rotated, kClasses, 1, 0, 1, {}, 0, "h0"),
                      Catch::Contains("not an exact diagonal mixture"));
}
