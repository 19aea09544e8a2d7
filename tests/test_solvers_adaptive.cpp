// Adaptive solvers (dopri5, dpm-solver-12, dpm-solver-23): swept by tolerance on exact models,
// the GTE follows the tolerance, the NFE they spend grows as it tightens, the GTE falls with the
// NFE at the method's order, every model evaluation is accounted for by the attempted steps, and
// a sweep runs them end to end on the grid [t_max, t_min].
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <numeric>
#include <sstream>
#include <type_traits>

#include "solver/adaptive.hpp"
#include "solver/registry.hpp"
#include "solver/run_impl.hpp"
#include "support.hpp"

using namespace pfode;

namespace {

// Tolerances per solver, from `loosest` by decades down to where the NFE stays affordable
// (DPM-Solver-12 needs ~2e5 at 1e-10); dopri5 goes to 1e-12 (GTE ~1e-13, still above the
// reference's ~1e-14) because its asymptotic range starts late. The last two decades are halved
// (steps of sqrt(10)): five points for the order at the tight end.
std::vector<double> tolerances(const std::string& solver_name, double loosest) {
  const int last = solver_name == "dpm-solver-12" ? -7 : solver_name == "dpm-solver-23" ? -9 : -12;
  std::vector<double> tols;
  for (int half = static_cast<int>(std::lround(2 * std::log10(loosest))); half >= 2 * last; --half)
    if (half % 2 == 0 || half < 2 * last + 4) tols.push_back(std::pow(10.0, half / 2.0));
  return tols;
}

struct TolPoint {
  double tol, gte_rms, nfe_mean;
  std::vector<double> gte, nfe;  // per sample
};

double mean(const std::vector<long>& v) {
  return std::accumulate(v.begin(), v.end(), 0.0) / static_cast<double>(v.size());
}

struct ToleranceSweep {
  std::vector<TolPoint> points;  // loosest first
  double floor = 0;              // 10x the reference's error estimate: smaller errors are not the solver's
};

// One tolerance sweep on the two-point grid [t_max, t_min] from the marginal start states of
// `seed`, with the NFE ledger checked per sample. One reference serves every tolerance, tighter
// than a sweep's default (dopri5's GTE reaches 1e-13).
ToleranceSweep tolerance_sweep(const model::ModelSpec& m, const std::string& schedule_name,
                               const std::string& solver_name, const std::string& options,
                               const std::vector<double>& kTolerances, std::uint64_t seed, int samples = 16) {
  const auto sched = schedule::make_schedule(schedule_name);
  const std::vector<double> times = {sched.t_max, sched.t_min};
  const auto model = model::to_device(m);
  reference::Dop853Settings settings;
  settings.rtol = settings.atol = 1e-14;
  const auto ref = reference::solve_reference(model, test::marginal_starts(m, sched, samples, seed),
                                              {sched.s(sched.t_max), sched.s(sched.t_min)}, settings,
                                              {sched.alpha(sched.t_max), sched.alpha(sched.t_min)});
  REQUIRE(ref.failed_samples == 0);
  Kokkos::View<int*> index("index", 2);
  Kokkos::deep_copy(Kokkos::subview(index, 1), 1);
  const auto grid = solver::make_step_grid(sched, times, solver::Variable::t);
  ToleranceSweep sweep;
  sweep.floor = 10 * ref.error_estimate;
  for (double tol : kTolerances) {
    char label[96];
    std::snprintf(label, sizeof label, "%s[%stol=%g]", solver_name.c_str(), options.c_str(), tol);
    const auto spec = solver::parse_solver(label);
    const auto run = solver::run_solver(spec, grid, model, solver::ExactStates{ref.y, index}, samples, false);
    TolPoint p{tol, 0.0, mean(run.nfe), {}, {}};
    double sum = 0.0;
    for (int s = 0; s < samples; ++s) {
      const double e = run.global_error[static_cast<size_t>(s) * 2 + 1];
      REQUIRE(std::isfinite(e));
      sum += e * e;
      p.gte.push_back(e);
      p.nfe.push_back(static_cast<double>(run.nfe[s]));
      // Every evaluation is part of an attempted step: dopri5 spends 6 per attempt after f(t_0)
      // and the initial-step probe; DPM-Solver-k spends k per attempt.
      const long attempts = run.accepted_steps[s] + run.rejected_steps[s];
      const long expected = spec.info->id == solver::SolverId::dopri5 ? 2 + 6 * attempts : spec.info->order * attempts;
      REQUIRE(run.nfe[s] == expected);
      REQUIRE(run.accepted_steps[s] >= 1);
    }
    p.gte_rms = std::sqrt(sum / samples);
    sweep.points.push_back(p);
    if (std::getenv("PFODE_PRINT_ADAPTIVE"))
      std::printf("ADAPTIVE %-10s %-10s %-14s seed %lu tol %.0e  NFE mean %8.1f [%g, %g]  GTE %.3e  GTE/tol %.2f\n",
                  m.name.c_str(), schedule_name.c_str(), solver_name.c_str(), static_cast<unsigned long>(seed), tol,
                  p.nfe_mean, *std::min_element(p.nfe.begin(), p.nfe.end()),
                  *std::max_element(p.nfe.begin(), p.nfe.end()), p.gte_rms, p.gte_rms / tol);
  }
  return sweep;
}

// The order of each sample's GTE against its own NFE over the five tightest tolerances whose RMS
// GTE lies above the reference's floor, the median over samples (NaN without five such).
double median_sample_order(const ToleranceSweep& sweep) {
  std::vector<const TolPoint*> window;
  for (auto it = sweep.points.rbegin(); it != sweep.points.rend() && window.size() < 5; ++it)
    if (it->gte_rms > sweep.floor) window.push_back(&*it);
  if (window.size() < 5) return NAN;
  const size_t samples = sweep.points.front().gte.size();
  std::vector<double> orders;
  for (size_t s = 0; s < samples; ++s) {
    std::vector<double> nfe, gte;
    for (const auto* point : window) {
      nfe.push_back(point->nfe[s]);
      gte.push_back(point->gte[s]);
    }
    orders.push_back(-test::loglog_slope(nfe, gte));
  }
  std::sort(orders.begin(), orders.end());
  const size_t n = orders.size();
  return n % 2 ? orders[n / 2] : 0.5 * (orders[n / 2 - 1] + orders[n / 2]);
}

// For each seed's start states: the GTE stays within a modest factor of the tolerance, falls with
// it and about as fast, the NFE grows, and each sample's GTE against the NFE it spent falls at the
// method's order at the tight end (at loose tolerances a start-up cost that does not grow with
// 1/tol inflates the apparent order: dopri5 in log s ~6 over 1e-3..1e-12, ~5.4 over
// 1e-10..1e-12; DPM-Solver-23 ~3.6 overall, ~3.05 at the tight end; see README). Each sample is
// its own adaptive integration, so the order is the median sample's: the RMS over samples
// against their mean NFE follows only once every sample is asymptotic, and one sample in 16 can
// keep the RMS of DPM-Solver-23 at local order 2.1-2.6 down to 1e-10 (median orders over seeds
// 0-8: DPM-Solver-12 1.95-1.99, DPM-Solver-23 2.96-3.13; RMS orders 2.6-3.35).
void check_adaptive(const model::ModelSpec& m, const std::string& schedule_name, const std::string& solver_name,
                    const std::string& options = "", bool check_order = true, double loosest = 1e-3) {
  const auto tols = tolerances(solver_name, loosest);
  const int p = solver::find_solver(solver_name).order;
  for (std::uint64_t seed : test::order_seeds()) {
    const auto sweep = tolerance_sweep(m, schedule_name, solver_name, options, tols, seed);
    const auto& points = sweep.points;
    std::vector<double> tol, gte;
    for (const auto& point : points) {
      tol.push_back(point.tol);
      gte.push_back(point.gte_rms);
    }
    const double order = median_sample_order(sweep), proportionality = test::loglog_slope(tol, gte);
    std::ostringstream what;
    what << m.name << " / " << schedule_name << " / " << solver_name << "[" << options << "], seed " << seed
         << ": median sample's GTE order in NFE " << order << " (tightest five tolerances), d log GTE / d log tol "
         << proportionality;
    if (std::getenv("PFODE_PRINT_ADAPTIVE")) std::printf("ADAPTIVE-FIT %s\n", what.str().c_str());
    INFO(what.str());
    for (size_t k = 0; k < points.size(); ++k) {
      INFO("tol " << points[k].tol << ": GTE " << points[k].gte_rms << ", NFE " << points[k].nfe_mean);
      // The global error stays within a modest factor of the tolerance (the control bounds local
      // errors; their sum over the trajectory is what this checks).
      CHECK(points[k].gte_rms <= 100.0 * points[k].tol);
      if (k > 0) CHECK(points[k].nfe_mean > points[k - 1].nfe_mean);  // tighter tolerance, more evaluations
      // and a smaller error than two decades looser (from one decade to the next the RMS can rise
      // at loose tolerances: DPM-Solver-23 on the 2-D mixture, seed 14, 3.3e-4 at 1e-3 and 6.6e-4
      // at 1e-4, one sample lucky at 1e-3)
      for (size_t j = 0; j < k; ++j)
        if (points[j].tol >= 99 * points[k].tol) CHECK(points[k].gte_rms < points[j].gte_rms);
    }
    // Tolerance proportionality: the GTE falls about as fast as the tolerance.
    CHECK(proportionality > 0.7);
    CHECK(proportionality < 1.3);
    // dopri5 approaches its order 5 from above and is still on the way at 1e-12, where its GTE
    // nears the reference's floor: its local orders fall by ~0.3 a decade (16-D mixture: 6.2, 5.9,
    // 5.6, 5.3 from 1e-8 on), and the median sample's order over 1e-10..1e-12 is 4.9-5.57 over
    // seeds 0-8 and the five cases here. It gets 0.7 on that side: an order-4 method could not
    // pass, nor an order-6 one.
    if (check_order) {
      CHECK(order >= p - 0.15);
      CHECK(order <= p + (solver_name == "dopri5" ? 0.7 : 0.15));
    }
  }
}

std::vector<std::string> adaptive_solvers() {
  std::vector<std::string> names;
  for (const auto& info : solver::all_solvers())
    if (info.adaptive) names.push_back(info.name);
  return names;
}

}  // namespace

