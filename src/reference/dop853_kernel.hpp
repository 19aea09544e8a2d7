// Per-sample adaptive DOP853 on the canonical PF-ODE in u = log s (DESIGN.md section 1):
//   dy/du = y - D(y, e^u),
// integrated from u_0 to the last requested u (down for sampling, up for the likelihood), with
// Hairer's error norm and step-size control, 12 model evaluations per step (FSAL). The requested u
// between the two ends come from DOP853's dense output of order 7: they never shorten a step, so
// the steps, and the cost, are the same for 3 or 3000 requested times. With any such time every
// accepted step computes the interpolant's three extra stages (15 evaluations per accepted step
// instead of 12).
// The kernel and the definition of dop853 for one model kind, compiled once per kind in that
// kind's translation unit (src/kinds/).
#pragma once

#include <string>
#include <type_traits>

#include "lane/launch.hpp"
#include "reference/dop853.hpp"
#include "reference/dop853_coefficients.hpp"

namespace pfode::reference {

// One thread integrates a pack of W samples (lane/pack_lane.hpp) in lock step, each with its own u,
// step size, error control and output index, so a sample's solution is the same whatever pack it
// is in and whatever W is; only its evaluations are shared instructions. A sample that has reached
// the last output (or failed) idles until the pack is done, uncounted. With pack_step the active
// samples keep one u and step size: the step is accepted when every one's error norm allows it,
// and the model computes its s-only terms once for the pack. On a team lane (W = 1) each thread
// integrates one sample, its coordinates over vector lanes, with its own steps.
template <class L>
struct Dop853Kernel {
  static constexpr int W = L::width;
  using Value = typename L::Value;
  Dop853Coefficients k;
  Dop853Settings settings;
  L lane;
  Kokkos::View<const double**> y_start;  // (sample, coord) at u_out(0)
  Kokkos::View<const double*> u_out;     // requested u = log s, strictly monotone, u_out(0) = start
  States y_out;                          // (sample, m, coord)
  Kokkos::View<int*> failed;             // 1 where the step budget ran out or the solution blew up
  Kokkos::View<long**> steps;            // (sample, 2): accepted, rejected steps (12 NFE each, after 1 at the start)

  static constexpr int y_slot = 0, trial_slot = 1, stage_slot = 2, f_trial_slot = 14, dense_input_slot = 18;
  static constexpr int interpolant_slot = 15;  // F3..F6 (F0..F2 come from y, y_new, f and f_new)
  static constexpr int output_slot = stage_slot + 1;  // K_1, free once F3..F6 are formed: an interpolated state

  KOKKOS_INLINE_FUNCTION void derivative(const L& l, int in_slot, const Value& u, int out_slot,
                                         const bool (&counted)[W]) const {
    if (settings.pack_step) {  // every active sample is at the same u; the others' results are unused
      int lead = 0;
      while (lead < W - 1 && !counted[lead]) ++lead;
      l.denoise_counted(in_slot, math::exp(u[lead]), out_slot, counted);
    } else {
      Value s;
      for (int w = 0; w < W; ++w) s[w] = math::exp(u[w]);
      l.denoise_counted(in_slot, s, out_slot, counted);
    }
    l.for_coordinates([&](int c) { l(out_slot, c) = l(in_slot, c) - l(out_slot, c); });
  }

