// Every solver in the registry converges at its theoretical order on exact models: GTE order p
// and LTE order p + 1 within 0.15, fitted over the asymptotic range; NFE is what the solver states.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <sstream>

#include "model/network_file.hpp"
#include "solver/dpm_solver.hpp"
#include "solver/explicit_rk.hpp"
#include "solver/registry.hpp"
#include "support.hpp"

using namespace pfode;

namespace {

// Budgets that are multiples of every stated cost up to 4, from coarse to fine; the fit finds
// the asymptotic range among them.
const std::vector<int> kBudgets = {24, 36, 48, 72, 96, 144, 192, 288, 384, 576, 768, 1152, 1536};

struct OrderCase {
  model::ModelSpec model;
  std::string solver, schedule = "vp-linear", spacing = "uniform-lambda";
  std::vector<int> budgets = {};  // empty: the expectation's
  int samples = 16;               // per seed: one pack
};

// Where a solver's asymptotic range lies beyond kBudgets, or a model makes its leading error term
// vanish, the case is listed here with the reason; nothing else is special-cased.
struct Expectation {
  std::vector<int> budgets = kBudgets;
  bool median = false;    // the GTE order of the median sample (the RMS follows only much later)
  bool at_least = false;  // superconvergent: the GTE falls at order >= p - 0.15 down to the floor
  bool lte_at_least = false;  // the same for the LTE order (>= p + 1 - 0.15)
  bool skip = false;      // pre-asymptotic past any affordable NFE on this model
  bool lte_largest_step = false;  // the LTE order of the largest step's LTE, not the median step's
};

Expectation expectation(const OrderCase& c) {
  const std::string &model = c.model.name, &solver = c.solver;
  Expectation x;
  // DPM-Solver-fast ends with orders 2, 1 (NFE % 3 == 0): the order-1 last step's O(h^2) error
  // overtakes the order-3 steps' O(h^3) only at a few thousand NFE.
  if (solver == "dpm-solver-fast") x.budgets = {384, 576, 768, 1152, 1536, 2304, 3072, 4608, 6144};
  // So does deis-3 with lower_order_final=on (orders 3, .., 3, 2, 1), on the 2-D mixture from ~3000
  // in the log-rho basis (in t, tAB's order-1 last step is smaller still: 2.55 at 12288).
  if (solver == "deis-3[lower_order_final=on,basis=log_rho]")
    x.budgets = {768, 1152, 1536, 2304, 3072, 4608, 6144, 9216, 12288};
  // On the 16-D mixture the samples that end between modes carry large O(h^3) errors: the RMS
  // shows order 2.0-2.9 at 6000 NFE and 2.0-2.2 at 37000, depending on the draw; the median
  // sample's order is 2.01-2.04 over 384..6144 on every seed tried (0-8).
  if (model == "mix16" && solver == "dpm-solver-fast") x.median = true;
  // deis-3's order-1 last step has a smaller constant still: RMS order 2.7 at 50000 NFE there
  // (median order 2.05 over 4608-24576); the Gaussian and the 2-D mixture cover this variant.
  // On the rotated 3-D mixture it is still at order 2.46 at 12288 (median 2.04).
  if ((model == "mix16" || model == "full3d") && solver == "deis-3[lower_order_final=on,basis=log_rho]") x.skip = true;
  // Midpoint in s on the 2-D mixture: LTE order 3.15 fitted up to NFE 1536 (the 1/s in dy/ds
  // slows the approach), 3.04 up to 6144.
  if (solver == "midpoint[variable=s]")
    x.budgets = {96, 144, 192, 288, 384, 576, 768, 1152, 1536, 2304, 3072, 4608, 6144};
  // The trained network's flow varies faster in lambda than its mixture's: its noise embedding
  // cos/sin(2 pi f log(s)/4) turns at up to pi max|f|/2 = 3.4 radians per unit of log s (max|f| =
  // 2.18 in the shipped file), so higher-order error terms stay large to larger NFE. Measured on 8
  // samples, seed 0, against the exact eight-Gaussian mixture from the same start states: there
  // ab4's local GTE orders are 3.98-3.99 from NFE 288 on; on the network they dip to 3.64 at 768
  // and climb back to 3.94 at 6144 (fit 3.73 over 384..1536, 3.92 over 1536..9216).
  if (model == "network" && solver == "ab4") x.budgets = {384, 576, 768, 1152, 1536, 2304, 3072, 4608, 6144, 9216};
  // rk3 approaches its orders from above there: GTE local orders 3.27 at NFE 384 to 3.11 at 1536
  // (fit 3.21 over 192..1536) and 3.03 at 6144 (fit 3.08 over 768..6144; the mixture: 3.09 at 768);
  // the median-step LTE's swing between 4.2 and 4.5 up to 2304 (the mixture: 4.00-4.04 from 768)
  // and reach 4.02 only at 3072, where the LTE is within 10x of the reference's error (fit 4.16
  // over 1536..3072): the LTE check is one-sided for it.
  if (model == "network" && solver == "rk3") {
    x.budgets = {96, 144, 192, 288, 384, 576, 768, 1152, 1536, 2304, 3072, 4608, 6144};
    x.lte_at_least = true;
  }
  // AB4's local order there falls from 4.16 at NFE 384 to 4.03 at 3000.
  if (model == "mix16" && solver == "ab4") x.budgets = {384, 576, 768, 1152, 1536, 2304, 3072, 4608, 6144};
  // Gaussian: along a linear flow the O(h^3) global error term of the exact-weight third-order
  // multistep integrators in lambda integrates to (nearly) zero (not so for tAB-DEIS, in t); the
  // error falls at order >= 4 down to the reference floor. Measured, not assumed: the mixtures
  // and a narrow Gaussian show order 3.
  if (model == "gaussian" && (solver == "deis-3[basis=log_rho]" || solver == "dpm-solver++3m[coefficients=taylor]"))
    x.at_least = true;
  // rk3 on the 2-D mixture with a Fourier error field in its denoiser: the median step's LTE
  // approaches order 4 from above, local orders 4.4-5.2 up to NFE 1152 and 3.9-4.2 at 1536 (fits
  // 3.98, 4.10, 4.18 on seeds 0-2; GTE orders 3.03-3.07).
  if (model == "noisy2d" && solver == "rk3") x.lte_at_least = true;
  // RK4 on vp-cosine/karras: the median step's LTE reaches the reference's floor (7e-14 at NFE 576)
  // while its local order still swings between 4.7 and 5.4 from budget to budget (fits of 4.86 to
  // 5.24 over seeds 0-8). The largest step's LTE (RK4 has no lower-order steps) stays above the
  // floor: order 5.00 from NFE 384 on.
  if (c.schedule == "vp-cosine" && c.spacing == "karras" && solver == "rk4") x.lte_largest_step = true;
  return x;
}

std::string describe(const metrics::OrderFit& f, const std::vector<double>& nfe) {
  std::ostringstream out;
  out << f.order << " +- " << f.standard_error << " over NFE " << (f.valid ? nfe[f.first] : 0) << ".."
      << (f.valid ? nfe[f.last] : 0) << " (local orders";
  for (double o : f.local_order) out << " " << std::round(o * 100) / 100;
  out << ")";
  return out.str();
}


// One series fit per seed, and the order fit of its largest step's LTE (cells whose largest step
// LTE is within 10x of the reference's error left out, as fit_series does with the median's).
struct SeedFit {
  results::SeriesFit series;
  metrics::OrderFit lte_largest_step;
};

std::vector<SeedFit> fit_seeds(const OrderCase& c, const std::vector<int>& budgets,
                               const std::vector<std::uint64_t>& seeds) {
  auto e = test::experiment(c.model, c.schedule, c.spacing, c.solver, budgets, c.samples);
  e.seeds = seeds;
  // A tighter reference than the sweeps' default lowers the floor below which LTEs are
  // unusable, so fifth-order LTEs reach their asymptotic range. 1e-15: with dense output the
  // requested times no longer shorten the reference's steps, and at 1e-14 its floor cut the LTE
  // fits of unipc-3 and rk4 on the 2-D mixture short on some seeds (orders 5.15-5.16).
  e.reference_tolerance = 1e-15;
  const auto cells = test::run_cells(e);
  for (const auto& cell : cells) {
    REQUIRE(cell.status == "ok");
    REQUIRE(cell.nfe_uniform);
    REQUIRE(cell.nfe == solver::nfe_for_steps(solver::with_budget(e.solvers[0].spec, static_cast<int>(cell.nfe_budget)),
                                              static_cast<int>(cell.steps)));
  }
  const auto fits = sweep::fit_series(cells);
  REQUIRE(fits.size() == seeds.size());
  std::vector<SeedFit> out;
  for (const auto& f : fits) {
    std::vector<double> largest;
    std::vector<bool> floor;
    for (int id : f.cells) {  // by increasing NFE
      const auto& cell = cells[id];
      largest.push_back(cell.lte_rms.empty() ? NAN : *std::max_element(cell.lte_rms.begin(), cell.lte_rms.end()));
      floor.push_back(!(largest.back() > 10.0 * cell.reference_error));
    }
    out.push_back({f, metrics::fit_order(f.nfe, largest, floor)});
  }
  return out;
}

// The GTE check: order p within 0.15 over at least four budgets (the median sample's with
// Expectation::median); superconvergent cases fall at order >= p - 0.15 over their four largest
// usable budgets.
bool gte_holds(const Expectation& x, const SeedFit& seed_fit) {
  const auto& s = seed_fit.series;
  const auto& f = x.median ? s.gte_median : s.gte;
  const int p = static_cast<int>(s.order_theory);
  if (!f.valid) return false;
  if (x.at_least) return f.order >= p - 0.15;
  return f.last - f.first + 1 >= 4 && std::fabs(f.order - p) <= 0.15;
}

// Budgets reaching four times further: the upper half of `budgets` and 1.5, 2, 3, 4 times the
// largest, each with the largest's remainder mod 24 (so NFE mod 3, which sets DPM-Solver-fast's
// theory, is kept; the rest stay multiples of every stated cost up to 4).
std::vector<int> extended(const std::vector<int>& budgets) {
  std::vector<int> out(budgets.begin() + static_cast<long>(budgets.size() / 2), budgets.end());
  const int r = budgets.back() % 24, top = budgets.back() - r;
  for (int b : {top * 3 / 2, 2 * top, 3 * top, 4 * top}) out.push_back(b + r);
  return out;
}

// Every order check, on each seed of test::order_seeds(); PFODE_PRINT_ORDERS=1 prints every fit.
void check_orders(const OrderCase& c) {
  const Expectation x = expectation(c);
  if (x.skip) return;
  const auto seeds = test::order_seeds();
  const auto budgets = c.budgets.empty() ? x.budgets : c.budgets;
  const auto first = fit_seeds(c, budgets, seeds);
  for (size_t k = 0; k < seeds.size(); ++k) {
    // A draw whose GTE is still pre-asymptotic at the largest budget (a sample that ends between
    // two modes of the 16-D mixture can keep the RMS there to ~10^4 NFE) is fitted again over
    // budgets reaching 4x, then 16x, further: the asymptotic range of that draw.
    SeedFit s = first[k];
    std::vector<int> used = budgets;
    for (int round = 0; round < 2 && !gte_holds(x, s); ++round) {
      used = extended(used);
      s = fit_seeds(c, used, {seeds[k]})[0];
    }
    const auto& f = s.series;
    const auto& gte = x.median ? f.gte_median : f.gte;
    // The LTE over the first budgets: its range ends at the reference's floor, not at their largest.
    const auto& lte = x.lte_largest_step ? first[k].lte_largest_step : first[k].series.lte;
    // The theory recorded with the cells (a budget can change it: DPM-Solver-fast).
    const int p = static_cast<int>(f.order_theory);
    // LTE: the median over steps, i.e. a typical step; a few low-order steps cap the GTE only.
    const int p_step = static_cast<int>(f.lte_order_theory) - 1;
    std::ostringstream what;
    what << c.model.name << " / " << c.schedule << " / " << c.spacing << " / " << c.solver << ", seed " << f.seed
         << " (" << c.samples << " samples; theory: GTE " << p << ", LTE " << p_step + 1 << "): "
         << (x.median ? "median-sample " : "") << "GTE order " << describe(gte, f.nfe)
         << (used == budgets ? "" : " [budgets extended]") << (x.lte_largest_step ? "; largest-step" : ";")
         << " LTE order " << describe(lte, first[k].series.nfe);
    if (std::getenv("PFODE_PRINT_ORDERS")) std::printf("ORDER %s\n", what.str().c_str());
    INFO(what.str());
    REQUIRE(gte.valid);
    if (x.at_least) CHECK(gte.order >= p - 0.15);
    else {
      CHECK(gte.last - gte.first + 1 >= 4);  // a fit over at least four budgets
      CHECK(std::fabs(gte.order - p) <= 0.15);
    }
    REQUIRE(lte.valid);
    if (x.lte_at_least) CHECK(lte.order >= p_step + 1 - 0.15);
    else CHECK(std::fabs(lte.order - (p_step + 1)) <= 0.15);
  }
}

void check_orders(const model::ModelSpec& m, const std::string& solver_name) { check_orders({m, solver_name}); }

// The order checks of every label on model m, on seed 0 only, with the solvers whose budgets are
// the same in one experiment (one reference between them): for models whose evaluation costs
// many times a mixture's.
void check_orders_sharing_references(const model::ModelSpec& m, const std::vector<std::string>& labels, int samples) {
  std::map<std::vector<int>, std::vector<std::string>> by_budgets;
  for (const auto& label : labels) {
    Expectation x = expectation({m, label});
    REQUIRE(!x.median);
    REQUIRE(!x.lte_largest_step);
    if (!x.skip) by_budgets[x.budgets].push_back(label);
  }
  for (const auto& [budgets, group] : by_budgets) {
    auto e = test::experiment(m, "vp-linear", "uniform-lambda", group[0], budgets, samples);
    for (size_t i = 1; i < group.size(); ++i) {
      e.solvers.push_back(test::solver_entry(group[i]));
      e.spacing_solver_pairs.push_back({0, static_cast<int>(i)});
    }
    e.reference_tolerance = 1e-15;  // as fit_seeds: the LTE fits need its lower floor
    const auto cells = test::run_cells(e);
    for (const auto& cell : cells) {
      REQUIRE(cell.status == "ok");
      REQUIRE(cell.nfe_uniform);
      const auto entry = std::find_if(e.solvers.begin(), e.solvers.end(), [&](const auto& s) { return s.label == cell.solver; });
      REQUIRE(entry != e.solvers.end());
      REQUIRE(cell.nfe == solver::nfe_for_steps(solver::with_budget(entry->spec, static_cast<int>(cell.nfe_budget)),
                                                static_cast<int>(cell.steps)));
    }
    const auto fits = sweep::fit_series(cells);
    REQUIRE(fits.size() == group.size());
    for (const auto& f : fits) {
      const Expectation x = expectation({m, f.solver});
      const int p = static_cast<int>(f.order_theory), p_step = static_cast<int>(f.lte_order_theory) - 1;
      INFO(m.name << " / " << f.solver << " (" << samples << " samples; theory: GTE " << p << ", LTE " << p_step + 1
                  << "): GTE order " << describe(f.gte, f.nfe) << "; LTE order " << describe(f.lte, f.nfe));
      if (std::getenv("PFODE_PRINT_ORDERS"))
        std::printf("ORDER %s / %s: GTE %s; LTE %s\n", m.name.c_str(), f.solver.c_str(), describe(f.gte, f.nfe).c_str(),
                    describe(f.lte, f.nfe).c_str());
      REQUIRE(f.gte.valid);
      if (x.at_least) CHECK(f.gte.order >= p - 0.15);
      else {
        CHECK(f.gte.last - f.gte.first + 1 >= 4);
        CHECK(std::fabs(f.gte.order - p) <= 0.15);
      }
      REQUIRE(f.lte.valid);
      if (x.lte_at_least) CHECK(f.lte.order >= p_step + 1 - 0.15);
      else CHECK(std::fabs(f.lte.order - (p_step + 1)) <= 0.15);
    }
  }
}

// Solvers the order tests run: every fixed-grid registry entry with its defaults, plus the option
// variants whose theory differs. Adaptive solvers are left out: they pick their own steps, so
// an NFE budget only selects their tolerance, their NFE differs between samples and no
// per-step LTE or stated cost exists; test_solvers_adaptive.cpp checks their order against the
// NFE they spend, their tolerance proportionality and their NFE ledger (per attempted step).
// Stochastic samplers have no ODE order: test_stochastic.cpp checks their strong and weak orders.
std::vector<std::string> order_test_labels() {
  std::vector<std::string> labels;
  for (const auto& info : solver::all_solvers())
    if (!info.adaptive && info.family != solver::Family::stochastic) labels.push_back(info.name);
  for (const char* extra : {"dpm-solver++3m[coefficients=taylor]", "unipc-2[corrector=off]", "unipc-2[variant=bh2]",
                            "ab3[warmup=multistep,variable=log_s]", "deis-2[warmup=rk]",
                            "deis-3[lower_order_final=on,basis=log_rho]", "deis-2[basis=log_rho]", "deis-3[basis=log_rho]"})
    labels.push_back(extra);
  return labels;
}

}  // namespace

