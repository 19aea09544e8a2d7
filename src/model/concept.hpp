// What a device model kind provides, so that the lanes (lane/), and through them every solver and
// the DOP853 reference, evaluate it without knowing which kind it is. A kind is a plain struct
// copied into kernels (Views inside, no virtual functions) with:
//
//   int dimension() const                       the state's dimension d
//   int s_scratch_size() const                  pack scratch entries for terms of s
//   int value_scratch_size() const              pack scratch entries for per-sample values
//   int team_scratch_size() const               scratch doubles per team (terms of a shared s)
//   int thread_scratch_size() const             scratch doubles per thread (its own terms)
//
//   template <int W, class Samples, class In, class S, class Out, class Scratch, class Values>
//   void denoise(const Samples& samples, const In& y, const S& s, const Out& out,
//                const Scratch& scratch, const Values& values) const
//       D(y, s) of a pack of W samples: y(j) and out(j) are Pack<W> of coordinate j; s is a double
//       shared by the pack or a Pack<W> (each sample's own s); scratch(i), i < s_scratch_size(),
//       is a double& or a Pack<W>& to match (terms of s, computed once per pack when s is
//       shared); values(i), i < value_scratch_size(), is a Pack<W>& (one value per sample);
//       samples(w) is the batch index of the sample in position w, through which a kind reads
//       per-sample data of its own (a class label, say). Every sample's arithmetic must be the
//       same whatever W is and whether s is shared.
//
//   template <class Member, class In, class Out, class Scratch>
//   void denoise_team(const Member& team, int sample, const In& y, double s, const Out& out,
//                     bool team_s, const Scratch& team_scratch, const Scratch& thread_scratch) const
//       The same for the calling thread's sample, its coordinates over the thread's vector lanes;
//       with team_s every thread of the team calls it together at one s.
//
// A kind with per-sample data (read through samples(w)) also provides
//   Kind with_samples(Kokkos::View<const int*> index) const
//       the same model whose sample p is this one's sample index(p), for a subset of a batch
//       solved apart (the reference's error estimate) or points evaluated for given samples;
// for_samples below gives every kind's (the others are returned as they are).
//
// The closed set of kinds is model/kinds.hpp (DeviceModel); each kind is compiled against the
// solvers and the reference in its own translation unit (src/kinds/). A kind may provide more
// device functions than these (a Jacobian trace, say): a lane or solver that calls one is a
// template, instantiated only where it is called, so kinds without it are unaffected; code that
// needs one checks for it on the host and refuses the other kinds by name.
#pragma once

#include <type_traits>

#include "compat/kokkos_compat.hpp"

namespace pfode::model {

// True when M has the non-template members above (the denoise templates are checked where the
// lanes call them).
template <class M, class = void>
struct is_device_model : std::false_type {};
template <class M>
struct is_device_model<M, std::void_t<decltype(std::declval<const M&>().dimension()),
                                      decltype(std::declval<const M&>().s_scratch_size()),
                                      decltype(std::declval<const M&>().value_scratch_size()),
                                      decltype(std::declval<const M&>().team_scratch_size()),
                                      decltype(std::declval<const M&>().thread_scratch_size())>> : std::true_type {};
template <class M>
inline constexpr bool is_device_model_v = is_device_model<M>::value;

template <class M, class = void>
struct has_sample_data : std::false_type {};
template <class M>
struct has_sample_data<M, std::void_t<decltype(std::declval<const M&>().with_samples(
                              std::declval<Kokkos::View<const int*>>()))>> : std::true_type {};

// The model m whose sample p is m's sample index(p) (the kind's with_samples), or m itself where
// the kind keeps no per-sample data.
template <class M>
M for_samples(const M& m, const Kokkos::View<const int*>& index) {
  if constexpr (has_sample_data<M>::value) return m.with_samples(index);
  else return m;
}

}  // namespace pfode::model