TEST_CASE("adaptive solvers: GTE follows the tolerance, NFE grows, order p in NFE (Gaussian)", "[solvers_adaptive]") {
  REQUIRE(adaptive_solvers().size() >= 3);
  for (const auto& name : adaptive_solvers()) check_adaptive(test::gaussian(4), "vp-linear", name);
}

TEST_CASE("adaptive solvers: GTE follows the tolerance, NFE grows, order p in NFE (2-D mixture)", "[solvers_adaptive]") {
  for (const auto& name : adaptive_solvers()) {
    check_adaptive(test::mixture2d(), "vp-linear", name);
    check_adaptive(test::mixture2d(), "edm", name);
  }
}

TEST_CASE("adaptive solvers: GTE follows the tolerance, NFE grows, order p in NFE (16-D mixture)", "[solvers_adaptive]") {
  for (const auto& name : adaptive_solvers()) check_adaptive(test::mixture16(), "vp-linear", name);
}

TEST_CASE("dopri5 converges in every integration variable", "[solvers_adaptive]") {
  // In s the control is erratic above tol ~1e-5 (dy/ds has a 1/s factor: measured GTE/tol up to
  // ~70 at 1e-3), so s starts at 1e-6, and its apparent order is still ~6.5 at 1e-12
  // (pre-asymptotic): only the tolerance behaviour is checked there.
  check_adaptive(test::mixture2d(), "vp-linear", "dopri5", "variable=t,");
  check_adaptive(test::mixture2d(), "vp-linear", "dopri5", "variable=s,", false, 1e-6);
}

