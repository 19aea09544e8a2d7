// The view that solver steps and the DOP853 reference work through: the workspace slots of one
// pack of W samples (one thread's share of the batch, model/pack.hpp), and the evaluation of the
// model -- any kind that meets model/concept.hpp -- that counts itself (NFE is counted where it is
// spent, never inferred).
#pragma once

#include <string>
#include <type_traits>

#include "lane/layout.hpp"
#include "model/pack.hpp"

namespace pfode::lane {

template <class Model, int W>
struct PackLane {
  using Value = model::Pack<W>;
  static constexpr int width = W;

  // (pack, slot, coordinate): with Kokkos' default layouts the pack index is the contiguous one on
  // GPUs and the coordinate one on CPUs. The last slot holds the model's rescaled input y = x / scale.
  Kokkos::View<Value***> ws;
  Kokkos::View<Value**> model_scratch;  // (pack, the model's s_scratch_size() + value_scratch_size())
  Model model;
  NfeCounter nfe;  // per sample
  EvalTrace trace;
  int samples = 0;
  int pack = 0;

  // This lane placed on pack p (one thread's share).
  KOKKOS_INLINE_FUNCTION PackLane at(int p) const {
    PackLane l = *this;
    l.pack = p;
    return l;
  }

  KOKKOS_INLINE_FUNCTION int dim() const { return model.dimension(); }
  KOKKOS_INLINE_FUNCTION Value& operator()(int slot, int j) const { return ws(pack, slot, j); }

  // The loops of solver steps: body(c) for every coordinate, and the sum of term(c) over them. The
  // pack lane loops; the team lane (lane/team_lane.hpp) spreads coordinates over vector lanes.
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

  // out_slot <- D(in_slot / scale, s) with each sample's own scale and s (adaptive step control),
  // an evaluation counted for the samples marked in `counted`. A sample's rescaled input is the
  // one denoise computes (x * 1.0 is x where its scale is 1).
  KOKKOS_INLINE_FUNCTION void denoise_own(int in_slot, const Value& scale, const Value& s, int out_slot,
                                          const bool (&counted)[W]) const {
    bool rescale = false;
    for (int i = 0; i < W; ++i) rescale = rescale || scale[i] != 1.0;
    int y_slot = in_slot;
    if (rescale) {
      const Value inv_scale = 1.0 / scale;
      y_slot = static_cast<int>(ws.extent(1)) - 1;
      for (int j = 0; j < dim(); ++j) ws(pack, y_slot, j) = ws(pack, in_slot, j) * inv_scale;
    }
    denoise_counted(y_slot, s, out_slot, counted);
  }

  // out_slot <- D(in_slot, s) in y space, s shared by the pack (a double) or each sample's own (a
  // Value, per-sample step control); an evaluation is counted for the samples marked in `counted`
  // (the others idle in lock step).
  template <class S>
  KOKKOS_INLINE_FUNCTION void denoise_counted(int in_slot, const S& s, int out_slot, const bool (&counted)[W]) const {
    evaluate(in_slot, s, out_slot);
    for (int i = 0; i < W; ++i)
      if (holds(i) && counted[i]) {
        if constexpr (std::is_same_v<S, double>) trace.record(nfe, sample(i), s);
        else trace.record(nfe, sample(i), s[i]);
        nfe(sample(i)) += 1;
      }
  }

  // The model on y_slot at a shared (double) or per-sample (Value) s. The pack's scratch row holds
  // the model's terms of s (one double each for a shared s) and then its per-sample values.
  template <class S>
  KOKKOS_INLINE_FUNCTION void evaluate(int y_slot, const S& s, int out_slot) const {
    const auto& w = ws;
    const auto& row = model_scratch;
    const int p = pack, first_value = model.s_scratch_size();
    const auto samples = [&](int position) { return sample(position); };
    const auto in = [&](int j) -> const Value& { return w(p, y_slot, j); };
    const auto to = [&](int j) -> Value& { return w(p, out_slot, j); };
    const auto values = [&](int i) -> Value& { return row(p, first_value + i); };
    if constexpr (std::is_same_v<S, double>)
      model.template denoise<W>(samples, in, s, to, [&](int i) -> double& { return row(p, i)[0]; }, values);
    else
      model.template denoise<W>(samples, in, s, to, [&](int i) -> Value& { return row(p, i); }, values);
  }
};

template <int W>
int packs_of(int samples) {
  return (samples + W - 1) / W;
}

// Workspace of `slots` slots (plus the model's) for `samples` samples in packs of W.
template <int W, class Model>
PackLane<Model, W> make_pack_lane(const std::string& label, int samples, int slots, const Model& model,
                                  const NfeCounter& nfe) {
  const int packs = packs_of<W>(samples);
  PackLane<Model, W> lane;
  lane.ws = Kokkos::View<model::Pack<W>***>(label + "::workspace", packs, slots + 1, model.dimension());
  lane.model_scratch = Kokkos::View<model::Pack<W>**>(label + "::model_scratch", packs,
                                                      model.s_scratch_size() + model.value_scratch_size());
  lane.model = model;
  lane.nfe = nfe;
  lane.samples = samples;
  return lane;
}

}  // namespace pfode::lane
