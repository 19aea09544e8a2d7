// The one place where Kokkos versions differ for pfode.
// Kokkos 3.4 (Debian's Trilinos package) keeps its math functions in Kokkos::Experimental;
// Kokkos >= 3.7 / 4.x moved them to Kokkos. Device code calls pfode::math::exp etc.
// math::fma is the one fused multiply-add pfode uses: it rounds once, exactly, on every backend
// (hardware FMA where the build targets it, libm otherwise), so explicit fmas give the same numbers
// on CPUs and GPUs, where contraction left to the compiler would not.
#pragma once

#include <Kokkos_Core.hpp>

#include <cmath>
#include <cstdint>
#if KOKKOS_VERSION < 40100
#include <cstring>
#endif

namespace pfode::math {

#if KOKKOS_VERSION >= 30700
using Kokkos::atan2;
using Kokkos::cos;
using Kokkos::exp;
using Kokkos::expm1;
using Kokkos::fabs;
using Kokkos::floor;
using Kokkos::fma;
using Kokkos::isfinite;
using Kokkos::log;
using Kokkos::log1p;
using Kokkos::pow;
using Kokkos::sin;
using Kokkos::sqrt;
using Kokkos::tan;
#else
using Kokkos::Experimental::atan2;
using Kokkos::Experimental::cos;
using Kokkos::Experimental::exp;
using Kokkos::Experimental::expm1;
using Kokkos::Experimental::fabs;
using Kokkos::Experimental::floor;
using Kokkos::Experimental::isfinite;
using Kokkos::Experimental::log;
using Kokkos::Experimental::log1p;
using Kokkos::Experimental::pow;
using Kokkos::Experimental::sin;
using Kokkos::Experimental::sqrt;
using Kokkos::Experimental::tan;
using std::fma;  // Kokkos 3.4 has none; Debian's build is host-only (Serial)
#endif

inline constexpr double pi = 3.14159265358979323846;
// A quiet NaN in device code (GCC, Clang and nvcc all provide the builtin).
KOKKOS_INLINE_FUNCTION double quiet_nan() { return __builtin_nan(""); }

// log(1 + e^x) without overflow for large x or loss of digits for very negative x.
KOKKOS_INLINE_FUNCTION double softplus(double x) {
  return x > 0 ? x + log1p(exp(-x)) : log1p(exp(x));
}

// The bits of a double and back (Kokkos::bit_cast from 4.1; host-only memcpy before, where Debian's
// Kokkos 3.4 has the Serial backend only).
KOKKOS_FORCEINLINE_FUNCTION std::uint64_t bits_of(double x) {
#if KOKKOS_VERSION >= 40100
  return Kokkos::bit_cast<std::uint64_t>(x);
#else
  std::uint64_t u;
  std::memcpy(&u, &x, sizeof u);
  return u;
#endif
}
KOKKOS_FORCEINLINE_FUNCTION double double_of(std::uint64_t u) {
#if KOKKOS_VERSION >= 40100
  return Kokkos::bit_cast<double>(u);
#else
  double x;
  std::memcpy(&x, &u, sizeof x);
  return x;
#endif
}

KOKKOS_INLINE_FUNCTION double max(double a, double b) { return a > b ? a : b; }
KOKKOS_INLINE_FUNCTION double min(double a, double b) { return a < b ? a : b; }

}  // namespace pfode::math

namespace pfode {

// Name of the default execution space, as recorded in provenance.
inline const char* execution_space_name() { return Kokkos::DefaultExecutionSpace::name(); }

}  // namespace pfode
