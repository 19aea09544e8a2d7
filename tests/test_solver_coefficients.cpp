// Independent check of the exponential integrators' step coefficients: one step of each method
// on a problem whose exact solution is an integral computed here by Gauss-Legendre quadrature,
//   data form:  dy/dlambda = D - y,  D(y, lambda) = P(lambda) + L y
//     y(lambda_1) = e^{(L-1) h} y_0 + int e^{(L-1)(lambda_1 - lambda)} P(lambda) dlambda,
// with P a polynomial. With L = 0, methods whose weights are exact integrals of a Lagrange
// interpolant (DEIS in the log-rho basis, DPM-Solver++(3M) with coefficients=taylor) must reproduce
// the integral to round-off for polynomials of degree p - 1 and must not for degree p; with
// L != 0 (stages and correctors see state-dependent outputs) the one-step error of every
// exponential method must fall at order p + 1 in h. A wrong coefficient fails one or the other.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstdio>
#include <cstdlib>

#include "solver/adams_bashforth.hpp"
#include "solver/deis.hpp"
#include "solver/dpm_solver.hpp"
#include "solver/dpm_solver_pp.hpp"
#include "solver/pndm.hpp"
#include "solver/registry.hpp"
#include "solver/run.hpp"
#include "solver/unipc.hpp"
#include "spacing/spacing.hpp"
#include "support.hpp"

using namespace pfode;

namespace {

constexpr int kMaxDegree = 5;

// A lane whose "model" is D = P(lambda) + L y (data form) or eps = P(lambda) + L y (eps form),
// lambda = -log s; one sample, one coordinate. The workspace (one double per slot) is a plain
// pointer into a View the caller keeps alive, so the lane copies into a kernel without a View.
struct PolyLane {
  using Value = double;
  double* ws = nullptr;
  double a[kMaxDegree + 1] = {};
  double coupling = 0.0;
  bool eps_form = false;

