// Adaptive solvers: every sample takes its own steps, chosen by an embedded error estimate, and
// lands exactly on every grid point (a sweep gives them the two-point grid [t_max, t_min]).
//   dopri5         Dormand & Prince 1980, "A family of embedded Runge-Kutta formulae", J. Comput.
//                  Appl. Math. 6: the 5(4) pair, 7 stages with first-same-as-last (6 NFE per
//                  attempted step, plus 2 at the start: f(t_0) and Hairer's initial-step probe),
//                  local extrapolation (the 5th-order solution is propagated), PI step control
//                  (Gustafsson; Hairer & Wanner, Solving ODEs I, II.4; Soederlind's beta1 = 0.7/5,
//                  beta2 = 0.4/5), safety 0.9, step factor in [0.2, 10], no growth after a
//                  rejection. Integrates in a chosen variable (default log s, like the reference).
//                  Global order 5 in NFE.
//   dpm-solver-12  Lu et al., NeurIPS 2022, Algorithm 4 (adaptive step size), as in the official
//   dpm-solver-23  code: steps in lambda from h_init = 0.05; the higher-order singlestep solution
//                  (DPM-Solver-2, r1 = 1/2, or DPM-Solver-3, r1 = 1/3, r2 = 2/3) is propagated and
//                  the lower-order one (DPM-Solver-1, or DPM-Solver-2 with r1 = 1/3 sharing the
//                  first stage) estimates its error:
//                    delta = max(atol, rtol max(|x_lower|, |x_prev|)),
//                    E = sqrt(mean_c ((x_higher - x_lower) / delta)^2),
//                  accepted when E <= 1 (then x_prev <- x_lower), and in every case
//                  h <- min(theta h E^(-1/k), lambda_end - lambda), theta = 0.9, k = 2 or 3.
//                  Norms in the schedule's own x, as the official code. Each attempt costs k NFE
//                  (the official code re-evaluates the model at the step's start on every
//                  attempt, accepted or not). Global order k in NFE.
// pfode differences, all at the edges: per sample instead of the official max over the batch; the
// official loop also stops as soon as |t - t_0| <= t_err = 1e-5, leaving the state up to t_err
// short of t_0 when an unclipped step happens to end there; pfode always goes on to t_min exactly
// (at most one more, clipped, attempt: the GTE needs the state at t_min); a non-finite E is a
// rejection with h <- h / 5 (the official code would propagate the NaN); a sample whose step size
// underflows or that exceeds max_attempts ends with NaN (the cell's status becomes
// "step_control_failed").
#pragma once

#include "solver/coefficients.hpp"
#include "solver/drivers.hpp"
#include "solver/slots.hpp"
#include "solver/step_grid.hpp"

namespace pfode::solver {

struct AdaptiveTolerance {
  double atol = 1e-6, rtol = 1e-6;
  long max_attempts = 200000;  // per sample, over the whole integration
};

// What a method carries from one grid point to the next, and the per-sample counts.
struct AdaptiveState {
  double h = 0;           // signed step in the method's variable
  double err_prev = 1.0;  // dopri5: error norm of the last accepted step (PI memory)
  long accepted = 0, rejected = 0;
};

KOKKOS_INLINE_FUNCTION double quiet_nan() { return math::sqrt(-1.0); }

// ---------------------------------------------------------------------------------------------
// Dormand-Prince 5(4)

struct Dopri5Tableau {
  static constexpr int stages = 7;
  double a[stages][stages] = {};
  double b[stages] = {};  // 5th order (= row 7 of a: first same as last)
  double e[stages] = {};  // b - b_hat (4th order): the error estimate's weights
  double c[stages] = {};
};

Dopri5Tableau dopri5_tableau();

struct Dopri5 {
  Dopri5Tableau k;
  AdaptiveTolerance tol;