  template <class Where>
  KOKKOS_INLINE_FUNCTION void operator()(const Where& where) const {
    const L l = lane.at(where);
    l.for_coordinates([&](int c) {
      for (int w = 0; w < W; ++w) l(y_slot, c)[w] = y_start(l.sample(w), c);
    });
    const int outputs = static_cast<int>(u_out.extent(0));
    for (int w = 0; w < W; ++w) {
      if (!l.holds(w)) continue;
      const int sample = l.sample(w);
      l.once([&] {
        failed(sample) = 0;
        steps(sample, 0) = steps(sample, 1) = 0;
      });
      l.for_coordinates([&](int c) { y_out(sample, 0, c) = y_start(sample, c); });
    }
    if (outputs < 2) return;
    const int last = outputs - 1;
    const bool dense = outputs > 2;  // requested times between the ends: dense output
    const double dir = direction();
    Value u, h;
    int next_output[W];
    long accepted_steps[W], rejected_steps[W];
    bool active[W];
    for (int w = 0; w < W; ++w) {
      u[w] = u_out(0);
      h[w] = dir * math::min(0.05, dir * (u_out(last) - u_out(0)));  // control adapts it within a few steps
      next_output[w] = 1;
      accepted_steps[w] = rejected_steps[w] = 0;
      active[w] = l.holds(w);  // positions past the end of the batch only keep the lock step
    }
    derivative(l, y_slot, u, stage_slot, active);
    for (;;) {
      bool any = false;
      for (int w = 0; w < W; ++w) {
        if (active[w] && accepted_steps[w] + rejected_steps[w] >= settings.max_steps) fail(l, w, active, next_output[w]);
        any = any || active[w];
      }
      if (!any) break;
      Value step;
      bool lands[W];
      for (int w = 0; w < W; ++w) {  // only the end clips a step
        lands[w] = dir * (u[w] + h[w]) >= dir * u_out(last);
        step[w] = !active[w] ? 0.0 : lands[w] ? u_out(last) - u[w] : h[w];
      }
      double own_err[W], err[W];
      trial_step(l, u, step, active, own_err);
      shared_error(own_err, active, err);
      bool accepted[W], any_accepted = false;
      const Value u_old = u;
      for (int w = 0; w < W; ++w) {
        accepted[w] = active[w] && err[w] <= 1.0;
        any_accepted = any_accepted || accepted[w];
        if (!active[w]) continue;
        if (!accepted[w]) {  // rejected (also when err is NaN): shrink and retry
          ++rejected_steps[w];
          const double shrink = math::isfinite(err[w]) ? math::max(0.2, 0.9 * math::pow(err[w], -0.125)) : 0.2;
          h[w] = step[w] * shrink;
          // With a shared step only the samples whose own error is too large fail; the others go on.
          if (!(math::fabs(h[w]) > 1e-14 * math::max(1.0, math::fabs(u[w]))) && !(own_err[w] <= 1.0)) fail(l, w, active, next_output[w]);
          continue;
        }
        ++accepted_steps[w];
        u[w] = lands[w] ? u_out(last) : u[w] + step[w];
        const double grow = err[w] > 0 ? math::min(10.0, math::max(0.2, 0.9 * math::pow(err[w], -0.125))) : 10.0;
        // A step clipped to land on the end says nothing about the step the control wants.
        if (!lands[w] || grow < 1.0) h[w] = step[w] * grow;
      }
      if (dense && any_accepted) {
        interpolant(l, u_old, step, accepted);
        write_dense_outputs(l, u_old, u, step, accepted, next_output);
      }
      l.for_coordinates([&](int c) {
        Value y = l(y_slot, c), f = l(stage_slot, c);
        const Value trial = l(trial_slot, c), f_trial = l(f_trial_slot, c);
        for (int w = 0; w < W; ++w) {
          y[w] = accepted[w] ? trial[w] : y[w];
          f[w] = accepted[w] ? f_trial[w] : f[w];  // first same as last
        }
        l(y_slot, c) = y;
        l(stage_slot, c) = f;
      });
      for (int w = 0; w < W; ++w) {
        if (!accepted[w] || !lands[w]) continue;
        const int sample = l.sample(w);
        l.for_coordinates([&](int c) { y_out(sample, last, c) = l(y_slot, c)[w]; });
        active[w] = false;
      }
    }
    for (int w = 0; w < W; ++w) {
      if (!l.holds(w)) continue;
      const int sample = l.sample(w);
      l.once([&] {
        steps(sample, 0) = accepted_steps[w];
        steps(sample, 1) = rejected_steps[w];
      });
    }
  }