TEST_CASE("every solver: GTE order p and LTE order p+1 on a Gaussian", "[solvers]") {
  for (const auto& label : order_test_labels()) check_orders(test::gaussian(4), label);
}

TEST_CASE("every solver: GTE order p and LTE order p+1 on a 2-D three-component mixture", "[solvers]") {
  for (const auto& label : order_test_labels()) check_orders(test::mixture2d(), label);
}

TEST_CASE("every solver: GTE order p and LTE order p+1 on a 3-D mixture with full covariances", "[solvers]") {
  for (const auto& label : order_test_labels()) check_orders(test::full_mixture3d(), label);
}

TEST_CASE("every solver: GTE order p and LTE order p+1 on a perturbed 2-D mixture (Fourier error field)", "[solvers]") {
  // Against the model's own PF-ODE: the discretisation error of an imperfect denoiser whose error
  // is a smooth field of the normalised input (4 random Fourier features, length 1).
  const auto noisy = model::perturb("noisy2d", test::mixture2d(), "fourier", 4, 1.0, 3, "constant", 0.05, 1, 1);
  for (const auto& label : order_test_labels()) check_orders(noisy, label);
}

TEST_CASE("every solver: GTE order p and LTE order p+1 on a guided 2-D mixture (w = 2)", "[solvers]") {
  // Against the guided model's own PF-ODE; the samples' classes drawn, so packs mix classes.
  const auto guided = model::guide("guided2d", test::mixture2d(), {0, 1, 1}, 2.0, 0, INFINITY, {}, 0, "guided2d[w=0]");
  for (const auto& label : order_test_labels()) check_orders(guided, label);
}