  KOKKOS_INLINE_FUNCTION double& operator()(int slot, int) const { return ws[slot]; }
  template <class F>
  KOKKOS_INLINE_FUNCTION void for_coordinates(const F& body) const {
    body(0);
  }
  KOKKOS_INLINE_FUNCTION double poly(double lambda) const {
    double v = 0.0;
    for (int k = kMaxDegree; k >= 0; --k) v = v * lambda + a[k];
    return v;
  }
  KOKKOS_INLINE_FUNCTION void denoise(int in, double scale, double s, int out) const {
    const double y = ws[in] / scale, lambda = -math::log(s);
    const double p = poly(lambda) + coupling * y;
    ws[out] = eps_form ? y - s * p : p;
  }
};

// Exact y(lambda_1) from y(lambda_0) for the PolyLane problem, by 24-point composite Gauss-Legendre.
double exact_step(const PolyLane& lane, double lambda0, double lambda1, double y0) {
  static const double x[4] = {-0.8611363115940526, -0.3399810435848563, 0.3399810435848563, 0.8611363115940526};
  static const double w[4] = {0.3478548451374538, 0.6521451548625461, 0.6521451548625461, 0.3478548451374538};
  const int pieces = 64;
  const double len = (lambda1 - lambda0) / pieces;
  // Data form: y' = P + (L - 1) y. Eps form: dy/dlambda = -s eps = -e^{-lambda} (P + L y), i.e.
  // y' = -L e^{-lambda} y - e^{-lambda} P: solved with the integrating factor.
  double integral = 0.0, phase_total = 0.0;
  auto source = [&](double l) { return lane.eps_form ? -std::exp(-l) * lane.poly(l) : lane.poly(l); };
  // Phase Phi(l) = int_{lambda0}^{l} (coefficient of y); for the eps form int -L e^{-l} = L (e^{-l} - e^{-lambda0}).
  auto phase = [&](double l) {
    return lane.eps_form ? lane.coupling * (std::exp(-l) - std::exp(-lambda0)) : (lane.coupling - 1.0) * (l - lambda0);
  };
  phase_total = phase(lambda1);
  for (int k = 0; k < pieces; ++k) {
    const double mid = lambda0 + (k + 0.5) * len;
    for (int q = 0; q < 4; ++q) {
      const double l = mid + 0.5 * len * x[q];
      integral += 0.5 * len * w[q] * std::exp(phase_total - phase(l)) * source(l);
    }
  }
  return std::exp(phase_total) * y0 + integral;
}

// The exact path y*(lambda_k) of the PolyLane problem from y = 0.3 at lambda[0].
std::vector<double> exact_path(const PolyLane& lane, const std::vector<double>& lambda) {
  std::vector<double> y(lambda.size());
  y[0] = 0.3;
  for (size_t k = 1; k < lambda.size(); ++k) y[k] = exact_step(lane, lambda[k - 1], lambda[k], y[k - 1]);
  return y;
}

// One step i of `method` on the grid lambda[0..n-1] (history primed from the exact path y),
// returning y_{i+1}.
template <class Method>
double one_step(const Method& method, PolyLane lane, const std::vector<double>& lambda, int i,
                const std::vector<double>& y) {
  const auto sched = schedule::make_schedule("edm");  // alpha = 1, sigma = t: lambda = -log t
  std::vector<double> times;
  for (double l : lambda) times.push_back(std::exp(-l));
  const auto grid = solver::make_step_grid(sched, times, solver::Variable::t);
  Kokkos::View<double*> workspace("pfode::test::poly_ws", method.slots());
  lane.ws = workspace.data();
  Kokkos::View<double*> exact("pfode::test::exact", y.size()), result("pfode::test::result", 1);
  auto eh = Kokkos::create_mirror_view(exact);
  for (size_t k = 0; k < y.size(); ++k) eh(k) = y[k];
  Kokkos::deep_copy(exact, eh);
  Kokkos::parallel_for("pfode::test::one_step", Kokkos::RangePolicy<>(0, 1), KOKKOS_LAMBDA(int) {
    // As the LTE kernel does it (alpha = 1: x = y).
    solver::step_from_exact_history(method, lane, grid, i, [&](int slot, int j) { lane(slot, 0) = exact(j); });
    result(0) = lane(solver::state_slot, 0);
  });
  return test::to_host(result)(0);
}

// The step's error |y_{i+1} - y*(lambda_{i+1})|.
template <class Method>
double one_step_error(const Method& method, const PolyLane& lane, const std::vector<double>& lambda, int i) {
  const auto y = exact_path(lane, lambda);
  return std::fabs(one_step(method, lane, lambda, i, y) - y[i + 1]);
}

// A grid of `n` points with steps h * (1, 0.8, 1.25, 0.9, ...), point `anchor` at lambda = 1:
// variable steps, so formulas that silently assume equal steps fail, and the step under test
// starts at the same lambda whatever h.
std::vector<double> grid_lambda(double h, int n, int anchor) {
  const double ratios[6] = {1.0, 0.8, 1.25, 0.9, 1.1, 1.0};
  std::vector<double> l{0.0};
  for (int k = 1; k < n; ++k) l.push_back(l.back() + h * ratios[(k - 1) % 6]);
  const double shift = 1.0 - l[anchor];
  for (double& v : l) v += shift;
  return l;
}

PolyLane poly_lane(int degree, double coupling, bool eps_form) {
  PolyLane lane;
  const double coeffs[kMaxDegree + 1] = {0.7, -1.3, 0.9, 0.6, -0.8, 0.5};
  for (int k = 0; k <= degree && k <= kMaxDegree; ++k) lane.a[k] = coeffs[k];
  lane.coupling = coupling;
  lane.eps_form = eps_form;
  return lane;
}

solver::SinglestepWarmup no_warmup() { return {}; }

}  // namespace

TEST_CASE("exact-weight integrators reproduce the exponential integral of polynomials of degree p-1",
          "[solver_coefficients]") {
  const int step = 3;  // full order, history from exact states
  for (int p = 1; p <= 3; ++p) {
    INFO("order " << p);
    const solver::OrderSchedule orders{p, 0};
    const auto lambda = grid_lambda(0.7, 6, step);
    // DEIS, log-rho basis (no tAB weights given): eps polynomial in lambda.
    const solver::Deis deis{orders, no_warmup()};
    CHECK(one_step_error(deis, poly_lane(p - 1, 0.0, true), lambda, step) < 1e-14);
    CHECK(one_step_error(deis, poly_lane(p, 0.0, true), lambda, step) > 1e-6);
    // DPM-Solver++ multistep with the Taylor weights: D polynomial in lambda.
    const solver::DpmSolverPPMultistep pp{orders, true, no_warmup()};
    CHECK(one_step_error(pp, poly_lane(p - 1, 0.0, false), lambda, step) < 1e-14);
    CHECK(one_step_error(pp, poly_lane(p, 0.0, false), lambda, step) > 1e-6);
    if (p == 3) {  // the official 3M weight is not the integral of the interpolant
      const solver::DpmSolverPPMultistep official{orders, false, no_warmup()};
      CHECK(one_step_error(official, poly_lane(2, 0.0, false), lambda, step) > 1e-6);
    }
  }
}