  // After an accepted step from u_old (y in y_slot, f in stage_slot) of size step (y_new in
  // trial_slot, f_new in f_trial_slot): the three extra stages of the dense output, counted for the
  // accepted samples, then F3..F6 of the interpolant into interpolant_slot.. (over K_13..K_15).
  KOKKOS_INLINE_FUNCTION void interpolant(const L& l, const Value& u_old, const Value& step,
                                          const bool (&accepted)[W]) const {
    for (int i = 0; i < 3; ++i) {
      const int stage = Dop853Coefficients::stages + 1 + i;  // 13, 14, 15: K_j sits in stage_slot + j
      l.for_coordinates([&](int c) {
        Value acc = 0.0;
        for (int j = 0; j < stage; ++j) acc += k.dense_a[i][j] * l(stage_slot + j, c);
        l(dense_input_slot, c) = l(y_slot, c) + step * acc;
      });
      derivative(l, dense_input_slot, u_old + k.dense_c[i] * step, stage_slot + stage, accepted);
    }
    l.for_coordinates([&](int c) {
      Value f[4] = {0.0, 0.0, 0.0, 0.0};
      for (int j = 0; j < Dop853Coefficients::dense_stages; ++j) {
        const Value kj = l(stage_slot + j, c);
        for (int r = 0; r < 4; ++r) f[r] += k.dense_d[r][j] * kj;
      }
      for (int r = 0; r < 4; ++r) l(interpolant_slot + r, c) = step * f[r];
    });
  }

  // +1 when u increases from u_out(0) (the likelihood), -1 when it decreases (sampling). Multiplying
  // by -1 is exact, so the sampling direction steps exactly as a kernel written for it alone.
  KOKKOS_INLINE_FUNCTION double direction() const {
    return u_out(u_out.extent(0) - 1) > u_out(0) ? 1.0 : -1.0;
  }

  // y_out at every requested u the accepted step passed (u_m between u_old and u_new, before the
  // last): the interpolant at theta = (u_m - u_old) / step, evaluated for the whole pack at once
  // (each sample at its own theta), one requested time per sample and round; a requested u the step
  // ends on exactly gets y_new.
  KOKKOS_INLINE_FUNCTION void write_dense_outputs(const L& l, const Value& u_old, const Value& u_new, const Value& step,
                                                  const bool (&accepted)[W], int (&next_output)[W]) const {
    const int last = static_cast<int>(u_out.extent(0)) - 1;
    const double dir = direction();
    for (;;) {
      bool pending[W], any = false;
      Value theta = 0.0;
      for (int w = 0; w < W; ++w) {
        const int m = next_output[w];
        pending[w] = accepted[w] && m < last && dir * u_out(m) <= dir * u_new[w];
        if (pending[w]) theta[w] = u_out(m) == u_new[w] ? 1.0 : (u_out(m) - u_old[w]) / step[w];
        any = any || pending[w];
      }
      if (!any) return;
      l.for_coordinates([&](int c) {
        const Value y = l(y_slot, c), y_new = l(trial_slot, c), f = l(stage_slot, c), f_new = l(f_trial_slot, c);
        const Value f3 = l(interpolant_slot, c), f4 = l(interpolant_slot + 1, c);
        const Value f5 = l(interpolant_slot + 2, c), f6 = l(interpolant_slot + 3, c);
        const Value s = 1.0 - theta, dy = y_new - y, f1 = step * f - dy, f2 = 2.0 * dy - step * (f + f_new);
        Value out = y + theta * (dy + s * (f1 + theta * (f2 + s * (f3 + theta * (f4 + s * (f5 + theta * f6))))));
        for (int w = 0; w < W; ++w) out[w] = theta[w] == 1.0 ? y_new[w] : out[w];
        l(output_slot, c) = out;
      });
      for (int w = 0; w < W; ++w) {  // each sample's coordinates are contiguous in y_out
        if (!pending[w]) continue;
        const int sample = l.sample(w), m = next_output[w]++;
        l.for_coordinates([&](int c) { y_out(sample, m, c) = l(output_slot, c)[w]; });
      }
    }
  }

  // err <- own_err per sample, or with pack_step the largest over the active samples (a NaN wins).
  KOKKOS_INLINE_FUNCTION void shared_error(const double (&own_err)[W], const bool (&active)[W], double (&err)[W]) const {
    double largest = 0.0;
    for (int w = 0; w < W; ++w)
      if (active[w] && (own_err[w] > largest || own_err[w] != own_err[w])) largest = own_err[w];
    for (int w = 0; w < W; ++w) err[w] = settings.pack_step ? largest : own_err[w];
  }