TEST_CASE("every solver: GTE order p and LTE order p+1 on a 16-D eight-component mixture", "[solvers]") {
  for (const auto& label : order_test_labels()) check_orders(test::mixture16(), label);
}

TEST_CASE("every solver: GTE order p and LTE order p+1 on the shipped network's own ODE", "[solvers]") {
  // The model is the trained network, so the reference is its own PF-ODE: the discretisation error
  // alone. One seed and 8 samples: a network evaluation costs ~10x a mixture's.
  const auto net = model::load_network_model("network", std::string(PFODE_SOURCE_DIR) + "/experiments/networks/eight-gaussians.h5");
  check_orders_sharing_references(net, order_test_labels(), 8);
}

TEST_CASE("third-order exact-weight multistep integrators: order 3 on a Gaussian narrower than s(t_min)", "[solvers]") {
  // The counterpart of the Gaussian exception above: with stds 0.01-0.05, near s(t_min) = 0.01
  // on vp-linear, the O(h^3) term no longer cancels along the flow and the order is 3 within 0.15.
  std::vector<double> means(4), stds(4);
  for (int j = 0; j < 4; ++j) {
    means[j] = 0.3 * j - 0.5;
    stds[j] = 0.01 + 0.013 * j;
  }
  const auto narrow = model::make_model("narrow", 4, {1.0}, means, stds, "test");
  for (const char* name : {"deis-3[basis=log_rho]", "dpm-solver++3m[coefficients=taylor]"}) check_orders(narrow, name);
}