TEST_CASE("Dormand-Prince tableau: row sums, order conditions, order 5, FSAL, embedded order 4", "[solvers_adaptive]") {
  const auto k = solver::dopri5_tableau();
  double b_sum = 0, b_c = 0, b_c2 = 0, b_c3 = 0, b_c4 = 0, e_sum = 0, e_c = 0, e_c2 = 0, e_c3 = 0, e_c4 = 0;
  for (int i = 0; i < 7; ++i) {
    double row = 0;
    for (int j = 0; j < i; ++j) row += k.a[i][j];
    CHECK(row == Approx(k.c[i]).margin(1e-15));
    if (i == 6)
      for (int j = 0; j < 7; ++j) CHECK(k.a[6][j] == k.b[j]);  // first same as last
    const double c = k.c[i];
    b_sum += k.b[i];
    b_c += k.b[i] * c;
    b_c2 += k.b[i] * c * c;
    b_c3 += k.b[i] * c * c * c;
    b_c4 += k.b[i] * c * c * c * c;
    e_sum += k.e[i];
    e_c += k.e[i] * c;
    e_c2 += k.e[i] * c * c;
    e_c3 += k.e[i] * c * c * c;
    e_c4 += k.e[i] * c * c * c * c;
  }
  // Quadrature conditions: 5th order integrates c^q exactly up to q = 4; the 4th-order
  // companion up to q = 3, so e = b - b_hat annihilates c^0..c^3 but not c^4.
  CHECK(b_sum == Approx(1.0).margin(1e-15));
  CHECK(b_c == Approx(1.0 / 2).margin(1e-15));
  CHECK(b_c2 == Approx(1.0 / 3).margin(1e-15));
  CHECK(b_c3 == Approx(1.0 / 4).margin(1e-15));
  CHECK(b_c4 == Approx(1.0 / 5).margin(1e-15));
  CHECK(std::fabs(e_sum) < 1e-15);
  CHECK(std::fabs(e_c) < 1e-15);
  CHECK(std::fabs(e_c2) < 1e-15);
  CHECK(std::fabs(e_c3) < 1e-15);
  CHECK(std::fabs(e_c4) > 1e-6);
  // Order 5 with fixed steps on a nonlinear system: every order condition, not only quadrature.
  for (int steps : {100, 160}) CHECK(test::fixed_step_order(k, steps) == Approx(5.0).margin(0.2));
}

