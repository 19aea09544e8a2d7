// Per-sample adaptive DOP853 on the canonical PF-ODE in u = log s (DESIGN.md section 1):
//   dy/du = y - D(y, e^u),
// integrated from u_0 to the last requested u (down for sampling, up for the likelihood), with
// Hairer's error norm and step-size control, 12 model evaluations per step (FSAL). The requested u
// between the two ends come from DOP853's dense output of order 7: they never shorten a step, so
// the steps, and the cost, are the same for 3 or 3000 requested times. With any such time every
// accepted step computes the interpolant's three extra stages (15 evaluations per accepted step
// instead of 12). The kernel is reference/dop853_kernel.hpp.
#pragma once

#include <string>

#include "lane/layout.hpp"
#include "model/kinds.hpp"
#include "reference/states.hpp"

namespace pfode::reference {

struct Dop853Settings {
  double rtol = 1e-13, atol = 1e-13;
  long max_steps = 200000;  // attempted steps per sample, over the whole integration
  // false: every sample has its own step-size control, so its solution does not depend on any
  // other sample. true: the samples of a pack share each step (the largest error norm decides),
  // as a system of all of them stacked would, so the model computes its s-only terms once per pack.
  bool pack_step = false;
  // With each sample's own steps: run as teams, one sample per thread with its coordinates over
  // vector lanes (lane/team_lane.hpp), instead of one thread per pack.
  bool teams = false;

  // Whether the solve runs in teams (shared steps always run in packs).
  bool in_teams() const { return teams && !pack_step; }
};

// Slots: 0 y, 1 stage input / trial solution, 2..13 stages K_0..K_11, 14 f at the trial solution
// (K_12), 15..17 the dense-output stages K_13..K_15, 18 their input; after an accepted step
// 15..18 hold the interpolant's F3..F6.
inline constexpr int dop853_slots = 19;

// Samples per pack when they share steps (Dop853Settings::pack_step): fixed on every backend, so
// that a sample's solution, which then depends on its pack, is the same everywhere.
inline constexpr int pack_step_width = 16;

// y_out(sample, m, :) <- the solution at u_out(m) for every sample of y_start, in packs of W (of
// pack_step_width with shared steps), or in teams of team_shape with settings.teams; nfe counts
// each sample's evaluations (1 + 12 x its attempted steps, + 3 x its accepted steps when times
// between the ends are requested), steps(sample, :) its accepted and rejected steps, failed marks
// the samples that did not get through. On whichever kind of model `model` holds.
void dop853(const std::string& label, const model::DeviceModel& model, Kokkos::View<const double**> y_start,
            Kokkos::View<const double*> u_out, const Dop853Settings& settings, const lane::NfeCounter& nfe,
            const States& y_out, const Kokkos::View<int*>& failed, const Kokkos::View<long**>& steps,
            lane::TeamShape team_shape = {});

// The same on one kind of model (model/concept.hpp): defined in reference/dop853_kernel.hpp,
// compiled with W = pack_width for every kind of model/kinds.hpp in its own translation unit
// (src/kinds/).
template <int W, class Model>
void dop853(const std::string& label, const Model& model, Kokkos::View<const double**> y_start,
            Kokkos::View<const double*> u_out, const Dop853Settings& settings, const lane::NfeCounter& nfe,
            const States& y_out, const Kokkos::View<int*>& failed, const Kokkos::View<long**>& steps,
            lane::TeamShape team_shape = {});

}  // namespace pfode::reference
