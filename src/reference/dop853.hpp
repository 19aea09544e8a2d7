// Per-sample adaptive DOP853 on the canonical PF-ODE in u = log s (DESIGN.md section 1):
//   dy/du = y - D(y, e^u),
// integrated from u_0 down through every requested u_m, landing on each exactly (the step is
// clipped), with Hairer's error norm and step-size control. 12 model evaluations per step (FSAL).
#pragma once

#include "reference/dop853_coefficients.hpp"
#include "solver/lane.hpp"

namespace pfode::reference {

struct Dop853Settings {
  double rtol = 1e-13, atol = 1e-13;
  long max_steps = 200000;  // per sample, over the whole integration
};

// Slots: 0 y, 1 stage input / trial solution, 2..13 stages K_0..K_11, 14 f at the trial solution.
inline constexpr int dop853_slots = 15;

struct Dop853Kernel {
  Dop853Coefficients k;
  Dop853Settings settings;
  solver::Lane<1> lane;  // per-sample step control: one sample per thread
  Kokkos::View<const double**> y_start;  // (sample, coord) at u_out(0)
  Kokkos::View<const double*> u_out;     // requested u = log s, strictly decreasing, u_out(0) = start
  Kokkos::View<double***> y_out;         // (sample, m, coord)
  Kokkos::View<int*> failed;             // 1 where the step budget ran out or the solution blew up

  static constexpr int y_slot = 0, trial_slot = 1, stage_slot = 2, f_trial_slot = 14;

  KOKKOS_INLINE_FUNCTION void derivative(const solver::Lane<1>& l, int in_slot, double u, int out_slot) const {
    l.denoise(in_slot, 1.0, math::exp(u), out_slot);
    for (int c = 0; c < l.dim(); ++c) l(out_slot, c) = l(in_slot, c) - l(out_slot, c);
  }

  KOKKOS_INLINE_FUNCTION void operator()(int sample) const {
    solver::Lane<1> l = lane;
    l.pack = sample;
    const int n = l.dim();
    for (int c = 0; c < n; ++c) {
      l(y_slot, c) = y_start(sample, c);
      y_out(sample, 0, c) = y_start(sample, c);
    }
    const int outputs = static_cast<int>(u_out.extent(0));
    failed(sample) = 0;
    if (outputs < 2) return;
    double u = u_out(0);
    derivative(l, y_slot, u, stage_slot);
    double h = -math::min(0.05, u_out(0) - u_out(outputs - 1));  // control adapts it within a few steps
    long taken = 0;
    for (int m = 1; m < outputs; ++m) {
      const double target = u_out(m);
      while (u > target) {
        if (++taken > settings.max_steps) {
          failed(sample) = 1;
          return;
        }
        const bool lands = u + h <= target;
        const double step = lands ? target - u : h;
        const double err = trial_step(l, u, step);
        if (!(err <= 1.0)) {  // rejected (also when err is NaN): shrink and retry
          const double shrink = math::isfinite(err) ? math::max(0.2, 0.9 * math::pow(err, -0.125)) : 0.2;
          h = step * shrink;
          if (!(math::fabs(h) > 1e-14 * math::max(1.0, math::fabs(u)))) {
            failed(sample) = 1;
            return;
          }
          continue;
        }
        for (int c = 0; c < n; ++c) {
          l(y_slot, c) = l(trial_slot, c);
          l(stage_slot, c) = l(f_trial_slot, c);  // first same as last
        }
        u = lands ? target : u + step;
        const double grow = err > 0 ? math::min(10.0, math::max(0.2, 0.9 * math::pow(err, -0.125))) : 10.0;
        // A step clipped to land on an output says nothing about the step the control wants.
        if (!lands || grow < 1.0) h = step * grow;
      }
      for (int c = 0; c < n; ++c) y_out(sample, m, c) = l(y_slot, c);
    }
  }

  // One DOP853 step of size h from (u, y): trial solution in trial_slot, f there in f_trial_slot.
  // Returns Hairer's error norm (accept when <= 1).
  KOKKOS_INLINE_FUNCTION double trial_step(const solver::Lane<1>& l, double u, double h) const {
    const int n = l.dim();
    for (int s = 1; s < Dop853Coefficients::stages; ++s) {
      for (int c = 0; c < n; ++c) {
        double acc = 0.0;
        for (int j = 0; j < s; ++j) acc += k.a[s][j] * l(stage_slot + j, c);
        l(trial_slot, c) = l(y_slot, c) + h * acc;
      }
      derivative(l, trial_slot, u + k.c[s] * h, stage_slot + s);
    }
    for (int c = 0; c < n; ++c) {
      double acc = 0.0;
      for (int j = 0; j < Dop853Coefficients::stages; ++j) acc += k.b[j] * l(stage_slot + j, c);
      l(trial_slot, c) = l(y_slot, c) + h * acc;
    }
    derivative(l, trial_slot, u + h, f_trial_slot);
    double err5 = 0.0, err3 = 0.0;
    for (int c = 0; c < n; ++c) {
      const double scale =
          settings.atol + settings.rtol * math::max(math::fabs(l(y_slot, c)), math::fabs(l(trial_slot, c)));
      double e5 = k.e5[12] * l(f_trial_slot, c), e3 = k.e3[12] * l(f_trial_slot, c);
      for (int j = 0; j < Dop853Coefficients::stages; ++j) {
        e5 += k.e5[j] * l(stage_slot + j, c);
        e3 += k.e3[j] * l(stage_slot + j, c);
      }
      err5 += (e5 / scale) * (e5 / scale);
      err3 += (e3 / scale) * (e3 / scale);
    }
    if (err5 == 0.0 && err3 == 0.0) return 0.0;
    return math::fabs(h) * err5 / math::sqrt(n * (err5 + 0.01 * err3));
  }
};

}  // namespace pfode::reference