namespace {

// Slope of log(one-step error) against log h over h = 0.04 .. 0.005 on the coupled problem.
template <class Method>
double one_step_order(const Method& method, bool eps_form, int step) {
  std::vector<double> hs = {0.04, 0.02, 0.01, 0.005}, errs;
  for (double h : hs) errs.push_back(one_step_error(method, poly_lane(kMaxDegree, 0.6, eps_form), grid_lambda(h, 8, step), step));
  return test::loglog_slope(hs, errs);
}

}  // namespace

TEST_CASE("every exponential integrator's step has local order p+1 on a state-dependent problem",
          "[solver_coefficients]") {
  const int step = 4;  // past warm-up, not the last step (UniPC corrects it)
  for (int p = 1; p <= 3; ++p) {
    INFO("order " << p);
    const solver::OrderSchedule orders{p, 0};
    CHECK(std::fabs(one_step_order(solver::DpmSolver{p, 0}, false, step) - (p + 1)) < 0.15);
    CHECK(std::fabs(one_step_order(solver::Deis{orders, no_warmup()}, true, step) - (p + 1)) < 0.15);
    CHECK(std::fabs(one_step_order(solver::DpmSolverPPMultistep{orders, true, no_warmup()}, false, step) - (p + 1)) < 0.15);
    for (auto variant : {solver::UnipcVariant::bh1, solver::UnipcVariant::bh2}) {
      CHECK(std::fabs(one_step_order(solver::Unipc<false>{orders, variant, no_warmup()}, false, step) - (p + 1)) < 0.15);
      // UniC raises the local order to p + 2 (on this problem bh1's UniPC-2 even reaches 5; UniPC-3
      // measures 4.80, approaching 5 from below at these h).
      CHECK(one_step_order(solver::Unipc<true>{orders, variant, no_warmup()}, false, step) > p + 2 - 0.2);
    }
  }
  // Official DPM-Solver++(3M): local order 3 (second order), as the sweeps measure.
  CHECK(std::fabs(one_step_order(solver::DpmSolverPPMultistep{{3, 0}, false, no_warmup()}, false, step) - 3) < 0.15);
  CHECK(std::fabs(one_step_order(solver::DpmSolverPPMultistep{{2, 0}, false, no_warmup()}, false, step) - 3) < 0.15);
  CHECK(std::fabs(one_step_order(solver::DpmSolverPP2S{}, false, step) - 3) < 0.15);
}

