// The likelihood through the augmented PF-ODE against the mixtures' exact log-densities.
#include <catch2/catch.hpp>

#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "io/hdf5.hpp"

#include "likelihood/likelihood.hpp"
#include "model/evaluate.hpp"
#include "model/start_states.hpp"
#include "schedule/registry.hpp"
#include "spacing/spacing.hpp"
#include "support.hpp"

using namespace pfode;

namespace {

// Exact draws from p_0 (the marginal at s = 0).
std::vector<double> data_points(const model::ModelSpec& spec, int samples) {
  return model::start_states(spec, model::StartSpec{}, 7, samples, 1.0, 0.0);
}

// Central finite-difference Jacobian of the sampling kernels' denoiser at one point (dim x dim).
std::vector<double> jacobian_fd(const model::DeviceModel& m, const std::vector<double>& y, double s, double h) {
  const int dim = static_cast<int>(y.size());
  std::vector<double> points, at;
  for (int j = 0; j < dim; ++j)
    for (double sign : {1.0, -1.0}) {
      std::vector<double> p = y;
      p[j] += sign * h;
      points.insert(points.end(), p.begin(), p.end());
      at.push_back(s);
    }
  const auto d = model::denoise_points(m, points, at);
  std::vector<double> jac(dim * dim);  // jac[i * dim + j] = dD_i / dy_j
  for (int j = 0; j < dim; ++j)
    for (int i = 0; i < dim; ++i) jac[i * dim + j] = (d[(2 * j) * dim + i] - d[(2 * j + 1) * dim + i]) / (2 * h);
  return jac;
}

}  // namespace

TEST_CASE("likelihood: the closed-form D and tr dD/dy agree with the sampling denoiser and its finite differences",
          "[likelihood]") {
  for (const auto& spec : {test::mixture2d(), test::mixture16()}) {
    const auto m = model::to_device(spec);
    const auto y = data_points(spec, 4);
    for (double s : {0.02, 0.3, 1.0, 5.0}) {
      INFO(spec.name << ", s = " << s);
      const auto terms = likelihood::jacobian_terms(m, y, s, {});
      const auto d = model::denoise_points(m, y, std::vector<double>(4, s));
      for (size_t i = 0; i < d.size(); ++i) CHECK(terms.denoised[i] == Approx(d[i]).margin(1e-13));
      for (int p = 0; p < 4; ++p) {
        const std::vector<double> yp(y.begin() + p * spec.dim, y.begin() + (p + 1) * spec.dim);
        const auto jac = jacobian_fd(m, yp, s, 1e-5 * std::max(s, 0.1));
        double trace = 0.0;
        for (int j = 0; j < spec.dim; ++j) trace += jac[j * spec.dim + j];
        CHECK(terms.trace[p] == Approx(trace).epsilon(1e-7).margin(1e-7));
      }
    }
  }
}

TEST_CASE("likelihood: log p(y; s) integrates to 1 and its gradient is the score (D - y) / s^2", "[likelihood]") {
  const auto spec = test::mixture2d();
  const auto m = model::to_device(spec);
  for (double s : {0.0, 0.4}) {
    // Midpoint rule on [-5, 5]^2 (the tails beyond hold < 1e-12).
    const int n = 400;
    const double h = 10.0 / n;
    std::vector<double> grid;
    for (int a = 0; a < n; ++a)
      for (int b = 0; b < n; ++b) {
        grid.push_back(-5.0 + (a + 0.5) * h);
        grid.push_back(-5.0 + (b + 0.5) * h);
      }
    const auto lp = likelihood::log_density(m, grid, s);
    double mass = 0.0;
    for (double l : lp) mass += std::exp(l) * h * h;
    CHECK(mass == Approx(1.0).epsilon(1e-6));
  }
  const auto y = data_points(spec, 3);
  const double s = 0.4, step = 1e-6;
  const auto d = model::denoise_points(m, y, std::vector<double>(3, s));
  for (int p = 0; p < 3; ++p)
    for (int j = 0; j < 2; ++j) {
      std::vector<double> plus(y.begin() + 2 * p, y.begin() + 2 * p + 2), minus = plus;
      plus[j] += step;
      minus[j] -= step;
      const double fd = (likelihood::log_density(m, plus, s)[0] - likelihood::log_density(m, minus, s)[0]) / (2 * step);
      CHECK(fd == Approx((d[2 * p + j] - y[2 * p + j]) / (s * s)).epsilon(1e-6));
    }
}