  static constexpr int z_slot = first_method_slot;          // z in the integration variable
  static constexpr int stage_slot = first_method_slot + 1;  // K_0 .. K_6
  static constexpr int trial_slot = stage_slot + Dopri5Tableau::stages;
  int slots() const { return trial_slot + 1; }

  static constexpr double safety = 0.9, beta1 = 0.7 / 5.0, beta2 = 0.4 / 5.0, fac_min = 0.2, fac_max = 10.0;

  template <class L>
  KOKKOS_INLINE_FUNCTION void derivative(const L& l, const StepGrid& g, int in, double tau, int out) const {
    const FieldPoint p = g.field(tau);
    l.denoise_own(in, p.scale, p.s, out);
    l.for_coordinates([&](int c) { l(out, c) = p.a * l(in, c) + p.b * l(out, c); });
  }

  // RMS over coordinates of v / (atol + rtol max(|z0|, |z1|)).
  template <class L>
  KOKKOS_INLINE_FUNCTION double scaled_rms(const L& l, int v, int z0, int z1, double factor) const {
    const double sum = l.sum_coordinates([&](int c) {
      const double sc = tol.atol + tol.rtol * math::max(math::fabs(l(z0, c)), math::fabs(l(z1, c)));
      const double r = factor * l(v, c) / sc;
      return r * r;
    });
    return math::sqrt(sum / l.dim());
  }

  // z from the x at grid point 0, K_0 = f there, and the initial step (Hairer & Wanner I, II.4:
  // h0 = 0.01 |z|/|f|, one probe Euler step for the second derivative; one extra NFE).
  template <class L>
  KOKKOS_INLINE_FUNCTION void begin(const L& l, const StepGrid& g, AdaptiveState& st) const {
    const double tau0 = g.tau(0), span = g.tau(g.steps) - tau0, dir = span < 0 ? -1.0 : 1.0;
    const double zx = g.z_per_x(0);
    l.for_coordinates([&](int c) { l(z_slot, c) = zx * l(state_slot, c); });
    derivative(l, g, z_slot, tau0, stage_slot);
    const double d0 = scaled_rms(l, z_slot, z_slot, z_slot, 1.0), d1 = scaled_rms(l, stage_slot, z_slot, z_slot, 1.0);
    double h0 = d0 < 1e-5 || d1 < 1e-5 ? 1e-6 : 0.01 * d0 / d1;
    h0 = math::min(h0, math::fabs(span));
    l.for_coordinates([&](int c) { l(trial_slot, c) = l(z_slot, c) + dir * h0 * l(stage_slot, c); });
    const int probe = stage_slot + 1;
    derivative(l, g, trial_slot, tau0 + dir * h0, probe);
    l.for_coordinates([&](int c) { l(probe, c) -= l(stage_slot, c); });
    const double d2 = scaled_rms(l, probe, z_slot, z_slot, 1.0 / h0);
    const double dmax = math::max(d1, d2);
    const double h1 = dmax <= 1e-15 ? math::max(1e-6, h0 * 1e-3) : math::pow(0.01 / dmax, 1.0 / 5.0);
    st.h = dir * math::min(math::min(100.0 * h0, h1), math::fabs(span));
    st.err_prev = 1.0;
  }