TEST_CASE("tAB-DEIS weights integrate polynomials in t against ds exactly (EDM and flow closed forms)",
          "[solver_coefficients]") {
  // sum_j C_ij t_{i-j}^k = int_{t_i}^{t_{i+1}} tau^k ds/dtau dtau for every k < q, on grids with
  // large and unequal steps. EDM: s = t. Flow: s = t/(1-t), ds/dt = 1/(1-t)^2, antiderivatives of
  // tau^k/(1-tau)^2: 1/u, 1/u + log u, 1/u + 2 log u - u with u = 1 - tau. Each returns
  // F(b) - F(a) and |F(a)| + |F(b)|, the scale of its own round-off (short steps cancel).
  using Integral = std::pair<double, double>;
  const auto edm = [](int k, double a, double b) -> Integral {
    const double fa = std::pow(a, k + 1) / (k + 1), fb = std::pow(b, k + 1) / (k + 1);
    return {fb - fa, std::fabs(fa) + std::fabs(fb)};
  };
  const auto flow = [](int k, double a, double b) -> Integral {
    const auto F = [k](double tau) {
      const double u = 1 - tau;
      return k == 0 ? 1 / u : k == 1 ? 1 / u + std::log(u) : 1 / u + 2 * std::log(u) - u;
    };
    const auto terms = [k](double tau) {  // the terms of F cancel too (F_2 ~ tau^3 near 0)
      const double u = 1 - tau;
      return 1 / u + k * std::fabs(std::log(u)) + (k == 2 ? u : 0);
    };
    return {F(b) - F(a), terms(a) + terms(b)};
  };
  for (const auto& [name, integral] : {std::make_pair("edm", +edm), std::make_pair("flow", +flow)}) {
    const auto sched = schedule::make_schedule(name);
    for (const char* spacing_name : {"uniform-t", "karras", "uniform-lambda"})
      for (int steps : {1, 3, 7, 40})
        for (int q = 1; q <= 3; ++q) {
          const auto times = spacing::make_grid(spacing::parse_spacing(spacing_name), sched, steps);
          const auto grid = solver::make_step_grid(sched, times, solver::Variable::t);
          const solver::OrderSchedule orders{q, 0};
          const auto w = test::to_host(solver::tab_weights(grid, orders));
          for (int i = 0; i < steps; ++i)
            for (int k = 0; k < orders.at(i, steps); ++k) {
              double sum = 0, scale = 0;
              for (int j = 0; j < orders.at(i, steps); ++j) {
                sum += w(i, j) * std::pow(times[i - j], k);
                scale += std::fabs(w(i, j) * std::pow(times[i - j], k));
              }
              const auto [exact, roundoff] = integral(k, times[i], times[i + 1]);
              INFO(name << " " << spacing_name << " N=" << steps << " q=" << q << " step " << i << " k=" << k << ": "
                        << sum << " vs " << exact << ", difference " << sum - exact << ", scale " << scale << ", closed-form round-off " << roundoff);
              CHECK(std::fabs(sum - exact) <= 1e-13 * std::max(scale, std::fabs(exact)) + 1e-15 * roundoff);
            }
        }
  }
}

TEST_CASE("on EDM (alpha = 1, s = t) tAB-DEIS is variable-step Adams-Bashforth in s", "[solver_coefficients]") {
  const auto m = test::mixture2d();
  const auto sched = schedule::make_schedule("edm");
  const auto times = spacing::make_grid(spacing::parse_spacing("karras"), sched, 30);
  for (int q = 2; q <= 3; ++q) {
    const auto deis = test::solve_on_grid(m, sched, times, "deis-" + std::to_string(q) + "[warmup=multistep]", 8);
    const auto ab = test::solve_on_grid(m, sched, times, "ab" + std::to_string(q) + "[warmup=multistep,variable=s]", 8);
    const auto rho = test::solve_on_grid(m, sched, times, "deis-" + std::to_string(q) + "[warmup=multistep,basis=log_rho]", 8);
    double differs = 0;
    for (size_t k = 0; k < ab.final_state.size(); ++k) {
      INFO("q " << q << " component " << k);
      CHECK(std::fabs(deis.final_state[k] - ab.final_state[k]) <= 1e-12 * std::max(1.0, std::fabs(ab.final_state[k])));
      differs = std::max(differs, std::fabs(rho.final_state[k] - ab.final_state[k]));
    }
    CHECK(differs > 1e-6);  // the log-rho basis is a different method
  }
}

namespace {

// The published update formulas, written out here on their own for one step from lambda[i] with
// alpha = 1, sigma = e^{-lambda} (EDM, x = y), given the data prediction D(x, lambda) and exact
// past states. They are what the official DPM-Solver and UniPC code computes.
struct Published {
  std::function<double(double, double)> D;  // data prediction D(x, lambda)
  std::vector<double> lambda, x;             // grid and exact states on it
  int i;

  double sigma(double l) const { return std::exp(-l); }
  double eps(double x_value, double l) const { return (x_value - D(x_value, l)) / sigma(l); }
  double h() const { return lambda[i + 1] - lambda[i]; }