TEST_CASE("DPM-Solver-fast spending NFE = 2 mod 3 ends on an order-2 step: GTE order 3", "[solvers]") {
  std::vector<int> budgets;
  for (int b : kBudgets) budgets.push_back(b + 2);
  for (const auto& m : {test::gaussian(4), test::mixture2d()}) check_orders({m, "dpm-solver-fast", "vp-linear", "uniform-lambda", budgets});
}

// Whether a spacing resolves lambda on a schedule: its largest step in lambda at 768 steps is at
// most ~6x that of the uniform-lambda grid (N max|dlambda| <= 60; the well-behaved pairs measure
// 8-50). Where it is not (uniform-t on EDM: the last step, 0.002 -> 0.002 + 80/N, spans
// log(1 + 4e4/N) in lambda; uniform log-sigma on VP: sigma is flat near t_max), the largest step
// in lambda shrinks far slower than 1/N and the GTE is pre-asymptotic to many thousands of NFE.
bool resolves_lambda(const schedule::Schedule& sched, const std::string& spacing_name) {
  const int n = 768;
  const auto t = spacing::make_grid(spacing::parse_spacing(spacing_name), sched, n);
  double h = 0;
  for (int i = 0; i < n; ++i) h = std::max(h, sched.lambda(t[i + 1]) - sched.lambda(t[i]));
  return n * h <= 60;
}

