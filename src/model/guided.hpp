// Classifier-free guidance on a class-conditional diagonal mixture (DESIGN.md section 4): each
// component belongs to one class, class c's mixture is its components with their weights
// renormalised, and every sample has a class c. With guidance weight w, on in the interval
// s_lo <= s <= s_hi,
//   D_w(y, s) = (1 + w) D(y, s | c) - w D(y, s),
// D(y | c) the class's mixture and D(y) the unconditional mixture of every component (the class
// weights are the sums of their components' weights); outside the interval, and for w = 0, it is
// D(y | c) itself, bit for bit. D_w is not the denoiser of any distribution for w > 0.
// A sample's class is read through the concept's samples(w) (model/concept.hpp): a given list
// cycled over the batch, or drawn from the counter generator with the class weights.
// Cost: one conditional and one unconditional mixture per evaluation where guidance is on; a pack
// whose samples have several classes evaluates each present class's mixture for the whole pack
// (their components add up to the unconditional mixture's at most).
// A device model kind (model/concept.hpp) with per-sample data: it provides with_samples.
#pragma once

#include <cstdint>

#include "compat/kokkos_compat.hpp"
#include "model/counter_rng.hpp"
#include "model/mixture.hpp"

namespace pfode::model {

// The counter stream of the class draws (model/counter_rng.hpp).
inline constexpr std::uint32_t class_stream = 5;

// Class of batch sample p: given[p mod n] when classes are given, else the first class c with
// u < cumulative[c], u uniform keyed by the run seed (as the start states are) with the counter
// (p, class_seed, stream 5): every run seed draws its own classes, and class_seed another draw for
// the same seed. Host and device share it (model_spec.cpp).
template <class Given, class Cumulative>
KOKKOS_INLINE_FUNCTION int class_of_sample(int p, const Given& given, int n_given, const Cumulative& cumulative,
                                           int classes, std::uint32_t class_seed, std::uint64_t run_seed) {
  if (n_given > 0) return given(p % n_given);
  double u, unused;
  counter_uniform2(run_seed, static_cast<std::uint32_t>(p), class_seed, class_stream, u, unused);
  int c = 0;
  while (c < classes - 1 && !(u < cumulative(c))) ++c;
  return c;
}

struct Guided {
  // Every component, sorted by class (class c: rows class_first(c) .. class_first(c + 1) - 1),
  // with log w_k: the unconditional mixture.
  DiagonalMixture all;
  Kokkos::View<const double*> conditional_log_weights;  // log (w_k / W_c), K
  Kokkos::View<const int*> class_first;                 // classes + 1
  Kokkos::View<const double*> class_cumulative;         // classes: W_0, W_0 + W_1, ..., 1
  Kokkos::View<const int*> given;                       // the given classes (cycled); empty: drawn
  Kokkos::View<const int*> sample_index;                // sample p is batch sample sample_index(p); empty: p
  std::uint32_t class_seed = 0;
  std::uint64_t run_seed = 0;
  int classes = 0;
  double weight = 0, s_lo = 0, s_hi = 0;

  KOKKOS_INLINE_FUNCTION int dimension() const { return all.dim; }
  KOKKOS_INLINE_FUNCTION int s_scratch_size() const { return all.s_scratch_size(); }
  KOKKOS_INLINE_FUNCTION int value_scratch_size() const { return all.dim; }  // one pack's other D
  KOKKOS_INLINE_FUNCTION int team_scratch_size() const { return all.team_scratch_size(); }
  KOKKOS_INLINE_FUNCTION int thread_scratch_size() const { return 2 * all.dim; }

  // The same model whose sample p is this one's sample index(p): a subset of a batch solved apart
  // (the reference's error estimate), or points evaluated for given samples.
  Guided with_samples(Kokkos::View<const int*> index) const {
    Guided g = *this;
    g.sample_index = index;
    return g;
  }

  KOKKOS_INLINE_FUNCTION int class_of(int sample) const {
    const int p = sample_index.extent(0) > 0 ? sample_index(sample) : sample;
    return class_of_sample(p, given, static_cast<int>(given.extent(0)), class_cumulative, classes, class_seed, run_seed);
  }
  KOKKOS_INLINE_FUNCTION bool guided_at(double s) const { return weight != 0.0 && s >= s_lo && s <= s_hi; }

  // Class c's mixture: its rows of the parameters with the renormalised weights.
  KOKKOS_INLINE_FUNCTION DiagonalMixture conditional(int c) const {
    const Kokkos::pair<int, int> rows(class_first(c), class_first(c + 1));
    DiagonalMixture m;
    m.log_weights = Kokkos::subview(conditional_log_weights, rows);
    m.means = Kokkos::subview(all.means, rows, Kokkos::ALL());
    m.variances = Kokkos::subview(all.variances, rows, Kokkos::ALL());
    m.components = rows.second - rows.first;
    m.dim = all.dim;
    return m;
  }

  template <int W, class Samples, class In, class S, class Out, class Scratch, class Values>
  KOKKOS_INLINE_FUNCTION void denoise(const Samples& samples, const In& y, const S& s, const Out& out,
                                      const Scratch& scratch, const Values& values) const {
    const int dim = all.dim;
    int cls[W];
    for (int w = 0; w < W; ++w) cls[w] = class_of(samples(w));
    const auto other = [&](int j) -> Pack<W>& { return values(j); };
    // D(y | c): the first sample's class straight into out, every other class present into the
    // pack's other D, taken by its samples.
    conditional(cls[0]).template denoise<W>(samples, y, s, out, scratch, values);
    for (int first = 1; first < W; ++first) {
      bool seen = false;
      for (int w = 0; w < first; ++w) seen = seen || cls[w] == cls[first];
      if (seen) continue;
      conditional(cls[first]).template denoise<W>(samples, y, s, other, scratch, values);
      for (int j = 0; j < dim; ++j)
        for (int w = first; w < W; ++w)
          if (cls[w] == cls[first]) out(j)[w] = other(j)[w];
    }
    bool on[W], any = false;
    for (int w = 0; w < W; ++w) {
      on[w] = guided_at(DiagonalMixture::of_sample(s, w));
      any = any || on[w];
    }
    if (!any) return;
    all.template denoise<W>(samples, y, s, other, scratch, values);
    const double a = 1.0 + weight;
    for (int j = 0; j < dim; ++j)
      for (int w = 0; w < W; ++w)
        if (on[w]) out(j)[w] = a * out(j)[w] - weight * other(j)[w];
  }

  // The thread's sample: its class's mixture on the thread's own scratch (a team's samples may
  // have different classes), then, where guidance is on, the unconditional mixture -- the team's
  // samples share it, so with team_s its s-only terms are the team's -- into thread scratch
  // past the conditional's.
  template <class Member, class In, class Out, class Scratch>
  KOKKOS_INLINE_FUNCTION void denoise_team(const Member& team, int sample, const In& y, double s, const Out& out,
                                           bool team_s, const Scratch& team_scratch,
                                           const Scratch& thread_scratch) const {
    const int dim = all.dim;
    conditional(class_of(sample)).denoise_team(team, sample, y, s, out, false, team_scratch, thread_scratch);
    if (!guided_at(s)) return;
    const auto other = [&](int j) -> double& { return thread_scratch(dim + j); };
    all.denoise_team(team, sample, y, s, other, team_s, team_scratch, thread_scratch);
    const double a = 1.0 + weight;
    Kokkos::parallel_for(Kokkos::ThreadVectorRange(team, dim),
                         [&](int j) { out(j) = a * out(j) - weight * other(j); });
  }
};

}  // namespace pfode::model