  // DPM-Solver-2 (Lu et al. 2022, Algorithm 1, r1 = 1/2; "dpmsolver" form of the official code).
  double dpm_solver_2() const {
    const double r1 = 0.5, l0 = lambda[i], l1 = lambda[i + 1], ls = l0 + r1 * h(), e0 = eps(x[i], l0);
    const double u = x[i] - sigma(ls) * std::expm1(r1 * h()) * e0;
    return x[i] - sigma(l1) * std::expm1(h()) * e0 - 0.5 / r1 * sigma(l1) * std::expm1(h()) * (eps(u, ls) - e0);
  }
  // DPM-Solver-3 (Algorithm 2, r1 = 1/3, r2 = 2/3).
  double dpm_solver_3() const {
    const double r1 = 1.0 / 3, r2 = 2.0 / 3, H = h(), l0 = lambda[i], l1 = lambda[i + 1];
    const double ls1 = l0 + r1 * H, ls2 = l0 + r2 * H, e0 = eps(x[i], l0);
    const double u1 = x[i] - sigma(ls1) * std::expm1(r1 * H) * e0;
    const double phi_22 = std::expm1(r2 * H) / (r2 * H) - 1, phi_2 = std::expm1(H) / H - 1;
    const double u2 = x[i] - sigma(ls2) * std::expm1(r2 * H) * e0 - r2 / r1 * sigma(ls2) * phi_22 * (eps(u1, ls1) - e0);
    return x[i] - sigma(l1) * std::expm1(H) * e0 - 1 / r2 * sigma(l1) * phi_2 * (eps(u2, ls2) - e0);
  }
  // DPM-Solver++(2S) (Lu et al. 2022b, Algorithm 1, r = 1/2).
  double dpm_solver_pp_2s() const {
    const double r = 0.5, l0 = lambda[i], l1 = lambda[i + 1], ls = l0 + r * h(), d0 = D(x[i], l0);
    const double u = sigma(ls) / sigma(l0) * x[i] - std::expm1(-r * h()) * d0;
    return sigma(l1) / sigma(l0) * x[i] - std::expm1(-h()) * ((1 - 0.5 / r) * d0 + 0.5 / r * D(u, ls));
  }
  // DPM-Solver++(2M) and (3M), official multistep updates (dpmsolver++, "dpmsolver" type).
  double dpm_solver_pp_multistep(int order) const {
    const double H = h(), m0 = D(x[i], lambda[i]), m1 = D(x[i - 1], lambda[i - 1]);
    const double r0 = (lambda[i] - lambda[i - 1]) / H, phi_1 = std::expm1(-H);
    const double d1_0 = (m0 - m1) / r0, base = sigma(lambda[i + 1]) / sigma(lambda[i]) * x[i] - phi_1 * m0;
    if (order == 2) return base - 0.5 * phi_1 * d1_0;
    const double m2 = D(x[i - 2], lambda[i - 2]), r1 = (lambda[i - 1] - lambda[i - 2]) / H;
    const double d1_1 = (m1 - m2) / r1, d1 = d1_0 + r0 / (r0 + r1) * (d1_0 - d1_1), d2 = (d1_0 - d1_1) / (r0 + r1);
    const double phi_2 = phi_1 / H + 1, phi_3 = phi_2 / H - 0.5;
    return base + phi_2 * d1 - phi_3 * d2;
  }
  // UniPC, official multistep_uni_pc_bh_update (data prediction) of order q, B(h) = h (bh1) or
  // e^h - 1 (bh2), corrector on or off; the corrector's model call is at the predicted state.
  double unipc(int q, bool bh2, bool corrector) const {
    const double H = h(), hh = -H, l1 = lambda[i + 1], m0 = D(x[i], lambda[i]);
    std::vector<double> rks, d1s;
    for (int k = 1; k < q; ++k) {
      rks.push_back((lambda[i - k] - lambda[i]) / H);
      d1s.push_back((D(x[i - k], lambda[i - k]) - m0) / rks.back());
    }
    rks.push_back(1.0);
    const double h_phi_1 = std::expm1(hh), b_h = bh2 ? std::expm1(hh) : hh;
    double h_phi_k = h_phi_1 / hh - 1, factorial = 1;
    std::vector<double> b;
    for (int k = 1; k <= q; ++k) {
      b.push_back(h_phi_k * factorial / b_h);
      factorial *= k + 1;
      h_phi_k = h_phi_k / hh - 1 / factorial;
    }
    // R rho = b with R[k][m] = rks[m]^k, solved by Cramer's rule (n <= 3).
    const auto solve = [&](int n) {
      const auto R = [&](int k, int m) { return std::pow(rks[m], k); };
      const auto det = [&](auto at) {
        if (n == 1) return at(0, 0);
        if (n == 2) return at(0, 0) * at(1, 1) - at(0, 1) * at(1, 0);
        return at(0, 0) * (at(1, 1) * at(2, 2) - at(1, 2) * at(2, 1)) - at(0, 1) * (at(1, 0) * at(2, 2) - at(1, 2) * at(2, 0)) +
               at(0, 2) * (at(1, 0) * at(2, 1) - at(1, 1) * at(2, 0));
      };
      std::vector<double> rho(n);
      const double d = det(R);
      for (int c = 0; c < n; ++c) rho[c] = det([&](int k, int m) { return m == c ? b[k] : R(k, m); }) / d;
      return rho;
    };
    const double x_base = sigma(l1) / sigma(lambda[i]) * x[i] - h_phi_1 * m0;
    double pred = 0;
    if (q == 2) pred = 0.5 * d1s[0];  // the official special case
    if (q >= 3) {
      const auto rho_p = solve(q - 1);
      for (int k = 0; k < q - 1; ++k) pred += rho_p[k] * d1s[k];
    }
    const double x_pred = x_base - b_h * pred;
    if (!corrector) return x_pred;
    const auto rho_c = q == 1 ? std::vector<double>{0.5} : solve(q);
    double corr = rho_c[q - 1] * (D(x_pred, l1) - m0);
    for (int k = 0; k < q - 1; ++k) corr += rho_c[k] * d1s[k];
    return x_base - b_h * corr;
  }
};

}  // namespace