TEST_CASE("solvers of each family converge at their order on every schedule and spacing that resolves lambda",
          "[solvers]") {
  int pairs = 0;
  for (const auto& sched : schedule::all_schedules())
    for (const auto& sp : spacing::all_spacings()) {
      // Discrete schedules: log alpha has kinks at the timesteps, which classical methods in t see
      // (test_discrete_schedules.cpp runs the exponential ones there); diffusers' grids start at
      // their own timesteps.
      if (sp.kind == spacing::Kind::custom || sched.defaults.discrete() || !sp.spans_range ||
          !resolves_lambda(sched.defaults, sp.name))
        continue;
      ++pairs;
      for (const char* name : {"euler", "rk4", "dpm-solver-2", "dpm-solver++2m", "unipc-2", "ipndm"})
        check_orders({test::mixture2d(), name, sched.name, sp.name});
    }
  CHECK(pairs >= 19);  // of 30: every spacing on VE, uniform-lambda and karras everywhere, and 7 more
}

TEST_CASE("PLMS (pndm, ipndm) steps are fourth order on grids uniform in s", "[solvers]") {
  // The fixed coefficients (55, -59, 37, -9)/24 are Adams-Bashforth 4 for equal steps in s: on
  // EDM's uniform-t grid (s = t) the LTE falls at order 5, on uniform-lambda at 3 (order tests).
  // The GTE there is pre-asymptotic (the grid does not resolve lambda near t_min; see above).
  for (const char* name : {"pndm", "ipndm"})
    for (const auto& seed_fit : fit_seeds({test::mixture2d(), name, "edm", "uniform-t"}, kBudgets, test::order_seeds())) {
      const auto& s = seed_fit.series;
      INFO(name << ", seed " << s.seed << ": LTE order " << describe(s.lte, s.nfe));
      REQUIRE(s.lte.valid);
      // Before the reference floor (LTE ~1e-13 from NFE ~800) the local orders fall towards 5 from
      // above (pndm: 6.0, 5.4, 5.2, 5.1): 5.3 at most, and far from the 3 of other grids.
      CHECK(s.lte.order >= 5 - 0.15);
      CHECK(s.lte.order <= 5.3);
    }
}

TEST_CASE("classical solvers converge at their order in every integration variable", "[solvers]") {
  for (const auto& info : solver::all_solvers())
    if (!info.adaptive && (info.options & solver::opt_variable))
      for (const char* variable : {"s", "log_s"}) {
        INFO(info.name << " in " << variable);
        check_orders(test::mixture2d(), info.name + "[variable=" + variable + "]");
      }
}