TEST_CASE("likelihood: the reference with the exact divergence is within 1e-8 nats of the exact log-density",
          "[likelihood]") {
  const auto vp = schedule::make_schedule("vp-linear");
  for (const auto& spec : {test::mixture2d(), test::mixture16()}) {
    const auto m = model::to_device(spec);
    const auto x0 = data_points(spec, 16);
    const likelihood::Interval interval{vp, 1e-5, 1.0};
    const auto flow = likelihood::integrate_reference(m, interval, x0, {});
    REQUIRE(flow.failed == 0);
    const auto budget = likelihood::error_budget(m, interval, x0, flow);
    const auto integration = likelihood::summarise(budget.integration);
    INFO(spec.name << ": integration error max " << integration.max_abs);
    CHECK(integration.max_abs < 1e-8);
    // The parts add up to the total, and truncation and prior mismatch are the closed forms'.
    for (int p = 0; p < 16; ++p) {
      CHECK(budget.total[p] == Approx(budget.integration[p] + budget.estimator[p] + budget.prior[p] +
                                      budget.truncation[p]).margin(1e-10));
      CHECK(budget.estimator[p] == 0.0);
    }
  }
}

TEST_CASE("likelihood: fixed-grid solvers' integration error converges at their order", "[likelihood]") {
  auto vp = schedule::make_schedule("vp-linear");
  vp.t_min = 1e-3;
  const auto spec = test::mixture2d();
  const auto m = model::to_device(spec);
  const auto x0 = data_points(spec, 8);
  const likelihood::Interval interval{vp, vp.t_min, vp.t_max};
  struct Case {
    const char* solver;
    std::vector<int> steps;
  };
  // DPM-Solver++(3M) with the official coefficients measures order 2 here (3 with coefficients=taylor).
  for (const Case& c : {Case{"heun[variable=log_s]", {64, 128, 256, 512}}, Case{"rk3", {64, 128, 256, 512}},
                        Case{"rk4[variable=log_s]", {32, 64, 128, 256}}, Case{"dpm-solver-2", {16, 32, 64, 128}},
                        Case{"dpm-solver-3", {16, 32, 64, 128}}, Case{"dpm-solver++2m", {64, 128, 256, 512}},
                        Case{"dpm-solver++3m[coefficients=taylor]", {64, 128, 256, 512}},
                        Case{"deis-3[basis=log_rho]", {64, 128, 256, 512}}, Case{"unipc-3", {64, 128, 256, 512}}}) {
    const auto spec_solver = solver::parse_solver(c.solver);
    std::vector<double> nfe, error;
    for (int steps : c.steps) {
      auto times = spacing::make_grid(spacing::parse_spacing("uniform-lambda"), vp, steps);
      std::reverse(times.begin(), times.end());
      const auto flow = likelihood::integrate_solver(m, interval, times, spec_solver, x0, {});
      REQUIRE(flow.failed == 0);
      nfe.push_back(static_cast<double>(flow.nfe[0]));
      error.push_back(likelihood::summarise(likelihood::error_budget(m, interval, x0, flow).integration).rms);
    }
    const double order = -test::loglog_slope(nfe, error);
    INFO(c.solver << ": errors " << error[0] << " " << error[1] << " " << error[2] << " " << error[3] << ", order "
                  << order);
    CHECK(std::fabs(order - solver::theoretical_order(spec_solver)) < 0.15);
  }
  // DEIS's tAB weights integrate in t from t_max down: refused here, not run wrong.
  auto times = spacing::make_grid(spacing::parse_spacing("uniform-lambda"), vp, 8);
  std::reverse(times.begin(), times.end());
  CHECK_THROWS_WITH(likelihood::integrate_solver(m, interval, times, solver::parse_solver("deis-2"), x0, {}),
                    Catch::Contains("deis-2 with basis=t") && Catch::Contains("basis=log_rho"));
}

TEST_CASE("likelihood: Hutchinson's estimate of tr dD/dy is unbiased, with the variance its Jacobian gives",
          "[likelihood]") {
  // dD/dy = I + s^2 Hess log p is symmetric: Var(v . J v) = 2 sum_{i != j} J_ij^2 for Rademacher
  // probes and 2 sum_ij J_ij^2 for Gaussian ones.
  const auto spec = test::mixture16();
  const auto m = model::to_device(spec);
  const auto y = data_points(spec, 1);
  const double s = 0.5;
  const auto jac = jacobian_fd(m, y, s, 1e-5);
  double off = 0.0, diagonal = 0.0;
  for (int i = 0; i < spec.dim; ++i)
    for (int j = 0; j < spec.dim; ++j) {
      const double sym = 0.5 * (jac[i * spec.dim + j] + jac[j * spec.dim + i]);
      (i == j ? diagonal : off) += sym * sym;
    }
  const int n = 20000;  // one probe for each of n copies of the point (each copy draws its own)
  std::vector<double> points;
  for (int p = 0; p < n; ++p) points.insert(points.end(), y.begin(), y.end());
  for (const auto probe : {likelihood::Probe::rademacher, likelihood::Probe::gaussian}) {
    const bool rademacher = probe == likelihood::Probe::rademacher;
    INFO((rademacher ? "rademacher" : "gaussian"));
    const auto terms = likelihood::jacobian_terms(m, points, s, {1, probe, 11});
    double mean = 0.0;
    for (double q : terms.quadratic) mean += q / n;
    double var = 0.0, m4 = 0.0;
    for (double q : terms.quadratic) {
      var += (q - mean) * (q - mean) / (n - 1);
      m4 += std::pow(q - mean, 4) / n;
    }
    const double expected = 2.0 * (rademacher ? off : off + diagonal);
    CHECK(std::fabs(mean - terms.trace[0]) < 4.0 * std::sqrt(expected / n));
    CHECK(std::fabs(var - expected) < 4.0 * std::sqrt((m4 - var * var) / n));
    CHECK(var > 0.5 * expected);  // the check above is no wider than the variance itself
  }
}

