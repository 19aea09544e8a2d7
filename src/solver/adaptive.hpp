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

// What a method carries from one grid point to the next, and the counts, for each of the W
// samples of a lane (lane/): each takes its own steps.
template <int W>
struct AdaptiveState {
  double h[W];         // signed step in the method's variable
  double err_prev[W];  // dopri5: error norm of the last accepted step (PI memory)
  long accepted[W], rejected[W];
  bool ok[W];  // false once the sample failed, and for positions past the batch (never counted)

  template <class L>
  KOKKOS_INLINE_FUNCTION explicit AdaptiveState(const L& l) {
    for (int w = 0; w < W; ++w) {
      h[w] = 0.0;
      err_prev[w] = 1.0;
      accepted[w] = rejected[w] = 0;
      ok[w] = l.holds(w);
    }
  }
};

KOKKOS_INLINE_FUNCTION double quiet_nan() { return math::sqrt(-1.0); }

// The samples of a lane step in lock step, each with its own step size and position: a step's
// stages and model evaluations are one instruction stream for the lane, then every sample decides
// alone (accept, reject, fail, arrive). A sample that is not stepping -- arrived at the grid point
// the others still head for, failed, or past the batch -- computes a step of size 0 whose results
// nothing keeps and whose evaluations are not counted. Its arithmetic is the same whatever W is.
// Per-sample scalars are computed in loops over w, coordinates in Values, in the order a
// one-sample code would.