namespace {

// A classical tableau with its stage count as a constant, as test::fixed_step_order takes it.
template <int S>
struct FixedTableau {
  static constexpr int stages = S;
  double a[S][S] = {}, b[S] = {};
  explicit FixedTableau(const solver::Tableau& t) {
    for (int i = 0; i < S; ++i) {
      b[i] = t.b[i];
      for (int j = 0; j < S; ++j) a[i][j] = t.a[i][j];
    }
  }
};

}  // namespace

TEST_CASE("classical Runge-Kutta tableaus: row sums, and order p with fixed steps on a nonlinear system", "[solvers]") {
  // The order of the tableau alone, every order condition included: weights that keep the
  // quadrature conditions (sum b c^k = 1/(k+1)) but break a coupling condition fail here, and on
  // a linear problem they might not.
  // The pendulum's solution from the classical RK4, written out here, with 20000 steps (~1e-13).
  FixedTableau<4> textbook(solver::Tableau{});
  textbook.a[1][0] = textbook.a[2][1] = 0.5;
  textbook.a[3][2] = 1.0;
  textbook.b[0] = textbook.b[3] = 1.0 / 6;
  textbook.b[1] = textbook.b[2] = 1.0 / 3;
  const auto exact = test::pendulum(textbook, 20000);
  const auto check = [&](const solver::Tableau& t, auto fixed, int p) {
    for (int i = 0; i < t.stages; ++i) {
      double row = 0;
      for (int j = 0; j < i; ++j) row += t.a[i][j];
      CHECK(row == Approx(t.c[i]).margin(1e-15));
    }
    for (int steps : {100, 160}) {
      const int n = p == 1 ? 4 * steps : steps;  // Euler's error is still pre-asymptotic at h = 0.1
      CHECK(test::fixed_step_order(fixed, n, exact) == Approx(p).margin(0.2));
    }
  };
  check(solver::euler_tableau(), FixedTableau<1>(solver::euler_tableau()), 1);
  check(solver::midpoint_tableau(), FixedTableau<2>(solver::midpoint_tableau()), 2);
  check(solver::heun_tableau(), FixedTableau<2>(solver::heun_tableau()), 2);
  check(solver::rk3_tableau(), FixedTableau<3>(solver::rk3_tableau()), 3);
  check(solver::rk4_tableau(), FixedTableau<4>(solver::rk4_tableau()), 4);
}

TEST_CASE("first-order exponential integrators are DDIM to round-off", "[solvers]") {
  const auto m = test::mixture2d();
  for (const char* sched_name : {"vp-linear", "edm"}) {
    const auto sched = schedule::make_schedule(sched_name);
    const auto times = spacing::make_grid(spacing::parse_spacing("karras"), sched, 25);
    const auto ddim = test::solve_on_grid(m, sched, times, "ddim", 16);
    for (const char* label : {"dpm-solver-1", "dpm-solver++2m[order=1]", "dpm-solver++3m[order=1]", "deis-1",
                              "unipc-1[corrector=off]"}) {
      INFO(sched_name << ": " << label);
      const auto run = test::solve_on_grid(m, sched, times, label, 16);
      for (size_t k = 0; k < ddim.final_state.size(); ++k)
        REQUIRE(std::fabs(run.final_state[k] - ddim.final_state[k]) <= 1e-13 * std::max(1.0, std::fabs(ddim.final_state[k])));
    }
  }
}

TEST_CASE("EDM Heun is Heun in s except for an Euler last step", "[solvers]") {
  // With one step EDM Heun is Euler in s; its NFE is 2N - 1.
  const auto m = test::mixture2d();
  const auto sched = schedule::make_schedule("edm");
  const auto one = spacing::make_grid(spacing::parse_spacing("karras"), sched, 1);
  const auto edm = test::solve_on_grid(m, sched, one, "edm-heun", 8);
  const auto euler = test::solve_on_grid(m, sched, one, "euler[variable=s]", 8);
  for (size_t k = 0; k < edm.final_state.size(); ++k)
    REQUIRE(std::fabs(edm.final_state[k] - euler.final_state[k]) <= 1e-13 * std::max(1.0, std::fabs(euler.final_state[k])));
  // With N steps its states follow Heun in s up to grid point N - 1 (the same errors against the
  // same exact states, to round-off in states of size ~1), then part from it on the last step.
  const int n = 12;
  const auto grid = spacing::make_grid(spacing::parse_spacing("karras"), sched, n);
  const auto edm_n = test::solve_on_grid(m, sched, grid, "edm-heun", 8);
  const auto heun_s = test::solve_on_grid(m, sched, grid, "heun[variable=s]", 8);
  for (int p = 0; p < 8; ++p) {
    for (int i = 0; i < n; ++i) {
      const double a = edm_n.global_error[p * (n + 1) + i], b = heun_s.global_error[p * (n + 1) + i];
      REQUIRE(std::fabs(a - b) <= 1e-13);
    }
    REQUIRE(std::fabs(edm_n.global_error[p * (n + 1) + n] - heun_s.global_error[p * (n + 1) + n]) > 1e-6);
  }
  const auto spec = solver::parse_solver("edm-heun");
  CHECK(solver::nfe_for_steps(spec, 18) == 35);
  CHECK(solver::steps_for_budget(spec, 35) == 18);
}