  // From grid point m - 1 to m; x_m in state_slot. False when the sample failed.
  template <class L>
  KOKKOS_INLINE_FUNCTION bool advance(const L& l, const StepGrid& g, int m, AdaptiveState& st) const {
    const double target = g.tau(m);
    double tau = g.tau(m - 1);
    const double dir = target < tau ? -1.0 : 1.0;
    while ((target - tau) * dir > 0) {
      if (st.accepted + st.rejected >= tol.max_attempts) return false;
      const double remaining = target - tau;
      const bool lands = math::fabs(st.h) >= math::fabs(remaining) * (1.0 - 1e-12);
      const double h = lands ? remaining : st.h;
      for (int s = 1; s < Dopri5Tableau::stages; ++s) {
        l.for_coordinates([&](int c) {
          double acc = 0.0;
          for (int j = 0; j < s; ++j) acc += k.a[s][j] * l(stage_slot + j, c);
          l(scratch_slot, c) = l(z_slot, c) + h * acc;
        });
        // Stages with c = 1 sit on the step's end, exactly on the target when the step lands.
        const double tau_s = k.c[s] == 1.0 ? (lands ? target : tau + h) : tau + k.c[s] * h;
        derivative(l, g, scratch_slot, tau_s, stage_slot + s);
      }
      // The last stage's input is the 5th-order solution (b = a[6]); K_6 = f there (FSAL).
      l.for_coordinates([&](int c) { l(trial_slot, c) = l(scratch_slot, c); });
      const double sum = l.sum_coordinates([&](int c) {
        double e = 0.0;
        for (int j = 0; j < Dopri5Tableau::stages; ++j) e += k.e[j] * l(stage_slot + j, c);
        const double sc = tol.atol + tol.rtol * math::max(math::fabs(l(z_slot, c)), math::fabs(l(trial_slot, c)));
        const double r = h * e / sc;
        return r * r;
      });
      const double err = math::sqrt(sum / l.dim());
      if (!(err <= 1.0)) {  // rejected (also when err is NaN): shrink, never grow
        ++st.rejected;
        const double fac = math::isfinite(err) ? math::max(fac_min, safety * math::pow(err, -1.0 / 5.0)) : fac_min;
        st.h = h * math::min(1.0, fac);
        if (!(math::fabs(st.h) > 1e-14 * math::max(1.0, math::fabs(tau)))) return false;
        continue;
      }
      ++st.accepted;
      l.for_coordinates([&](int c) {
        l(z_slot, c) = l(trial_slot, c);
        l(stage_slot, c) = l(stage_slot + Dopri5Tableau::stages - 1, c);
      });
      tau = lands ? target : tau + h;
      const double e_clamped = math::max(err, 1e-10);
      double fac = safety * math::pow(e_clamped, -beta1) * math::pow(st.err_prev, beta2);
      fac = math::min(fac_max, math::max(fac_min, fac));
      st.err_prev = math::max(err, 1e-4);
      // A step clipped to land on a grid point says nothing about the step the control wants.
      if (!lands || fac < 1.0) st.h = h * fac;
    }
    const double xz = 1.0 / g.z_per_x(m);
    l.for_coordinates([&](int c) { l(state_slot, c) = xz * l(z_slot, c); });
    return true;
  }
};

// ---------------------------------------------------------------------------------------------
// Adaptive DPM-Solver-12 / -23 (noise prediction, "dpmsolver" coefficients)

struct DpmSolverAdaptive {
  int order = 2;  // the higher order k: 2 (DPM-Solver-12) or 3 (DPM-Solver-23)
  AdaptiveTolerance tol;
  double theta = 0.9, h_init = 0.05;  // the official defaults

  static constexpr int y_slot = first_method_slot;  // y = x / alpha at the current lambda
  static constexpr int eps_slot = first_method_slot + 1;  // eps at the start, then the two stages
  static constexpr int low_slot = first_method_slot + 4;  // y of the lower-order solution
  static constexpr int high_slot = first_method_slot + 5;
  static constexpr int prev_slot = first_method_slot + 6;  // x_prev (schedule scale)
  int slots() const { return prev_slot + 1; }

  template <class L>
  KOKKOS_INLINE_FUNCTION static void eps_of_y(const L& l, int in, double s, int out) {
    l.denoise_own(in, 1.0, s, out);
    l.for_coordinates([&](int c) { l(out, c) = (l(in, c) - l(out, c)) / s; });
  }