TEST_CASE("adaptive solvers in a sweep: budget selects the tolerance, NFE is what was spent", "[solvers_adaptive]") {
  using solver::parse_solver;
  const auto spec = parse_solver("dpm-solver-23");
  CHECK(solver::is_adaptive(spec));
  CHECK_FALSE(solver::is_adaptive(parse_solver("dpm-solver-3")));
  CHECK(solver::steps_for_budget(spec, 1) == 1);
  CHECK(solver::steps_for_budget(spec, 500) == 1);
  CHECK_THROWS_AS(solver::steps_for_budget(spec, 0), std::invalid_argument);
  CHECK(solver::tolerance_for_budget(*spec.info, 250) == Approx(1e-6));  // (2.5 / 250)^3
  CHECK(solver::tolerance_for_budget(solver::find_solver("dopri5"), 1000000) == 1e-12);  // clamped
  CHECK(solver::tolerance_for_budget(solver::find_solver("dpm-solver-12"), 2) == 0.1);  // clamped
  CHECK(solver::describe_options(spec) == "tol=from-budget,final=none");
  CHECK(solver::describe_options(solver::with_budget(spec, 250)) == "atol=1e-06,rtol=1e-06,final=none");
  CHECK(solver::describe_options(parse_solver("dopri5[atol=1e-9,rtol=1e-7]")) ==
        "variable=log_s,atol=1e-09,rtol=1e-07,final=none");
  CHECK(solver::tolerances_for(solver::with_budget(parse_solver("dopri5[tol=1e-4]"), 64)).atol == 1e-4);
  CHECK_THROWS_AS(solver::tolerances_for(spec), std::invalid_argument);
  for (const char* bad : {"dopri5[tol=0]", "dopri5[tol=2]", "dpm-solver-12[variable=s]", "dpm-solver-23[order=2]",
                          "rk4[tol=1e-3]"})
    CHECK_THROWS_AS(parse_solver(bad), std::invalid_argument);
  CHECK(solver::theoretical_order(parse_solver("dopri5")) == 5);

  auto e = test::experiment(test::mixture2d(), "vp-linear", "uniform-lambda", "dpm-solver-23", {8, 32, 128}, 16);
  const auto cells = test::run_cells(e);
  REQUIRE(cells.size() == 3);
  for (size_t k = 0; k < cells.size(); ++k) {
    const auto& c = cells[k];
    INFO("budget " << c.nfe_budget << ": NFE " << c.nfe << ", GTE " << c.gte_summary.rms);
    CHECK(c.status == "ok");
    CHECK(c.steps == 1);
    CHECK(c.t.size() == 2);
    CHECK(c.error_rms.size() == 2);
    CHECK(c.nfe > 0);
    if (k > 0) {
      CHECK(c.nfe > cells[k - 1].nfe);
      CHECK(c.gte_summary.rms < cells[k - 1].gte_summary.rms);
    }
  }
}