namespace {

// `pfode likelihood` in a scratch directory: exit status and stderr.
struct Cli {
  std::filesystem::path dir = std::filesystem::temp_directory_path() / ("pfode_likelihood_" + std::to_string(::getpid()));
  Cli() {
    std::filesystem::remove_all(dir);
    std::filesystem::create_directories(dir);
  }
  ~Cli() { std::filesystem::remove_all(dir); }
  std::pair<int, std::string> run(const std::string& args) const {
    const std::string cmd = std::string(PFODE_EXECUTABLE) + " likelihood " + args + " > " + (dir / "out.txt").string() +
                            " 2> " + (dir / "err.txt").string();
    const int raw = std::system(cmd.c_str());
    std::ifstream in(dir / "err.txt");
    std::stringstream err;
    err << in.rdbuf();
    return {WIFEXITED(raw) ? WEXITSTATUS(raw) : -1, err.str()};
  }
};

}  // namespace

TEST_CASE("likelihood: pfode likelihood writes each cell's budget with provenance, and refuses bad settings",
          "[likelihood]") {
  Cli cli;
  const auto out = (cli.dir / "l.h5").string(), cfg = (cli.dir / "l.ini").string();
  std::ofstream(cfg) << "[run]\nout = " << out
                     << "\nsamples = 4\n[sweep]\nmodels = m\nschedules = vp-linear\nsolvers = heun\nnfe = 8 16\n"
                        "[likelihood]\ndivergence = rademacher\nprobes = 2\npresets = score-sde\n"
                        "[model.m]\nkind = mixture\ndim = 2\nweights = 0.5 0.5\nmeans = -1 0 ; 1 0.5\n"
                        "stds = 0.4 0.5 ; 0.5 0.35\n";
  const auto [status, err] = cli.run(cfg);
  INFO(err);
  REQUIRE(status == 0);
  {
    const auto file = io::File::open_read(out);
    const auto root = file.root();
    CHECK(!root.read_string_attribute("git_commit").empty());
    CHECK(root.read_string_dataset("config").find("probes = 2") != std::string::npos);
    const auto cells = root.open_group("likelihood");
    REQUIRE(cells.children().size() == 4);  // the reference, heun at 8 and 16, the preset
    const auto ref = cells.open_group("0");
    CHECK(ref.read_string_attribute("method") == "reference");
    CHECK(ref.read_long_attribute("probes") == 2);
    CHECK(ref.read_double_attribute("integration_max") < 1e-8);
    const auto total = ref.read_dataset("total"), parts = ref.read_dataset("integration"),
               estimator = ref.read_dataset("estimator"), prior = ref.read_dataset("prior"),
               truncation = ref.read_dataset("truncation");
    REQUIRE(total.size() == 4);
    for (size_t p = 0; p < 4; ++p) CHECK(total[p] == Approx(parts[p] + estimator[p] + prior[p] + truncation[p]).margin(1e-9));
    CHECK(cells.open_group("3").read_string_attribute("method") == "score-sde");
  }
  // An existing output stays unless --force.
  CHECK(cli.run(cfg).first == 2);
  const std::vector<std::pair<std::string, std::string>> bad = {
      {"likelihood.divergence=hutchinson", "unknown probe 'hutchinson'"},
      {"likelihood.probes=0", "likelihood.probes: '0' is not a count"},
      {"likelihood.probes=two", "likelihood.probes: 'two' is not a count"},
      {"likelihood.prior=flat", "likelihood.prior: unknown 'flat' (total | sigma)"},
      {"likelihood.presets=ddpm", "unknown likelihood preset 'ddpm'"},
      {"likelihood.presets=score-sde score-sde", "'score-sde' is listed twice"},
      {"likelihood.colour=blue", "unknown setting 'likelihood.colour'"},
      {"run.start=prior", "run.start = prior"},
      {"sweep.solvers=heun deis-2", "deis-2 with basis=t"},
      {"sweep.solvers=euler-maruyama", "stochastic sampler"},
      // Before any cell runs (the budget of 8 comes first), not after it.
      {"sweep.nfe=8 1", "/heun/nfe=1: NFE 1 is below what solver heun needs for one step (2)"},
  };
  for (const auto& [set, message] : bad) {
    const auto [code, text] = cli.run(cfg + " --force -o " + (cli.dir / "bad.h5").string() + " --set '" + set + "'");
    INFO(set << " -> " << text);
    CHECK(code == 2);
    CHECK(text.rfind("pfode: error: ", 0) == 0);
    CHECK(text.find(message) != std::string::npos);
    CHECK(!std::filesystem::exists(cli.dir / "bad.h5"));
  }
}