TEST_CASE("solver options: parsed, recorded, validated; theory follows them", "[solvers]") {
  using solver::parse_solver;
  CHECK(solver::describe_options(parse_solver("ab3")) == "variable=t,lower_order_final=off,warmup=rk,final=none");
  CHECK(solver::describe_options(parse_solver("ab2[lower_order_final=10,final=denoise]")) ==
        "variable=t,lower_order_final=10,warmup=multistep,final=denoise");
  CHECK(solver::describe_options(parse_solver("unipc-2[variant=bh2,corrector=off]")) ==
        "lower_order_final=off,warmup=multistep,corrector=off,variant=bh2,final=none");
  CHECK(solver::describe_options(parse_solver("ddim")) == "final=none");
  CHECK(solver::theoretical_order(parse_solver("unipc-3")) == 4);
  CHECK(solver::theoretical_order(parse_solver("unipc-3[warmup=multistep]")) == 3);
  CHECK(solver::theoretical_order(parse_solver("unipc-3[corrector=off]")) == 3);
  CHECK(solver::theoretical_order(parse_solver("deis-3[lower_order_final=on]")) == 2);
  CHECK(solver::theoretical_order(parse_solver("deis-3[lower_order_final=10]")) == 3);
  CHECK(solver::theoretical_order(parse_solver("dpm-solver++3m")) == 2);
  CHECK(solver::theoretical_order(parse_solver("dpm-solver++3m[coefficients=taylor]")) == 3);
  CHECK(solver::theoretical_order(solver::with_budget(parse_solver("dpm-solver-fast"), 20)) == 3);
  CHECK(solver::theoretical_order(solver::with_budget(parse_solver("dpm-solver-fast"), 21)) == 2);
  for (const char* bad : {"ddim[variable=s]", "ab2[warmup=euler]", "unipc-1[variant=bh3]", "deis-2[order=2]",
                          "dpm-solver++2m[order=3]", "ab3[lower_order_final=0]", "heun[final=zero]"})
    CHECK_THROWS_AS(parse_solver(bad), std::invalid_argument);
}

TEST_CASE("lower_order_final lowers the last steps' orders only below its step threshold", "[solvers]") {
  // deis-3 with lower_order_final=10: the plain method at 10 steps or more, different below; with
  // `on` different at any step count (its last step is first order: GTE order 2, order tests).
  const auto m = test::mixture2d();
  const auto sched = schedule::make_schedule("vp-linear");
  for (int steps : {6, 9, 10, 14}) {
    INFO(steps << " steps");
    const auto times = spacing::make_grid(spacing::parse_spacing("uniform-lambda"), sched, steps);
    const auto plain = test::solve_on_grid(m, sched, times, "deis-3", 4);
    const auto below10 = test::solve_on_grid(m, sched, times, "deis-3[lower_order_final=10]", 4);
    const auto always = test::solve_on_grid(m, sched, times, "deis-3[lower_order_final=on]", 4);
    REQUIRE((below10.final_state == plain.final_state) == (steps >= 10));
    REQUIRE(always.final_state != plain.final_state);
    // The orders of the last two steps are 2, 1: every step before them is the plain method's.
    for (int p = 0; p < 4; ++p)
      for (int i = 0; i < steps - 1; ++i) REQUIRE(always.global_error[p * (steps + 1) + i] == plain.global_error[p * (steps + 1) + i]);
  }
}

TEST_CASE("final=denoise replaces x_N by alpha_N D(x_N / alpha_N, s_N) at one more NFE", "[solvers]") {
  // On a Gaussian D is affine: D(y, s) = mu + c^2 / (c^2 + s^2) (y - mu), computed here on the host.
  const auto m = test::gaussian(3);
  for (const char* sched_name : {"vp-linear", "edm"}) {
    INFO(sched_name);
    const auto sched = schedule::make_schedule(sched_name);
    const int steps = 7;
    const auto times = spacing::make_grid(spacing::parse_spacing("karras"), sched, steps);
    const auto plain = test::solve_on_grid(m, sched, times, "dpm-solver++2m", 4);
    const auto denoised = test::solve_on_grid(m, sched, times, "dpm-solver++2m[final=denoise]", 4);
    const double alpha = sched.alpha(sched.t_min), s = sched.s(sched.t_min);
    for (int p = 0; p < 4; ++p) {
      REQUIRE(denoised.nfe[p] == plain.nfe[p] + 1);
      for (int j = 0; j < m.dim; ++j) {
        const double y = plain.final_state[p * m.dim + j] / alpha, c2 = m.stds[j] * m.stds[j];
        const double expected = alpha * (m.means[j] + c2 / (c2 + s * s) * (y - m.means[j]));
        REQUIRE(denoised.final_state[p * m.dim + j] == Approx(expected).epsilon(1e-14).margin(1e-15));
      }
    }
  }
}