TEST_CASE("dpm-solver-23 ends at t_min when its last step's error estimate is exactly 0", "[solvers_adaptive]") {
  // Found on the 2-D mixture, vp-linear, tol 1e-7 (marginal start state of seed 9, sample 1): the
  // last step, clipped to land on t_min, is ~3e-5 long in lambda; its two solutions agree to the
  // last bit, so E = 0, and the next step size asked for, min(inf, lambda_end - lambda) = 0, was
  // taken for an underflow: the sample ended as NaN (step_control_failed) although it had arrived.
  // 27 of 28672 sample runs (16 seeds x 256 samples x tolerances 1e-3..1e-9) did so.
  const auto m = test::mixture2d();
  const auto sched = schedule::make_schedule("vp-linear");
  const auto starts = test::to_view({142.7849268184801, -73.031214542198697}, 1, 2);
  const auto run = test::solve_on_grid(m, sched, {sched.t_max, sched.t_min}, solver::parse_solver("dpm-solver-23[tol=1e-7]"),
                                       starts);
  INFO("GTE " << run.global_error[1] << ", accepted " << run.accepted_steps[0] << ", rejected " << run.rejected_steps[0]);
  REQUIRE(std::isfinite(run.global_error[1]));
  REQUIRE(run.global_error[1] <= 100 * 1e-7);
  REQUIRE(run.nfe[0] == 3 * (run.accepted_steps[0] + run.rejected_steps[0]));
}

namespace {

// 19 samples of a 5-D, 4-component mixture (a full pack of 16 and a partial one) through a grid
// with two interior points, which every sample lands on; sample 3 starts at NaN, so it fails at
// once and idles beside the others. The exact states are the start states at every grid point
// (only the bits of what the solvers compute are compared).
struct AdaptivePackProblem {
  static constexpr int samples = 19, nan_sample = 3;
  model::ModelSpec spec = model::random_mixture("mix", 5, 4, 11, 1.5, 0.2, 0.7);
  model::DiagonalMixture dm = std::get<model::DiagonalMixture>(model::to_device(spec));
  schedule::Schedule sched = schedule::make_schedule("vp-linear");
  Kokkos::View<double***> y{"y", samples, 1, static_cast<size_t>(spec.dim)};
  Kokkos::View<int*> index{"index", 4};  // zeros: every grid point reads y(sample, 0)

  AdaptivePackProblem() {
    auto starts = test::to_host(test::marginal_starts(spec, sched, samples));
    starts(nan_sample, 2) = std::nan("");
    auto h = Kokkos::create_mirror_view(y);
    for (int p = 0; p < samples; ++p)
      for (int j = 0; j < spec.dim; ++j) h(p, 0, j) = starts(p, j);
    Kokkos::deep_copy(y, h);
  }
  solver::ExactStates exact() const { return {y, index}; }
  solver::StepGrid grid(solver::Variable variable) const {
    const double span = sched.t_max - sched.t_min;
    auto g = solver::make_step_grid(sched, {sched.t_max, sched.t_min + 0.4 * span, sched.t_min + 0.05 * span, sched.t_min},
                                    solver::Variable::t);
    g.variable = variable;
    return g;
  }

