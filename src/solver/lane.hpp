// The view that solver steps work through: the workspace slots of one pack of W samples (one
// thread's share of the batch, model/pack.hpp), and the model evaluation that counts itself (NFE
// is counted where it is spent, never inferred).
#pragma once

#include <string>

#include "model/mixture.hpp"

namespace pfode::solver {

// Samples per thread of the fixed-grid drivers: a SIMD pack on CPUs; one per thread on GPUs,
// where neighbouring threads then read neighbouring samples (coalesced).
#if defined(KOKKOS_ENABLE_CUDA) || defined(KOKKOS_ENABLE_HIP) || defined(KOKKOS_ENABLE_SYCL)
inline constexpr bool gpu_backend = true;
#else
inline constexpr bool gpu_backend = false;
#endif
inline constexpr int pack_width = gpu_backend ? 1 : 16;

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

// Slots every driver uses; a method's own slots start at first_method_slot.
inline constexpr int state_slot = 0;    // x at the current grid point (schedule scale)
inline constexpr int scratch_slot = 1;  // stage inputs, exact states while priming history
inline constexpr int first_method_slot = 2;

template <int W>
struct Lane {
  using Value = model::Pack<W>;
  static constexpr int width = W;

  // (pack, slot, coordinate): with Kokkos' default layouts the pack index is the contiguous one on
  // GPUs and the coordinate one on CPUs. The last slot holds the model's rescaled input y = x / scale.
  Kokkos::View<Value***> ws;
  Kokkos::View<Value**> model_scratch;  // (pack, coordinate)
  model::DiagonalMixture model;
  NfeCounter nfe;  // per sample
  EvalTrace trace;
  int samples = 0;
  int pack = 0;

  // This lane placed on pack p (one thread's share).
  KOKKOS_INLINE_FUNCTION Lane at(int p) const {
    Lane l = *this;
    l.pack = p;
    return l;
  }

  KOKKOS_INLINE_FUNCTION int dim() const { return model.dim; }
  KOKKOS_INLINE_FUNCTION Value& operator()(int slot, int j) const { return ws(pack, slot, j); }

  // The loops of solver steps: body(c) for every coordinate, and the sum of term(c) over them. The
  // pack lane loops; the team lane (solver/team_lane.hpp) spreads coordinates over vector lanes.
  template <class F>
  KOKKOS_INLINE_FUNCTION void for_coordinates(const F& body) const {
    for (int c = 0; c < dim(); ++c) body(c);
  }
  template <class F>
  KOKKOS_INLINE_FUNCTION double sum_coordinates(const F& term) const {
    double sum = 0.0;
    for (int c = 0; c < dim(); ++c) sum += term(c);
    return sum;
  }
  // Sum over coordinates of term(c), a Value: one sum per sample of the pack.
  template <class F>
  KOKKOS_INLINE_FUNCTION Value sum_values(const F& term) const {
    Value sum = 0.0;
    for (int c = 0; c < dim(); ++c) sum += term(c);
    return sum;
  }
  // body() once for the pack (the team lane: once per sample, not on every vector lane).
  template <class F>
  KOKKOS_INLINE_FUNCTION void once(const F& body) const {
    body();
  }
  // Sample held in position w; the positions past the end of the batch repeat the last sample
  // (their results are discarded), so every position computes on valid numbers.
  KOKKOS_INLINE_FUNCTION int sample(int w) const {
    const int p = pack * W + w;
    return p < samples ? p : samples - 1;
  }
  KOKKOS_INLINE_FUNCTION bool holds(int w) const { return pack * W + w < samples; }

  // out_slot <- D(in_slot / scale, s): one model evaluation of each sample of the pack. The input
  // is rescaled into the last slot, unless scale is 1 (y-space callers, the reference).
  KOKKOS_INLINE_FUNCTION void denoise(int in_slot, double scale, double s, int out_slot) const {
    int y_slot = in_slot;
    if (scale != 1.0) {
      const double inv_scale = 1.0 / scale;
      y_slot = static_cast<int>(ws.extent(1)) - 1;
      for (int j = 0; j < dim(); ++j) ws(pack, y_slot, j) = ws(pack, in_slot, j) * inv_scale;
    }
    bool every[W];
    for (int i = 0; i < W; ++i) every[i] = true;
    denoise_counted(y_slot, s, out_slot, every);
  }

  // denoise at this sample's own s (adaptive step control): a lane of one sample.
  KOKKOS_INLINE_FUNCTION void denoise_own(int in_slot, double scale, double s, int out_slot) const {
    static_assert(W == 1, "a pack's samples share s");
    denoise(in_slot, scale, s, out_slot);
  }

  // out_slot <- D(in_slot, s) in y space, s shared by the pack (a double) or each sample's own (a
  // Value, per-sample step control); an evaluation is counted for the samples marked in `counted`
  // (the others idle in lock step).
  template <class S>
  KOKKOS_INLINE_FUNCTION void denoise_counted(int in_slot, const S& s, int out_slot, const bool (&counted)[W]) const {
    const auto& row = model_scratch;
    const int p = pack;
    if constexpr (std::is_same_v<S, double>)
      evaluate(in_slot, s, out_slot, [&](int j) -> double& { return row(p, j)[0]; });
    else
      evaluate(in_slot, s, out_slot, [&](int j) -> Value& { return row(p, j); });
    for (int i = 0; i < W; ++i)
      if (holds(i) && counted[i]) {
        if constexpr (std::is_same_v<S, double>) trace.record(nfe, sample(i), s);
        else trace.record(nfe, sample(i), s[i]);
        nfe(sample(i)) += 1;
      }
  }

  // The model on y_slot at a shared (double) or per-sample (Value) s; scratch(j) to match.
  template <class S, class Scratch>
  KOKKOS_INLINE_FUNCTION void evaluate(int y_slot, const S& s, int out_slot, const Scratch& scratch) const {
    const auto& w = ws;
    const int p = pack;
    model.denoise<W>([&](int j) -> const Value& { return w(p, y_slot, j); }, s,
                     [&](int j) -> Value& { return w(p, out_slot, j); }, scratch);
  }
};

template <int W>
int packs_of(int samples) {
  return (samples + W - 1) / W;
}

// Workspace of `slots` slots (plus the model's) for `samples` samples in packs of W.
template <int W>
Lane<W> make_lane(const std::string& label, int samples, int slots, const model::DiagonalMixture& model,
                  const NfeCounter& nfe) {
  const int packs = packs_of<W>(samples);
  Lane<W> lane;
  lane.ws = Kokkos::View<model::Pack<W>***>(label + "::workspace", packs, slots + 1, model.dim);
  lane.model_scratch = Kokkos::View<model::Pack<W>**>(label + "::model_scratch", packs, model.dim);
  lane.model = model;
  lane.nfe = nfe;
  lane.samples = samples;
  return lane;
}

}  // namespace pfode::solver