TEST_CASE("exponential integrators' steps equal the published update formulas to round-off", "[solver_coefficients]") {
  // A state-dependent problem on a grid with unequal steps around h = 0.6 (large enough that the
  // official phi recurrences, which cancel for small h, are accurate to ~1e-15).
  const PolyLane lane = poly_lane(kMaxDegree, 0.6, false);
  const int i = 4;  // past warm-up, not the last step (UniPC does not correct the last)
  const auto lambda = grid_lambda(0.6, 7, i);
  const auto x = exact_path(lane, lambda);
  const Published published{[&](double y, double l) { return lane.poly(l) + lane.coupling * y; }, lambda, x, i};
  const auto check = [&](const std::string& what, double pfode_step, double formula) {
    INFO(what << ": pfode " << pfode_step << ", published " << formula << ", difference " << pfode_step - formula);
    CHECK(std::fabs(pfode_step - formula) <= 1e-13 * std::fabs(formula));
  };
  check("dpm-solver-2", one_step(solver::DpmSolver{2, 0}, lane, lambda, i, x), published.dpm_solver_2());
  check("dpm-solver-3", one_step(solver::DpmSolver{3, 0}, lane, lambda, i, x), published.dpm_solver_3());
  check("dpm-solver++2s", one_step(solver::DpmSolverPP2S{}, lane, lambda, i, x), published.dpm_solver_pp_2s());
  for (int q : {2, 3})
    check("dpm-solver++" + std::to_string(q) + "m",
          one_step(solver::DpmSolverPPMultistep{{q, 0}, false, no_warmup()}, lane, lambda, i, x),
          published.dpm_solver_pp_multistep(q));
  for (int q = 1; q <= 3; ++q)
    for (bool bh2 : {false, true}) {
      const auto variant = bh2 ? solver::UnipcVariant::bh2 : solver::UnipcVariant::bh1;
      const std::string name = "unipc-" + std::to_string(q) + (bh2 ? " bh2" : " bh1");
      check(name, one_step(solver::Unipc<true>{{q, 0}, variant, no_warmup()}, lane, lambda, i, x),
            published.unipc(q, bh2, true));
      check(name + " without corrector", one_step(solver::Unipc<false>{{q, 0}, variant, no_warmup()}, lane, lambda, i, x),
            published.unipc(q, bh2, false));
    }
  // Where rho solves R rho = b, b carries 1/B(h) and B(h) cancels from B(h) rho: bh1 and bh2
  // differ only through the fixed rho = 1/2 of UniC-1 and UniP-2 (and what follows from them).
  for (int q = 1; q <= 3; ++q)
    for (bool corrector : {false, true}) {
      const bool differ = q == 2 || (q == 1 && corrector);
      const double gap = std::fabs(published.unipc(q, false, corrector) - published.unipc(q, true, corrector));
      INFO("unipc-" << q << (corrector ? "" : " without corrector") << ": bh1 - bh2 = " << gap);
      CHECK((differ ? gap > 1e-6 : gap < 1e-14));
    }
}

