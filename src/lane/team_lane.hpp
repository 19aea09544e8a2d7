// Hierarchical parallelism: the lane solver steps work through when a team of threads advances
// team_size samples, one per thread, and each thread spreads its sample's coordinates over its
// vector lanes. When the team's samples share s (fixed-grid solvers) the team computes the model's
// s-only terms once, in team scratch; samples with their own steps (adaptive solvers, the DOP853
// reference) compute their own, in thread scratch. On GPUs the lanes of a warp read neighbouring
// coordinates of one sample (coalesced), and a sample's work is spread over up to 32 lanes instead
// of one thread looping over every coordinate. The interface is PackLane<Model, 1>'s
// (lane/pack_lane.hpp), so every solver and the DOP853 reference run on either.
#pragma once

#include <string>

#include "lane/layout.hpp"
#include "model/pack.hpp"

namespace pfode::lane {

template <class Model, class Member>
struct TeamLane {
  using Value = model::Pack<1>;
  static constexpr int width = 1;
  using Shared = Kokkos::View<double*, typename Member::execution_space::scratch_memory_space, Kokkos::MemoryUnmanaged>;

  // (position, slot, coordinate) with the coordinate contiguous, for the vector lanes. Positions
  // past the batch (the last team's spare threads) have their own rows and compute on the last
  // sample, so every thread takes part in the team's barriers; their results are discarded.
  Kokkos::View<Value***, Kokkos::LayoutRight> ws;
  Model model;
  NfeCounter nfe;  // per sample
  EvalTrace trace;
  int samples = 0;
  int scratch_level = 0;
  // Set by at(): the calling thread, its position in the batch, the model's team scratch (terms
  // of the team's shared s) and the thread's own (terms of its own s).
  const Member* member = nullptr;
  int position = 0;
  Shared team_scratch, thread_scratch;

  KOKKOS_INLINE_FUNCTION TeamLane at(const Member& m) const {
    TeamLane l = *this;
    l.member = &m;
    l.position = m.league_rank() * m.team_size() + m.team_rank();
    l.team_scratch = Shared(m.team_scratch(scratch_level), model.team_scratch_size());
    l.thread_scratch = Shared(m.thread_scratch(scratch_level), model.thread_scratch_size());
    return l;
  }

  KOKKOS_INLINE_FUNCTION int dim() const { return model.dimension(); }
  KOKKOS_INLINE_FUNCTION Value& operator()(int slot, int j) const { return ws(position, slot, j); }
  KOKKOS_INLINE_FUNCTION int sample(int) const { return position < samples ? position : samples - 1; }
  KOKKOS_INLINE_FUNCTION bool holds(int) const { return position < samples; }

  template <class F>
  KOKKOS_INLINE_FUNCTION void for_coordinates(const F& body) const {
    Kokkos::parallel_for(Kokkos::ThreadVectorRange(*member, dim()), body);
  }
  template <class F>
  KOKKOS_INLINE_FUNCTION double sum_coordinates(const F& term) const {
    double sum = 0.0;
    Kokkos::parallel_reduce(
        Kokkos::ThreadVectorRange(*member, dim()), [&](int c, double& partial) { partial += term(c); }, sum);
    return sum;
  }
  template <class F>
  KOKKOS_INLINE_FUNCTION void once(const F& body) const {
    Kokkos::single(Kokkos::PerThread(*member), body);
  }

  // out_slot <- D(in_slot / scale, s), called by every thread of the team together (the grid, and
  // so every s, is the team's).
  KOKKOS_INLINE_FUNCTION void denoise(int in_slot, double scale, double s, int out_slot) const {
    evaluate(rescaled(in_slot, scale), s, out_slot, true);
    count(s);
  }

  // denoise at the thread's own s (adaptive step control: the team's threads step independently,
  // so no barriers), counted when counted[0] says so; the pack lane's interface.
  KOKKOS_INLINE_FUNCTION void denoise_own(int in_slot, double scale, double s, int out_slot,
                                          const bool (&counted)[1]) const {
    evaluate(rescaled(in_slot, scale), s, out_slot, false);
    if (counted[0]) count(s);
  }