template <int W>
KOKKOS_INLINE_FUNCTION bool any_set(const bool (&mask)[W]) {
  bool any = false;
  for (int w = 0; w < W; ++w) any = any || mask[w];
  return any;
}

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

  // out <- f(tau, in) for each sample at its own tau, evaluations counted where `counted`.
  template <class L, int W = L::width>
  KOKKOS_INLINE_FUNCTION void derivative(const L& l, const StepGrid& g, int in, const typename L::Value& tau, int out,
                                         const bool (&counted)[W]) const {
    using Value = typename L::Value;
    Value scale, s, a, b;
    for (int w = 0; w < W; ++w) {
      const FieldPoint p = g.field(tau[w]);
      scale[w] = p.scale;
      s[w] = p.s;
      a[w] = p.a;
      b[w] = p.b;
    }
    l.denoise_own(in, scale, s, out, counted);
    l.for_coordinates([&](int c) { l(out, c) = a * l(in, c) + b * l(out, c); });
  }

  // RMS over coordinates of factor v / (atol + rtol max(|z0|, |z1|)), per sample.
  template <class L>
  KOKKOS_INLINE_FUNCTION typename L::Value scaled_rms(const L& l, int v, int z0, int z1,
                                                      const typename L::Value& factor) const {
    using Value = typename L::Value;
    const Value sum = l.sum_values([&](int c) {
      const Value x = l(v, c), a = l(z0, c), b = l(z1, c);
      Value r;
      for (int w = 0; w < L::width; ++w) {
        const double sc = tol.atol + tol.rtol * math::max(math::fabs(a[w]), math::fabs(b[w]));
        r[w] = factor[w] * x[w] / sc;
      }
      return r * r;
    });
    Value rms;
    for (int w = 0; w < L::width; ++w) rms[w] = math::sqrt(sum[w] / l.dim());
    return rms;
  }

  // z from the x at grid point 0, K_0 = f there, and the initial step (Hairer & Wanner I, II.4:
  // h0 = 0.01 |z|/|f|, one probe Euler step for the second derivative; one extra NFE).
  template <class L, int W = L::width>
  KOKKOS_INLINE_FUNCTION void begin(const L& l, const StepGrid& g, AdaptiveState<W>& st) const {
    using Value = typename L::Value;
    const double tau0 = g.tau(0), span = g.tau(g.steps) - tau0, dir = span < 0 ? -1.0 : 1.0;
    const double zx = g.z_per_x(0);
    l.for_coordinates([&](int c) { l(z_slot, c) = zx * l(state_slot, c); });
    derivative(l, g, z_slot, Value(tau0), stage_slot, st.ok);
    const Value d0 = scaled_rms(l, z_slot, z_slot, z_slot, 1.0), d1 = scaled_rms(l, stage_slot, z_slot, z_slot, 1.0);
    Value h0, tau_probe, inv_h0;
    for (int w = 0; w < W; ++w) {
      h0[w] = d0[w] < 1e-5 || d1[w] < 1e-5 ? 1e-6 : 0.01 * d0[w] / d1[w];
      h0[w] = math::min(h0[w], math::fabs(span));
      tau_probe[w] = tau0 + dir * h0[w];
      inv_h0[w] = 1.0 / h0[w];
    }
    l.for_coordinates([&](int c) { l(trial_slot, c) = l(z_slot, c) + dir * h0 * l(stage_slot, c); });
    const int probe = stage_slot + 1;
    derivative(l, g, trial_slot, tau_probe, probe, st.ok);
    l.for_coordinates([&](int c) { l(probe, c) -= l(stage_slot, c); });
    const Value d2 = scaled_rms(l, probe, z_slot, z_slot, inv_h0);
    for (int w = 0; w < W; ++w) {
      const double dmax = math::max(d1[w], d2[w]);
      const double h1 = dmax <= 1e-15 ? math::max(1e-6, h0[w] * 1e-3) : math::pow(0.01 / dmax, 1.0 / 5.0);
      st.h[w] = dir * math::min(math::min(100.0 * h0[w], h1), math::fabs(span));
      st.err_prev[w] = 1.0;
    }
  }

  // From grid point m - 1 to m: x_m in state_slot for the samples still ok (a sample that fails
  // here leaves ok).
  template <class L, int W = L::width>
  KOKKOS_INLINE_FUNCTION void advance(const L& l, const StepGrid& g, int m, AdaptiveState<W>& st) const {
    using Value = typename L::Value;
    const double target = g.tau(m), start = g.tau(m - 1);
    const double dir = target < start ? -1.0 : 1.0;
    Value tau = start;
    bool stepping[W];
    for (int w = 0; w < W; ++w) stepping[w] = st.ok[w] && (target - start) * dir > 0;
    for (;;) {
      for (int w = 0; w < W; ++w)
        if (stepping[w] && st.accepted[w] + st.rejected[w] >= tol.max_attempts) stepping[w] = st.ok[w] = false;
      if (!any_set(stepping)) break;
      Value h;
      bool lands[W];
      for (int w = 0; w < W; ++w) {
        const double remaining = target - tau[w];
        lands[w] = math::fabs(st.h[w]) >= math::fabs(remaining) * (1.0 - 1e-12);
        h[w] = !stepping[w] ? 0.0 : lands[w] ? remaining : st.h[w];
      }
      for (int s = 1; s < Dopri5Tableau::stages; ++s) {
        l.for_coordinates([&](int c) {
          Value acc = 0.0;
          for (int j = 0; j < s; ++j) acc += k.a[s][j] * l(stage_slot + j, c);
          l(scratch_slot, c) = l(z_slot, c) + h * acc;
        });
        // Stages with c = 1 sit on the step's end, exactly on the target when the step lands.
        Value tau_s;
        for (int w = 0; w < W; ++w)
          tau_s[w] = k.c[s] == 1.0 ? (lands[w] ? target : tau[w] + h[w]) : tau[w] + k.c[s] * h[w];
        derivative(l, g, scratch_slot, tau_s, stage_slot + s, stepping);
      }
      // The last stage's input is the 5th-order solution (b = a[6]); K_6 = f there (FSAL).
      l.for_coordinates([&](int c) { l(trial_slot, c) = l(scratch_slot, c); });
      const Value sum = l.sum_values([&](int c) {
        Value e = 0.0;
        for (int j = 0; j < Dopri5Tableau::stages; ++j) e += k.e[j] * l(stage_slot + j, c);
        const Value z = l(z_slot, c), trial = l(trial_slot, c);
        Value r;
        for (int w = 0; w < W; ++w) {
          const double sc = tol.atol + tol.rtol * math::max(math::fabs(z[w]), math::fabs(trial[w]));
          r[w] = h[w] * e[w] / sc;
        }
        return r * r;
      });
      bool accepted[W];
      for (int w = 0; w < W; ++w) {
        accepted[w] = false;
        if (!stepping[w]) continue;
        const double err = math::sqrt(sum[w] / l.dim());
        if (!(err <= 1.0)) {  // rejected (also when err is NaN): shrink, never grow
          ++st.rejected[w];
          const double fac = math::isfinite(err) ? math::max(fac_min, safety * math::pow(err, -1.0 / 5.0)) : fac_min;
          st.h[w] = h[w] * math::min(1.0, fac);
          if (!(math::fabs(st.h[w]) > 1e-14 * math::max(1.0, math::fabs(tau[w])))) stepping[w] = st.ok[w] = false;
          continue;
        }
        ++st.accepted[w];
        accepted[w] = true;
        tau[w] = lands[w] ? target : tau[w] + h[w];
        const double e_clamped = math::max(err, 1e-10);
        double fac = safety * math::pow(e_clamped, -beta1) * math::pow(st.err_prev[w], beta2);
        fac = math::min(fac_max, math::max(fac_min, fac));
        st.err_prev[w] = math::max(err, 1e-4);
        // A step clipped to land on a grid point says nothing about the step the control wants.
        if (!lands[w] || fac < 1.0) st.h[w] = h[w] * fac;
        stepping[w] = (target - tau[w]) * dir > 0;
      }
      if (!any_set(accepted)) continue;
      l.for_coordinates([&](int c) {
        Value z = l(z_slot, c), f = l(stage_slot, c);
        const Value trial = l(trial_slot, c), f_trial = l(stage_slot + Dopri5Tableau::stages - 1, c);
        for (int w = 0; w < W; ++w) {
          z[w] = accepted[w] ? trial[w] : z[w];
          f[w] = accepted[w] ? f_trial[w] : f[w];
        }
        l(z_slot, c) = z;
        l(stage_slot, c) = f;
      });
    }
    const double xz = 1.0 / g.z_per_x(m);
    l.for_coordinates([&](int c) { l(state_slot, c) = xz * l(z_slot, c); });
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

  template <class L, int W = L::width>
  KOKKOS_INLINE_FUNCTION static void eps_of_y(const L& l, int in, const typename L::Value& s, int out,
                                              const bool (&counted)[W]) {
    l.denoise_own(in, 1.0, s, out, counted);
    l.for_coordinates([&](int c) { l(out, c) = (l(in, c) - l(out, c)) / s; });
  }

  template <class L, int W = L::width>
  KOKKOS_INLINE_FUNCTION void begin(const L& l, const StepGrid& g, AdaptiveState<W>& st) const {
    const double inv_alpha = 1.0 / g.alpha(0);
    l.for_coordinates([&](int c) {
      l(y_slot, c) = l(state_slot, c) * inv_alpha;
      l(prev_slot, c) = l(state_slot, c);
    });
    for (int w = 0; w < W; ++w) st.h[w] = h_init;
  }

  // One attempt of each sample from (lambda0, y) with step h in lambda to s1: lower and higher
  // solutions in y.
  template <class L, int W = L::width>
  KOKKOS_INLINE_FUNCTION void attempt(const L& l, const typename L::Value& lambda0, const typename L::Value& h,
                                      const typename L::Value& s1, const bool (&counted)[W]) const {
    using Value = typename L::Value;
    Value s0, phi_1;
    for (int w = 0; w < W; ++w) {
      s0[w] = math::exp(-lambda0[w]);
      phi_1[w] = math::expm1(h[w]);
    }
    const int e0 = eps_slot, e1 = eps_slot + 1, e2 = eps_slot + 2;
    eps_of_y(l, y_slot, s0, e0, counted);
    if (order == 2) {
      const double r1 = 0.5;
      Value s_u, phi_11;
      for (int w = 0; w < W; ++w) {
        s_u[w] = s0[w] * math::exp(-r1 * h[w]);
        phi_11[w] = math::expm1(r1 * h[w]);
      }
      l.for_coordinates([&](int c) {
        l(low_slot, c) = l(y_slot, c) - s1 * phi_1 * l(e0, c);  // DPM-Solver-1
        l(scratch_slot, c) = l(y_slot, c) - s_u * phi_11 * l(e0, c);
      });
      eps_of_y(l, scratch_slot, s_u, e1, counted);
      l.for_coordinates([&](int c) {
        const Value e = l(e0, c);
        l(high_slot, c) = l(y_slot, c) - s1 * (phi_1 * e + 0.5 / r1 * phi_1 * (l(e1, c) - e));
      });
      return;
    }
    const double r1 = 1.0 / 3.0, r2 = 2.0 / 3.0;
    Value s_u1, s_u2, phi_11, phi_12, phi_22, phi_2;
    for (int w = 0; w < W; ++w) {
      s_u1[w] = s0[w] * math::exp(-r1 * h[w]);
      s_u2[w] = s0[w] * math::exp(-r2 * h[w]);
      phi_11[w] = math::expm1(r1 * h[w]);
      phi_12[w] = math::expm1(r2 * h[w]);
      phi_22[w] = r2 * h[w] * phi(2, r2 * h[w]);  // expm1(r2 h)/(r2 h) - 1
      phi_2[w] = h[w] * phi(2, h[w]);             // expm1(h)/h - 1
    }
    l.for_coordinates([&](int c) { l(scratch_slot, c) = l(y_slot, c) - s_u1 * phi_11 * l(e0, c); });
    eps_of_y(l, scratch_slot, s_u1, e1, counted);
    l.for_coordinates([&](int c) {
      const Value e = l(e0, c), d = l(e1, c) - e;
      l(low_slot, c) = l(y_slot, c) - s1 * (phi_1 * e + 0.5 / r1 * phi_1 * d);  // DPM-Solver-2, r1 = 1/3
      l(scratch_slot, c) = l(y_slot, c) - s_u2 * (phi_12 * e + r2 / r1 * phi_22 * d);
    });
    eps_of_y(l, scratch_slot, s_u2, e2, counted);
    l.for_coordinates([&](int c) {
      const Value e = l(e0, c);
      l(high_slot, c) = l(y_slot, c) - s1 * (phi_1 * e + phi_2 / r2 * (l(e2, c) - e));
    });
  }

  template <class L, int W = L::width>
  KOKKOS_INLINE_FUNCTION void advance(const L& l, const StepGrid& g, int m, AdaptiveState<W>& st) const {
    using Value = typename L::Value;
    const double target = g.lambda(m), lambda_end = g.lambda(g.steps), start = g.lambda(m - 1);
    const auto& sched = g.schedule;
    Value lambda = start;
    bool stepping[W];
    for (int w = 0; w < W; ++w) stepping[w] = st.ok[w] && start < target;
    for (;;) {
      for (int w = 0; w < W; ++w)
        if (stepping[w] && st.accepted[w] + st.rejected[w] >= tol.max_attempts) stepping[w] = st.ok[w] = false;
      if (!any_set(stepping)) break;
      Value h, s1, alpha1;
      bool lands[W];
      for (int w = 0; w < W; ++w) {
        const double remaining = target - lambda[w];
        lands[w] = !stepping[w] || st.h[w] >= remaining * (1.0 - 1e-12);
        h[w] = !stepping[w] ? 0.0 : lands[w] ? remaining : st.h[w];
        s1[w] = lands[w] ? g.s(m) : math::exp(-(lambda[w] + h[w]));
        alpha1[w] = lands[w] ? g.alpha(m) : sched.alpha(sched.t_of_lambda(lambda[w] + h[w]));
      }
      attempt(l, lambda, h, s1, stepping);
      const Value sum = l.sum_values([&](int c) {
        const Value low = l(low_slot, c), high = l(high_slot, c), prev = l(prev_slot, c);
        Value r;
        for (int w = 0; w < W; ++w) {
          const double x_low = alpha1[w] * low[w], x_high = alpha1[w] * high[w];
          const double delta = math::max(tol.atol, tol.rtol * math::max(math::fabs(x_low), math::fabs(prev[w])));
          r[w] = (x_high - x_low) / delta;
        }
        return r * r;
      });
      bool accepted[W];
      for (int w = 0; w < W; ++w) {
        accepted[w] = false;
        if (!stepping[w]) continue;
        const double err = math::sqrt(sum[w] / l.dim());
        if (!math::isfinite(err)) {
          ++st.rejected[w];
          st.h[w] = 0.2 * h[w];
          if (!(st.h[w] > 1e-14 * math::max(1.0, math::fabs(lambda[w])))) stepping[w] = st.ok[w] = false;
          continue;
        }
        if (err <= 1.0) {
          ++st.accepted[w];
          accepted[w] = true;
          lambda[w] = lands[w] ? target : lambda[w] + h[w];
        } else {
          ++st.rejected[w];
        }
        stepping[w] = lambda[w] < target;
        // At t_min there is no next step to size (E = 0 there would read as an underflow below).
        const double to_end = lambda_end - lambda[w];
        if (!(to_end > 0)) continue;
        // E = 0 asks for an infinite step: the official min() then takes what is left.
        const double wish = err > 0 ? theta * h[w] * math::pow(err, -1.0 / order) : to_end;
        if (!(wish > 1e-14 * math::max(1.0, math::fabs(lambda[w])))) {  // step size underflow
          stepping[w] = st.ok[w] = false;
          continue;
        }
        st.h[w] = math::min(wish, to_end);
      }
      if (!any_set(accepted)) continue;
      l.for_coordinates([&](int c) {
        Value y = l(y_slot, c), prev = l(prev_slot, c);
        const Value high = l(high_slot, c), x_low = alpha1 * l(low_slot, c);
        for (int w = 0; w < W; ++w) {
          y[w] = accepted[w] ? high[w] : y[w];
          prev[w] = accepted[w] ? x_low[w] : prev[w];
        }
        l(y_slot, c) = y;
        l(prev_slot, c) = prev;
      });
    }
    const double alpha = g.alpha(m);
    l.for_coordinates([&](int c) { l(state_slot, c) = alpha * l(y_slot, c); });
  }
};