  // The adaptive kernel in packs of W samples per thread.
  template <int W>
  solver::SolverRun in_packs_of(const solver::SolverSpec& spec_) const {
    const auto g = grid(spec_.variable);
    return solver::with_method(spec_, g, [&](const auto& method) -> solver::SolverRun {
      if constexpr (solver::detail::adaptive_method<std::decay_t<decltype(method)>>) {
        lane::NfeCounter nfe("nfe", samples);
        const auto lane = lane::make_pack_lane<W>("test", samples, method.slots(), dm, nfe);
        return solver::detail::run_adaptive_kernel(method, Kokkos::RangePolicy<>(0, lane::packs_of<W>(samples)), lane,
                                                   g, exact(), samples, false, spec_.final_denoise, {});
      } else {
        FAIL("not adaptive");
        return {};
      }
    });
  }
  // Through run_solver (packs of lane::pack_width, or teams).
  solver::SolverRun run(const solver::SolverSpec& spec_, const lane::KernelLayout& layout = {}) const {
    return solver::run_solver(spec_, grid(spec_.variable), model::to_device(spec), exact(), samples, false, layout);
  }
};

bool same_bits(const std::vector<double>& a, const std::vector<double>& b) {
  return a.size() == b.size() && (a.empty() || std::memcmp(a.data(), b.data(), a.size() * sizeof(double)) == 0);
}

}  // namespace

TEST_CASE("adaptive solvers: a sample takes the same steps and gives the same bits in any pack width or layout",
          "[solvers_adaptive]") {
  // The samples of a pack step in lock step with their own step sizes; one sample alone in a
  // pack of 1 (what a thread computed before packs), in packs of 4 and of lane::pack_width, and in
  // teams: every count, state, error and traced evaluation is the same, bit for bit.
  const AdaptivePackProblem problem;
  const int samples = AdaptivePackProblem::samples;
  lane::KernelLayout teams;
  teams.kind = lane::KernelLayout::teams;
  for (const std::string label : {"dopri5[tol=1e-6]", "dopri5[tol=1e-7,variable=t,final=denoise]",
                                  "dpm-solver-12[tol=1e-5]", "dpm-solver-23[tol=1e-6]"}) {
    INFO(label);
    const auto spec = solver::parse_solver(label);
    const auto one = problem.in_packs_of<1>(spec);
    // The premise: the samples take different numbers of steps, and the NaN sample fails alone.
    long fewest = 1L << 40, most = 0;
    for (int p = 0; p < samples; ++p) {
      const double gte = one.global_error[static_cast<size_t>(p) * 4 + 3];
      if (p == AdaptivePackProblem::nan_sample) {
        REQUIRE(std::isnan(gte));
        continue;
      }
      REQUIRE(std::isfinite(gte));
      fewest = std::min(fewest, one.accepted_steps[p] + one.rejected_steps[p]);
      most = std::max(most, one.accepted_steps[p] + one.rejected_steps[p]);
    }
    INFO("attempted steps per sample " << fewest << " to " << most);
    REQUIRE(most >= fewest + 3);
    REQUIRE(one.eval_s.size() == static_cast<size_t>(one.nfe[0]));
    const std::pair<const char*, solver::SolverRun> others[] = {{"packs of 4", problem.in_packs_of<4>(spec)},
                                                                 {"packs", problem.run(spec)},
                                                                 {"teams", problem.run(spec, teams)}};
    for (const auto& [name, other] : others) {
      INFO(name);
      REQUIRE(other.nfe == one.nfe);
      REQUIRE(other.accepted_steps == one.accepted_steps);
      REQUIRE(other.rejected_steps == one.rejected_steps);
      REQUIRE(same_bits(other.global_error, one.global_error));
      REQUIRE(same_bits(other.final_state, one.final_state));
      REQUIRE(same_bits(other.exact_final_rms, one.exact_final_rms));
      REQUIRE(same_bits(other.eval_s, one.eval_s));
    }
  }
}
