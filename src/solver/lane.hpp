// The per-sample view that solver steps work through: workspace slots of one sample, and the
// model evaluation that counts itself (NFE is counted where it is spent, never inferred).
#pragma once

#include "model/mixture.hpp"

namespace pfode::solver {

// Workspace layout (sample, slot, coordinate): with Kokkos' default layouts the sample index is
// the contiguous one on GPUs (coalesced across threads) and the coordinate one on CPUs.
using Workspace = Kokkos::View<double***>;
using NfeCounter = Kokkos::View<long*>;

// Slots every driver uses; a method's own slots start at first_method_slot.
inline constexpr int state_slot = 0;    // x at the current grid point (schedule scale)
inline constexpr int scratch_slot = 1;  // stage inputs, exact states while priming history
inline constexpr int first_method_slot = 2;

struct Lane {
  Workspace ws;
  model::DiagonalMixture model;
  NfeCounter nfe;
  int sample = 0;

  KOKKOS_INLINE_FUNCTION int dim() const { return model.dim; }
  KOKKOS_INLINE_FUNCTION double& operator()(int slot, int j) const { return ws(sample, slot, j); }

  // out_slot <- D(in_slot / scale, s): one model evaluation of this sample.
  KOKKOS_INLINE_FUNCTION void denoise(int in_slot, double scale, double s, int out_slot) const {
    const double inv_scale = 1.0 / scale;
    const auto& w = ws;
    const int i = sample;
    model.denoise([&](int j) { return w(i, in_slot, j) * inv_scale; }, s,
                  [&](int j) -> double& { return w(i, out_slot, j); });
    nfe(sample) += 1;
  }
};

}  // namespace pfode::solver