  template <class L>
  KOKKOS_INLINE_FUNCTION void begin(const L& l, const StepGrid& g, AdaptiveState& st) const {
    const double inv_alpha = 1.0 / g.alpha(0);
    l.for_coordinates([&](int c) {
      l(y_slot, c) = l(state_slot, c) * inv_alpha;
      l(prev_slot, c) = l(state_slot, c);
    });
    st.h = h_init;
  }

  // One attempt from (lambda0, y) with step h in lambda to s1: lower and higher solutions in y.
  template <class L>
  KOKKOS_INLINE_FUNCTION void attempt(const L& l, double lambda0, double h, double s1) const {
    const double s0 = math::exp(-lambda0), phi_1 = math::expm1(h);
    const int e0 = eps_slot, e1 = eps_slot + 1, e2 = eps_slot + 2;
    eps_of_y(l, y_slot, s0, e0);
    if (order == 2) {
      const double r1 = 0.5, s_u = s0 * math::exp(-r1 * h), phi_11 = math::expm1(r1 * h);
      l.for_coordinates([&](int c) {
        l(low_slot, c) = l(y_slot, c) - s1 * phi_1 * l(e0, c);  // DPM-Solver-1
        l(scratch_slot, c) = l(y_slot, c) - s_u * phi_11 * l(e0, c);
      });
      eps_of_y(l, scratch_slot, s_u, e1);
      l.for_coordinates([&](int c) {
        const double e = l(e0, c);
        l(high_slot, c) = l(y_slot, c) - s1 * (phi_1 * e + 0.5 / r1 * phi_1 * (l(e1, c) - e));
      });
      return;
    }
    const double r1 = 1.0 / 3.0, r2 = 2.0 / 3.0;
    const double s_u1 = s0 * math::exp(-r1 * h), s_u2 = s0 * math::exp(-r2 * h);
    const double phi_11 = math::expm1(r1 * h), phi_12 = math::expm1(r2 * h);
    const double phi_22 = r2 * h * phi(2, r2 * h);  // expm1(r2 h)/(r2 h) - 1
    const double phi_2 = h * phi(2, h);              // expm1(h)/h - 1
    l.for_coordinates([&](int c) { l(scratch_slot, c) = l(y_slot, c) - s_u1 * phi_11 * l(e0, c); });
    eps_of_y(l, scratch_slot, s_u1, e1);
    l.for_coordinates([&](int c) {
      const double e = l(e0, c), d = l(e1, c) - e;
      l(low_slot, c) = l(y_slot, c) - s1 * (phi_1 * e + 0.5 / r1 * phi_1 * d);  // DPM-Solver-2, r1 = 1/3
      l(scratch_slot, c) = l(y_slot, c) - s_u2 * (phi_12 * e + r2 / r1 * phi_22 * d);
    });
    eps_of_y(l, scratch_slot, s_u2, e2);
    l.for_coordinates([&](int c) {
      const double e = l(e0, c);
      l(high_slot, c) = l(y_slot, c) - s1 * (phi_1 * e + phi_2 / r2 * (l(e2, c) - e));
    });
  }