TEST_CASE("likelihood: data points read from a file give the budget of the same points drawn, and their own exact "
          "log-density",
          "[likelihood]") {
  Cli cli;
  const auto spec = test::mixture2d();
  const int samples = 4;
  const std::string model = "[model.m]\nkind = mixture\ndim = 2\nweights = 0.5 0.3 0.2\nmeans = -1 0 ; 1 0.5 ; 0 -1\n"
                            "stds = 0.4 0.5 ; 0.5 0.35 ; 0.45 0.4\n";
  const auto config = [&](const std::string& name, const std::string& start) {
    const auto path = (cli.dir / (name + ".ini")).string();
    std::ofstream(path) << "[run]\nout = " << (cli.dir / (name + ".h5")).string() << "\nsamples = " << samples
                        << "\nseeds = 0\n" << start << "[sweep]\nmodels = m\nschedules = vp-linear\nsolvers = heun\n"
                        << "nfe = 16\n[likelihood]\ndivergence = exact\n" << model;
    return path;
  };
  // The draws pfode likelihood makes for seed 0, and the same points shifted off the data.
  const auto drawn = model::start_states(spec, model::StartSpec{}, 0, samples, 1.0, 0.0);
  std::vector<double> shifted = drawn;
  for (double& x : shifted) x += 0.25;
  const auto data = (cli.dir / "data.h5").string();
  {
    const auto file = io::File::create(data);
    file.root().write_dataset("x_0", drawn, {static_cast<hsize_t>(samples), 2});
    file.root().write_dataset("shifted", shifted, {static_cast<hsize_t>(samples), 2});
    file.root().write_dataset("short", std::vector<double>(drawn.begin(), drawn.end() - 2),
                              {static_cast<hsize_t>(samples - 1), 2});
  }
  const std::string from_file = "start = file\nstart_file = " + data + "\nstart_dataset = ";
  REQUIRE(cli.run(config("drawn", "")).first == 0);
  REQUIRE(cli.run(config("file", from_file + "x_0\n")).first == 0);
  REQUIRE(cli.run(config("shifted", from_file + "shifted\n")).first == 0);
  const auto cell = [&](const std::string& name, const std::string& id, const std::string& dataset) {
    return io::File::open_read((cli.dir / (name + ".h5")).string()).root().open_group("likelihood").open_group(id)
        .read_dataset(dataset);
  };
  for (const std::string id : {"0", "1"})  // the reference and heun at 16 NFE
    for (const std::string part : {"estimate", "exact_log_p0", "integration", "truncation", "prior", "total"}) {
      INFO("cell " << id << ", " << part);
      CHECK(cell("file", id, part) == cell("drawn", id, part));
    }
  // Points off the data: the exact log p_0 is theirs, and the reference still reaches it.
  const auto exact = likelihood::log_density(model::to_device(spec), shifted, 0.0);
  const auto logged = cell("shifted", "0", "exact_log_p0"), integration = cell("shifted", "0", "integration");
  for (int p = 0; p < samples; ++p) {
    CHECK(logged[p] == Approx(exact[p]).epsilon(1e-14));
    CHECK(logged[p] != Approx(cell("drawn", "0", "exact_log_p0")[p]).epsilon(1e-3));
    CHECK(std::fabs(integration[p]) < 1e-8);
  }
  // A dataset of fewer points than run.samples is refused before any compute.
  const auto [code, text] = cli.run(config("short", from_file + "short\n"));
  INFO(text);
  CHECK(code == 2);
  CHECK(text.rfind("pfode: error: start states: ", 0) == 0);
  CHECK(text.find("not at least 4 (run.samples) x exactly 2") != std::string::npos);
  CHECK(!std::filesystem::exists(cli.dir / "short.h5"));
}
