// How the kernels map a batch of samples onto the machine: one thread per pack of samples
// (lane/pack_lane.hpp), or teams of threads, one sample each, with vector lanes over coordinates
// (lane/team_lane.hpp). Every solver, the adaptive ones included, and the DOP853 reference run in
// either.
#pragma once

#include <stdexcept>
#include <string>

#include "compat/kokkos_compat.hpp"

namespace pfode::lane {

// Samples per thread of the solver drivers: a SIMD pack on CPUs; one per thread on GPUs,
// where neighbouring threads then read neighbouring samples (coalesced).
#if defined(KOKKOS_ENABLE_CUDA) || defined(KOKKOS_ENABLE_HIP) || defined(KOKKOS_ENABLE_SYCL)
inline constexpr bool gpu_backend = true;
#else
inline constexpr bool gpu_backend = false;
#endif
inline constexpr int pack_width = gpu_backend ? 1 : 16;

// Model evaluations per sample, counted by the lanes where they are spent (never inferred).
using NfeCounter = Kokkos::View<long*>;

// The times of one sample's model evaluations, for the cell's trace: s(k) is the s of its k-th
// evaluation, written where the evaluation is counted (empty: no trace; the LTE runs and the
// reference keep it empty). Evaluations past its length are counted but not kept.
struct EvalTrace {
  Kokkos::View<double*> s;
  int sample = 0;

  KOKKOS_INLINE_FUNCTION void record(const NfeCounter& nfe, int sample_index, double s_value) const {
    if (s.extent(0) == 0 || sample_index != sample) return;
    const long k = nfe(sample_index);
    if (k < static_cast<long>(s.extent(0))) s(k) = s_value;
  }
};

// Launch shape of the team kernels: threads (samples) per team and vector lanes per thread; 0 x 0
// stands for default_team_shape of the model's dimension.
struct TeamShape {
  int team_size = 0;
  int vector_length = 0;
};

// On GPUs: as many lanes as coordinates, up to a warp of 32 (a power of two), and teams of 128
// threads. Host backends run vector loops in order and their packs already vectorise over
// samples, so teams there are one thread of one lane.
inline TeamShape default_team_shape(int dim) {
  if (!gpu_backend) return {1, 1};
  int lanes = 1;
  while (lanes < dim && lanes < 32) lanes *= 2;
  return {128 / lanes, lanes};
}

struct KernelLayout {
  enum Kind { packs, teams } kind = packs;
  TeamShape team;  // teams only; default_team_shape of the model's dimension unless set
};

// The layout `auto` resolves to: teams on GPUs, where one thread per sample would leave most of
// the device idle (a batch of 256 samples is 256 threads) and loop over every coordinate alone;
// packs on CPUs, whose SIMD lanes the packs of samples already fill.
inline KernelLayout::Kind auto_layout() { return gpu_backend ? KernelLayout::teams : KernelLayout::packs; }

inline const char* layout_name(KernelLayout::Kind kind) { return kind == KernelLayout::teams ? "teams" : "packs"; }

// run.layout as written ("auto", "packs", "teams"), resolved; throws one line naming the problem.
inline KernelLayout::Kind parse_layout(const std::string& name) {
  if (name == "auto") return auto_layout();
  if (name == "packs") return KernelLayout::packs;
  if (name == "teams") return KernelLayout::teams;
  throw std::invalid_argument("run.layout: unknown '" + name + "' (auto | packs | teams)");
}

}  // namespace pfode::lane
