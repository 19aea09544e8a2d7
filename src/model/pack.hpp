// A pack of W samples' values of one coordinate, the unit that solver steps and the model work on.
// On CPUs one thread advances W samples together: they share every step's s, so the model's
// s-only terms are computed once per pack, and each arithmetic operation is a loop over W that the
// compiler turns into SIMD instructions. On GPUs W = 1 (one thread per sample, coalesced over
// threads). Each sample's arithmetic is the same whatever W is, so results do not depend on it.
#pragma once

#include <type_traits>

#include "compat/kokkos_compat.hpp"

namespace pfode::model {

template <int W>
struct Pack {
  double v[W];

  Pack() = default;
  KOKKOS_INLINE_FUNCTION Pack(double x) {  // NOLINT: broadcasting a scalar is the point
    for (int w = 0; w < W; ++w) v[w] = x;
  }
  KOKKOS_INLINE_FUNCTION double& operator[](int w) { return v[w]; }
  KOKKOS_INLINE_FUNCTION double operator[](int w) const { return v[w]; }
  // A pack of one is a scalar, so per-sample code (adaptive step control) reads plain doubles.
  template <int V = W, std::enable_if_t<V == 1, int> = 0>
  KOKKOS_INLINE_FUNCTION operator double() const {  // NOLINT
    return v[0];
  }

#define PFODE_PACK_COMPOUND(op)                                            \
  KOKKOS_INLINE_FUNCTION Pack& operator op##=(const Pack & o) {            \
    for (int w = 0; w < W; ++w) v[w] op## = o.v[w];                        \
    return *this;                                                          \
  }                                                                        \
  KOKKOS_INLINE_FUNCTION Pack& operator op##=(double x) {                  \
    for (int w = 0; w < W; ++w) v[w] op## = x;                             \
    return *this;                                                          \
  }
  PFODE_PACK_COMPOUND(+)
  PFODE_PACK_COMPOUND(-)
  PFODE_PACK_COMPOUND(*)
  PFODE_PACK_COMPOUND(/)
#undef PFODE_PACK_COMPOUND
};

#define PFODE_PACK_BINARY(op)                                                      \
  template <int W>                                                                 \
  KOKKOS_INLINE_FUNCTION Pack<W> operator op(const Pack<W>& a, const Pack<W>& b) { \
    Pack<W> r;                                                                     \
    for (int w = 0; w < W; ++w) r.v[w] = a.v[w] op b.v[w];                         \
    return r;                                                                      \
  }                                                                                \
  template <int W>                                                                 \
  KOKKOS_INLINE_FUNCTION Pack<W> operator op(const Pack<W>& a, double b) {         \
    Pack<W> r;                                                                     \
    for (int w = 0; w < W; ++w) r.v[w] = a.v[w] op b;                              \
    return r;                                                                      \
  }                                                                                \
  template <int W>                                                                 \
  KOKKOS_INLINE_FUNCTION Pack<W> operator op(double a, const Pack<W>& b) {         \
    Pack<W> r;                                                                     \
    for (int w = 0; w < W; ++w) r.v[w] = a op b.v[w];                              \
    return r;                                                                      \
  }
PFODE_PACK_BINARY(+)
PFODE_PACK_BINARY(-)
PFODE_PACK_BINARY(*)
PFODE_PACK_BINARY(/)
#undef PFODE_PACK_BINARY

template <int W>
KOKKOS_INLINE_FUNCTION Pack<W> operator-(const Pack<W>& a) {
  Pack<W> r;
  for (int w = 0; w < W; ++w) r.v[w] = -a.v[w];
  return r;
}

}  // namespace pfode::model