// ---------------------------------------------------------------------------------------------
// Driver: each sample integrates from grid point 0 through every grid point to the last, landing
// on each; global error at every grid point, per-sample step counts. The samples of a lane step
// together but each with its own steps (above): a PackLane of W samples per thread, or
// a TeamLane (one sample per thread, its coordinates over vector lanes, no team barriers: the
// model's s-only terms are the thread's own). The samples of a pack wait for each other at every
// grid point.
template <class Method, class L>
struct AdaptiveKernel {
  static constexpr int W = L::width;
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
    const int n = grid.steps;
    load_exact(l, state_slot, exact, grid, 0);
    store_rms_difference(l, global_error, 0, exact, grid, 0);
    record.store(l, 0);
    AdaptiveState<W> st(l);
    method.begin(l, grid, st);
    for (int m = 1; m <= n; ++m) {
      method.advance(l, grid, m, st);
      l.for_coordinates([&](int c) {
        for (int w = 0; w < W; ++w)
          if (!st.ok[w]) l(state_slot, c)[w] = quiet_nan();
      });
      store_rms_difference(l, global_error, m, exact, grid, m);
      record.store(l, m);
    }
    if (final_denoise && any_set(st.ok)) {
      const double alpha = exact.final_alpha(grid);
      l.denoise_own(state_slot, grid.alpha(n), grid.s(n), scratch_slot, st.ok);
      l.for_coordinates([&](int c) {
        for (int w = 0; w < W; ++w)
          if (st.ok[w]) l(state_slot, c)[w] = alpha * l(scratch_slot, c)[w];
      });
      record.store(l, n);
    }
    store_final(l, global_error, exact, grid, final_state, exact_final_rms);
    for (int w = 0; w < W; ++w) {
      if (!l.holds(w)) continue;
      l.once([&] {
        steps_taken(l.sample(w), 0) = st.accepted[w];
        steps_taken(l.sample(w), 1) = st.rejected[w];
      });
    }
  }
};

}  // namespace pfode::solver