  // Marks sample w failed; the times it did not reach hold NaN (y_out is not initialised).
  KOKKOS_INLINE_FUNCTION void fail(const L& l, int w, bool (&active)[W], int first_missing) const {
    const int sample = l.sample(w);
    l.once([&] { failed(sample) = 1; });
    const int outputs = static_cast<int>(u_out.extent(0));
    for (int m = first_missing; m < outputs; ++m)
      l.for_coordinates([&](int c) { y_out(sample, m, c) = math::quiet_nan(); });
    active[w] = false;
  }

  // One DOP853 step of size h[w] from (u[w], y) for every sample: trial solution in trial_slot, f
  // there in f_trial_slot, Hairer's error norm in err[w] (accept when <= 1).
  KOKKOS_INLINE_FUNCTION void trial_step(const L& l, const Value& u, const Value& h, const bool (&counted)[W],
                                         double (&err)[W]) const {
    const int n = l.dim();
    for (int s = 1; s < Dop853Coefficients::stages; ++s) {
      l.for_coordinates([&](int c) {
        Value acc = 0.0;
        for (int j = 0; j < s; ++j) acc += k.a[s][j] * l(stage_slot + j, c);
        l(trial_slot, c) = l(y_slot, c) + h * acc;
      });
      derivative(l, trial_slot, u + k.c[s] * h, stage_slot + s, counted);
    }
    l.for_coordinates([&](int c) {
      Value acc = 0.0;
      for (int j = 0; j < Dop853Coefficients::stages; ++j) acc += k.b[j] * l(stage_slot + j, c);
      l(trial_slot, c) = l(y_slot, c) + h * acc;
    });
    derivative(l, trial_slot, u + h, f_trial_slot, counted);
    // Sums over coordinates of the squared scaled error estimates of orders 5 and 3.
    const auto squared_error = [&](const double* e, int c) {
      const Value y = l(y_slot, c), trial = l(trial_slot, c);
      Value est = e[12] * l(f_trial_slot, c);
      for (int j = 0; j < Dop853Coefficients::stages; ++j) est += e[j] * l(stage_slot + j, c);
      Value sq;
      for (int w = 0; w < W; ++w) {
        const double scale = settings.atol + settings.rtol * math::max(math::fabs(y[w]), math::fabs(trial[w]));
        sq[w] = (est[w] / scale) * (est[w] / scale);
      }
      return sq;
    };
    const Value err5 = l.sum_values([&](int c) { return squared_error(k.e5, c); });
    const Value err3 = l.sum_values([&](int c) { return squared_error(k.e3, c); });
    for (int w = 0; w < W; ++w)
      err[w] = err5[w] == 0.0 && err3[w] == 0.0 ? 0.0 : math::fabs(h[w]) * err5[w] / math::sqrt(n * (err5[w] + 0.01 * err3[w]));
  }
};

template <int W, class Model>
void dop853(const std::string& label, const Model& model, Kokkos::View<const double**> y_start,
            Kokkos::View<const double*> u_out, const Dop853Settings& settings, const lane::NfeCounter& nfe,
            const States& y_out, const Kokkos::View<int*>& failed, const Kokkos::View<long**>& steps,
            lane::TeamShape team_shape) {
  if constexpr (W != pack_step_width)
    if (settings.pack_step)
      return dop853<pack_step_width>(label, model, y_start, u_out, settings, nfe, y_out, failed, steps, team_shape);
  const lane::KernelLayout layout{settings.in_teams() ? lane::KernelLayout::teams : lane::KernelLayout::packs,
                                  team_shape};
  const auto launch = [&](const auto& policy, const auto& lane) {
    using L = std::decay_t<decltype(lane)>;
    Kokkos::parallel_for(label + "::dop853", policy,
                         Dop853Kernel<L>{dop853_coefficients(), settings, lane, y_start, u_out, y_out, failed, steps});
  };
  lane::on_layout<W>(label, layout, static_cast<int>(y_start.extent(0)), dop853_slots, model, nfe, launch);
}

}  // namespace pfode::reference
