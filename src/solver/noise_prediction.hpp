// The noise prediction eps = (y - D(y, s)) / s, y = x / alpha, written into a lane's slot: the
// quantity the noise-prediction solvers (DPM-Solver, DEIS, PNDM) combine and the slope dy/ds of
// EDM's Heun method.
#pragma once

#include "solver/slots.hpp"
#include "solver/step_grid.hpp"

namespace pfode::solver {

// out <- eps for the y held in `in` (y units, scale 1) at s.
template <class L>
KOKKOS_INLINE_FUNCTION void eps_of_y(const L& lane, int in, double s, int out) {
  lane.denoise(in, 1.0, s, out);
  lane.for_coordinates([&](int c) { lane(out, c) = (lane(in, c) - lane(out, c)) / s; });
}

// out <- eps at grid point j for the x held in `in` (the schedule's scale).
template <class L>
KOKKOS_INLINE_FUNCTION void eps_at_grid_point(const L& lane, int in, const StepGrid& g, int j, int out) {
  lane.denoise(in, g.alpha(j), g.s(j), out);
  const double inv_alpha = 1.0 / g.alpha(j), inv_s = 1.0 / g.s(j);
  lane.for_coordinates([&](int c) { lane(out, c) = (lane(in, c) * inv_alpha - lane(out, c)) * inv_s; });
}

}  // namespace pfode::solver