  // out_slot <- D(in_slot, s) in y space at the thread's own s (per-sample step control: no team
  // barriers), counted when counted[0] says so; a one-sample PackLane's interface, so the DOP853
  // kernel runs on it.
  template <class S>
  KOKKOS_INLINE_FUNCTION void denoise_counted(int in_slot, const S& s, int out_slot, const bool (&counted)[1]) const {
    evaluate(in_slot, static_cast<double>(s), out_slot, false);
    if (counted[0]) count(static_cast<double>(s));
  }

  // The model on y_slot at the team's s (team_s, shared terms in team scratch) or the thread's own.
  KOKKOS_INLINE_FUNCTION void evaluate(int y_slot, double s, int out_slot, bool team_s) const {
    const auto& w = ws;
    const int p = position;
    model.denoise_team(
        *member, sample(0), [&](int j) -> double { return w(p, y_slot, j)[0]; }, s,
        [&](int j) -> double& { return w(p, out_slot, j)[0]; }, team_s, team_scratch, thread_scratch);
  }

  // One model evaluation (at s) of the thread's sample, unless it is a spare position past the batch.
  KOKKOS_INLINE_FUNCTION void count(double s) const {
    if (holds(0)) once([&] {
      trace.record(nfe, sample(0), s);
      nfe(sample(0)) += 1;
    });
  }

  // The slot holding in_slot / scale: in_slot itself when scale is 1 (y-space callers), else the
  // last slot, rescaled into.
  KOKKOS_INLINE_FUNCTION int rescaled(int in_slot, double scale) const {
    if (scale == 1.0) return in_slot;
    const double inv_scale = 1.0 / scale;
    const int y_slot = static_cast<int>(ws.extent(1)) - 1;
    for_coordinates([&](int j) { ws(position, y_slot, j) = ws(position, in_slot, j) * inv_scale; });
    return y_slot;
  }

  // Sum over coordinates of term(c), a Value; the pack lane's sum_values.
  template <class F>
  KOKKOS_INLINE_FUNCTION Value sum_values(const F& term) const {
    return Value(sum_coordinates([&](int c) { return term(c)[0]; }));
  }
};

// The team policy over `samples` samples with its scratch, and the lane to match; the level-0
// (fast) scratch is used when the model's terms fit in it.
template <class Model, class Policy = Kokkos::TeamPolicy<>>
std::pair<Policy, TeamLane<Model, typename Policy::member_type>> make_team_launch(const std::string& label,
                                                                                  int samples, int slots,
                                                                                  const Model& model,
                                                                                  const NfeCounter& nfe,
                                                                                  TeamShape shape) {
  if (shape.team_size < 1 || shape.vector_length < 1) shape = default_team_shape(model.dimension());
  const int teams = (samples + shape.team_size - 1) / shape.team_size;
  using Lane = TeamLane<Model, typename Policy::member_type>;
  Lane lane;
  lane.ws = decltype(lane.ws)(label + "::workspace", static_cast<size_t>(teams) * shape.team_size, slots + 1,
                              model.dimension());
  lane.model = model;
  lane.nfe = nfe;
  lane.samples = samples;
  // The model's s-only terms: per team (shared s) and per thread (its own s).
  using Shared = typename Lane::Shared;
  const size_t per_team = Shared::shmem_size(model.team_scratch_size());
  const size_t per_thread = Shared::shmem_size(model.thread_scratch_size());
  const size_t bytes = per_team + per_thread * shape.team_size;
  lane.scratch_level = bytes <= static_cast<size_t>(Policy::scratch_size_max(0)) ? 0 : 1;
  Policy policy(teams, shape.team_size, shape.vector_length);
  policy.set_scratch_size(lane.scratch_level, Kokkos::PerTeam(per_team), Kokkos::PerThread(per_thread));
  return {policy, lane};
}

}  // namespace pfode::lane