namespace {

// The state after step i of the LTE sweep (each exact state observed once, history kept from the
// earlier steps) and after step i taken alone from a history recomputed on exact states, for
// every i of a variable-step grid; bit for bit equal, or the sweep reads a clobbered entry.
template <class Method>
void check_sweep_equals_recomputed(const std::string& name, const Method& method, const PolyLane& problem) {
  INFO(name);
  const auto lambda = grid_lambda(0.3, 9, 0);
  const auto y = exact_path(problem, lambda);
  const int steps = static_cast<int>(lambda.size()) - 1;
  const auto sched = schedule::make_schedule("edm");
  std::vector<double> times;
  for (double l : lambda) times.push_back(std::exp(-l));
  const auto grid = solver::make_step_grid(sched, times, solver::Variable::t);
  Kokkos::View<double*> sweep_ws("pfode::test::sweep_ws", method.slots()), alone_ws("pfode::test::alone_ws", method.slots());
  Kokkos::View<double*> exact("pfode::test::exact", y.size()), out("pfode::test::out", 2 * steps);
  auto eh = Kokkos::create_mirror_view(exact);
  for (size_t k = 0; k < y.size(); ++k) eh(k) = y[k];
  Kokkos::deep_copy(exact, eh);
  PolyLane sweep = problem, alone = problem;
  sweep.ws = sweep_ws.data();
  alone.ws = alone_ws.data();
  Kokkos::parallel_for("pfode::test::lte_sweep", Kokkos::RangePolicy<>(0, 1), KOKKOS_LAMBDA(int) {
    for (int i = 0; i < steps; ++i) {
      solver::step_in_exact_sweep(method, sweep, grid, i, [&](int slot, int j) { sweep(slot, 0) = exact(j); });
      solver::step_from_exact_history(method, alone, grid, i, [&](int slot, int j) { alone(slot, 0) = exact(j); });
      out(2 * i) = sweep(solver::state_slot, 0);
      out(2 * i + 1) = alone(solver::state_slot, 0);
    }
  });
  const auto o = test::to_host(out);
  for (int i = 0; i < steps; ++i) {
    INFO("step " << i);
    REQUIRE(o(2 * i) == o(2 * i + 1));
  }
}

}  // namespace

TEST_CASE("the LTE sweep evaluates each exact state once and takes every step as from a recomputed history",
          "[solver_coefficients]") {
  // Every multistep family with its warm-up (Runge-Kutta warm-up writes stage slots after the
  // history ring) and UniPC's corrector (it writes the history entry of the next point).
  const PolyLane data = poly_lane(kMaxDegree, 0.6, false), eps = poly_lane(kMaxDegree, 0.6, true);
  solver::SinglestepWarmup rk;
  rk.enabled = true;
  for (int p = 2; p <= 3; ++p) {
    const solver::OrderSchedule orders{p, 0};
    rk.warm.eps_slot = solver::first_method_slot + solver::Ring::size;
    check_sweep_equals_recomputed("dpm-solver++ multistep", solver::DpmSolverPPMultistep{orders, true, rk}, data);
    check_sweep_equals_recomputed("deis", solver::Deis{orders, rk}, eps);
    rk.warm.eps_slot = solver::Unipc<true>::base_slot + 1;
    check_sweep_equals_recomputed("unipc", solver::Unipc<true>{orders, solver::UnipcVariant::bh2, rk}, data);
    check_sweep_equals_recomputed("unip", solver::Unipc<false>{orders, solver::UnipcVariant::bh1, rk}, data);
  }
  check_sweep_equals_recomputed("ab4, rk warm-up", solver::AdamsBashforth::make(4, 0, true), data);
  check_sweep_equals_recomputed("ab3, multistep warm-up", solver::AdamsBashforth::make(3, 0, false), data);
  check_sweep_equals_recomputed("f-pndm", solver::Pndm{{4, 0}, true}, eps);
  check_sweep_equals_recomputed("ipndm", solver::Pndm{{4, 0}, false}, eps);
}