TEST_CASE("DPM-Solver-fast spends exactly its budget with the official order mix", "[solvers]") {
  const auto m = test::gaussian(2);
  const auto sched = schedule::make_schedule("vp-linear");
  for (int budget : {1, 2, 3, 4, 5, 6, 10, 11, 12, 20}) {
    const auto spec = solver::with_budget(solver::parse_solver("dpm-solver-fast"), budget);
    const int steps = solver::steps_for_budget(spec, budget);
    CHECK(steps == budget / 3 + 1);
    CHECK(solver::nfe_for_steps(spec, steps) == budget);
    // Run through the registry path with the bound budget: counted NFE = budget.
    const auto times = spacing::make_grid(spacing::parse_spacing("uniform-lambda"), sched, steps);
    const auto run = test::solve_on_grid(m, sched, times, spec, 2);
    for (long n : run.nfe) CHECK(n == budget);
  }
  CHECK(solver::dpm_solver_fast_order(0, 3, 6) == 3);
  CHECK(solver::dpm_solver_fast_order(1, 3, 6) == 2);
  CHECK(solver::dpm_solver_fast_order(2, 3, 6) == 1);
  CHECK(solver::dpm_solver_fast_order(2, 3, 7) == 1);
  CHECK(solver::dpm_solver_fast_order(2, 3, 8) == 2);
}

TEST_CASE("DDIM is Euler in s to round-off", "[solvers]") {
  const auto m = test::mixture2d();
  for (const char* sched_name : {"vp-linear", "vp-cosine", "edm", "flow"}) {
    INFO(sched_name);
    const auto sched = schedule::make_schedule(sched_name);
    const auto times = spacing::make_grid(spacing::parse_spacing("karras"), sched, 25);
    const auto ddim = test::solve_on_grid(m, sched, times, "ddim", 16);
    const auto euler = test::solve_on_grid(m, sched, times, "euler[variable=s]", 16);
    for (size_t k = 0; k < ddim.final_state.size(); ++k)
      REQUIRE(std::fabs(ddim.final_state[k] - euler.final_state[k]) <= 1e-13 * std::max(1.0, std::fabs(euler.final_state[k])));
  }
}

TEST_CASE("NFE is counted by the model: every sample spends exactly the stated cost", "[solvers]") {
  const auto m = test::gaussian(2);
  const auto sched = schedule::make_schedule("edm");
  std::vector<std::string> labels = order_test_labels();
  for (const char* extra : {"ab4[warmup=rk]", "pndm[final=denoise]", "unipc-3[lower_order_final=on]", "edm-heun[final=denoise]"})
    labels.push_back(extra);
  for (const auto& label : labels)
    for (int budget : {1, 2, 3, 4, 7, 10, 33}) {
      INFO(label << " budget " << budget);
      const solver::SolverSpec spec = solver::parse_solver(label);
      if (budget < solver::nfe_for_steps(spec, 1)) {
        REQUIRE_THROWS_WITH(solver::steps_for_budget(spec, budget), Catch::Contains("below what solver"));
        continue;
      }
      const int steps = solver::steps_for_budget(spec, budget);
      REQUIRE(solver::nfe_for_steps(spec, steps) <= budget);
      REQUIRE(solver::nfe_for_steps(spec, steps + 1) > budget);  // the most steps the budget pays for
      const auto times = spacing::make_grid(spacing::parse_spacing("karras"), sched, steps);
      const auto run = test::solve_on_grid(m, sched, times, label, 3, budget == 33);
      for (long n : run.nfe) REQUIRE(n == solver::nfe_for_steps(spec, steps));
      // The LTE runs evaluate each exact state once, plus the steps' own stages: what the
      // trajectory spends (bar a final denoise), and UniPC's corrector at every step but the last.
      const bool unipc = spec.info->name.rfind("unipc", 0) == 0;
      const long lte = solver::nfe_for_steps(spec, steps) - (spec.final_denoise ? 1 : 0) +
                       (unipc && spec.corrector ? steps - 1 : 0);
      for (long n : run.local_error_nfe) REQUIRE(n == lte);
      if (budget == 33) REQUIRE(run.local_error_nfe.size() == 3);
    }
}

TEST_CASE("LTE is measured from exact inputs: on a one-step grid it is the GTE", "[solvers]") {
  // Both start from the exact state at t_max and take the same single step.
  const auto m = test::gaussian(3);
  const auto sched = schedule::make_schedule("vp-linear");
  const auto times = spacing::make_grid(spacing::parse_spacing("uniform-lambda"), sched, 1);
  for (const auto& info : solver::all_solvers()) {
    if (info.adaptive || info.family == solver::Family::stochastic) continue;  // see order_test_labels
    const auto run = test::solve_on_grid(m, sched, times, info.name, 4, true);
    for (int p = 0; p < 4; ++p) REQUIRE(run.local_error[p] == Approx(run.global_error[p * 2 + 1]).epsilon(1e-14));
  }
}