  template <class L>
  KOKKOS_INLINE_FUNCTION bool advance(const L& l, const StepGrid& g, int m, AdaptiveState& st) const {
    const double target = g.lambda(m), lambda_end = g.lambda(g.steps);
    double lambda = g.lambda(m - 1);
    const auto& sched = g.schedule;
    while (lambda < target) {
      if (st.accepted + st.rejected >= tol.max_attempts) return false;
      const double remaining = target - lambda;
      const bool lands = st.h >= remaining * (1.0 - 1e-12);
      const double h = lands ? remaining : st.h;
      const double s1 = lands ? g.s(m) : math::exp(-(lambda + h));
      const double alpha1 = lands ? g.alpha(m) : sched.alpha(sched.t_of_lambda(lambda + h));
      attempt(l, lambda, h, s1);
      const double sum = l.sum_coordinates([&](int c) {
        const double x_low = alpha1 * l(low_slot, c), x_high = alpha1 * l(high_slot, c);
        const double delta = math::max(tol.atol, tol.rtol * math::max(math::fabs(x_low), math::fabs(l(prev_slot, c))));
        const double r = (x_high - x_low) / delta;
        return r * r;
      });
      const double err = math::sqrt(sum / l.dim());
      if (!math::isfinite(err)) {
        ++st.rejected;
        st.h = 0.2 * h;
        if (!(st.h > 1e-14 * math::max(1.0, math::fabs(lambda)))) return false;
        continue;
      }
      if (err <= 1.0) {
        ++st.accepted;
        l.for_coordinates([&](int c) {
          l(y_slot, c) = l(high_slot, c);
          l(prev_slot, c) = alpha1 * l(low_slot, c);
        });
        lambda = lands ? target : lambda + h;
      } else {
        ++st.rejected;
      }
      // At t_min there is no next step to size (E = 0 there would read as an underflow below).
      const double to_end = lambda_end - lambda;
      if (!(to_end > 0)) break;
      // E = 0 asks for an infinite step: the official min() then takes what is left.
      const double wish = err > 0 ? theta * h * math::pow(err, -1.0 / order) : to_end;
      if (!(wish > 1e-14 * math::max(1.0, math::fabs(lambda)))) return false;  // step size underflow
      st.h = math::min(wish, to_end);
    }
    const double alpha = g.alpha(m);
    l.for_coordinates([&](int c) { l(state_slot, c) = alpha * l(y_slot, c); });
    return true;
  }
};

// ---------------------------------------------------------------------------------------------
// Driver: each sample integrates from grid point 0 through every grid point to the last, landing
// on each; global error at every grid point, per-sample step counts. The samples take different
// steps, so a lane holds one sample: a PackLane of width 1 (one thread per sample) or a TeamLane
// (one sample per thread, its coordinates over vector lanes, no team barriers: the model's s-only
// terms are the thread's own).
template <class Method, class L>
struct AdaptiveKernel {
  static_assert(L::width == 1, "adaptive step control is per sample");
  Method method;
  StepGrid grid;
  L lane;
  ExactStates exact;
  Kokkos::View<double**> global_error;    // (sample, N + 1)
  Kokkos::View<double*> exact_final_rms;  // (sample)
  Kokkos::View<double**> final_state;     // (sample, coord)
  Kokkos::View<long**> steps_taken;       // (sample, 2): accepted, rejected
  bool final_denoise = false;  // alpha = exact.final_alpha, as TrajectoryKernel
  StateRecord record;          // x at the grid points of the samples saved

  template <class Where>
  KOKKOS_INLINE_FUNCTION void operator()(const Where& where) const {
    const L l = lane.at(where);
    const int n = grid.steps, sample = l.sample(0);
    load_exact(l, state_slot, exact, grid, 0);
    store_rms_difference(l, global_error, 0, exact, grid, 0);
    record.store(l, 0);
    AdaptiveState st;
    method.begin(l, grid, st);
    bool ok = true;
    for (int m = 1; m <= n; ++m) {
      ok = ok && method.advance(l, grid, m, st);
      if (!ok) l.for_coordinates([&](int c) { l(state_slot, c) = quiet_nan(); });
      store_rms_difference(l, global_error, m, exact, grid, m);
      record.store(l, m);
    }
    if (final_denoise && ok) {
      const double alpha = exact.final_alpha(grid);
      l.denoise_own(state_slot, grid.alpha(n), grid.s(n), scratch_slot);
      l.for_coordinates([&](int c) { l(state_slot, c) = alpha * l(scratch_slot, c); });
      record.store(l, n);
    }
    store_final(l, global_error, exact, grid, final_state, exact_final_rms);
    if (!l.holds(0)) return;
    l.once([&] {
      steps_taken(sample, 0) = st.accepted;
      steps_taken(sample, 1) = st.rejected;
    });
  }
};

}  // namespace pfode::solver
