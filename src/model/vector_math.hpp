// exp and log in straight-line arithmetic, so a loop over a pack of samples vectorises (a libm
// call per element does not, and mixing scalar results into vector loads stalls the pipeline).
//
// exp_nonpositive: e^x for x <= 0.
// Cody-Waite reduction x = n ln2 + r, |r| <= ln2/2, degree-13 Taylor polynomial (truncation
// < 4e-18 relative), and 2^n built from exponent bits in two halves so that results down to the
// smallest subnormal are exact scalings. Accuracy: within 2 ulp of libm over [-745, 0]
// (tests/test_model.cpp); a NaN gives a NaN and -inf gives 0.
//
// log_normal: log x for a positive normal finite x (callers check the range).
//
// Both are forced inline: called out of line, a loop over a pack makes one scalar call per sample
// (GCC's inlining budget is per translation unit, so that can change with unrelated code).
#pragma once

#include "compat/kokkos_compat.hpp"

namespace pfode::model {

KOKKOS_FORCEINLINE_FUNCTION double exp_nonpositive(double x) {
  constexpr double log2e = 1.4426950408889634;
  constexpr double ln2_hi = 6.93147180369123816490e-01;  // n ln2_hi is exact for |n| < 2^11
  constexpr double ln2_lo = 1.90821492927058770002e-10;
  constexpr double round_magic = 6755399441055744.0;  // 1.5 * 2^52: adding it rounds to an integer
  // xc = max(x, -746) (e^-746 rounds to 0; a NaN passes through) as a bit select: a branch here
  // would let the compiler specialise the code after it per branch, and then it cannot vectorise.
  const std::uint64_t below = 0 - static_cast<std::uint64_t>(x < -746.0);
  const double xc = math::double_of((math::bits_of(-746.0) & below) | (math::bits_of(x) & ~below));
  const double shifted = math::fma(xc, log2e, round_magic);
  const double n = shifted - round_magic;
  const double r = math::fma(-n, ln2_lo, math::fma(-n, ln2_hi, xc));
  // Estrin's scheme: the same polynomial in 4 dependent fmas instead of 13, so that the exponentials
  // of several samples and components overlap.
  const double r2 = r * r, r4 = r2 * r2, r8 = r4 * r4;
  const double q01 = math::fma(r, 1.0, 1.0), q23 = math::fma(r, 1.0 / 6.0, 0.5);
  const double q45 = math::fma(r, 1.0 / 120.0, 1.0 / 24.0), q67 = math::fma(r, 1.0 / 5040.0, 1.0 / 720.0);
  const double q89 = math::fma(r, 1.0 / 362880.0, 1.0 / 40320.0);
  const double q1011 = math::fma(r, 1.0 / 39916800.0, 1.0 / 3628800.0);
  const double q1213 = math::fma(r, 1.0 / 6227020800.0, 1.0 / 479001600.0);
  const double q03 = math::fma(r2, q23, q01), q47 = math::fma(r2, q67, q45);
  const double q811 = math::fma(r2, q1011, q89);
  const double q813 = math::fma(r4, q1213, q811);
  const double q07 = math::fma(r4, q47, q03);
  const double p = math::fma(r8, q813, q07);
  // n is an integer in [-1076, 0]; 2^n = 2^h * 2^(n - h) with h = round(n / 2). Exponent bits come
  // from unsigned integer arithmetic on the rounded doubles (no float-to-int conversion or signed
  // shift, which AVX2 lacks for 64-bit lanes); the wrap-around of negative h cancels in h + 1023.
  const double h = math::fma(n, 0.5, round_magic) - round_magic;
  const std::uint64_t hb = math::bits_of(h + round_magic) - math::bits_of(round_magic);
  const std::uint64_t nb = math::bits_of(shifted) - math::bits_of(round_magic);
  const double scale_a = math::double_of((hb + 1023) << 52);
  const double scale_b = math::double_of((nb - hb + 1023) << 52);
  return p * scale_a * scale_b;
}

// x = 2^e m with m in [sqrt(1/2), sqrt(2)); log m = 2 atanh(f), f = (m - 1) / (m + 1), |f| < 0.172,
// summed to f^21 (truncation < 1e-18 relative); m - 1 is exact, so the result is within 3 ulp of
// libm (tests/test_model.cpp). The exponent comes out of the bits by unsigned arithmetic only.
KOKKOS_FORCEINLINE_FUNCTION double log_normal(double x) {
  constexpr double ln2_hi = 6.93147180369123816490e-01;  // e ln2_hi is exact for |e| < 2^11
  constexpr double ln2_lo = 1.90821492927058770002e-10;
  constexpr std::uint64_t mantissa = (std::uint64_t{1} << 52) - 1;
  constexpr std::uint64_t one = std::uint64_t{1023} << 52;
  constexpr double round_magic = 6755399441055744.0;
  const std::uint64_t bits = math::bits_of(x);
  // m1 in [1, 2); above sqrt(2) halve it (exponent field 1022) and count one more power of 2.
  const double m1 = math::double_of((bits & mantissa) | one);
  const std::uint64_t high = 0 - static_cast<std::uint64_t>(m1 > 1.4142135623730951);
  const double m = math::double_of((bits & mantissa) | (one - (high & (std::uint64_t{1} << 52))));
  // e = biased exponent - 1023 (+1 when halved), built as a double from its integer bits.
  const std::uint64_t biased = (bits >> 52) + (high & 1);
  const double e = math::double_of(math::bits_of(round_magic) + biased) - round_magic - 1023.0;
  const double f = (m - 1.0) / (m + 1.0), f2 = f * f;
  double p = 1.0 / 21.0;
  p = math::fma(p, f2, 1.0 / 19.0);
  p = math::fma(p, f2, 1.0 / 17.0);
  p = math::fma(p, f2, 1.0 / 15.0);
  p = math::fma(p, f2, 1.0 / 13.0);
  p = math::fma(p, f2, 1.0 / 11.0);
  p = math::fma(p, f2, 1.0 / 9.0);
  p = math::fma(p, f2, 1.0 / 7.0);
  p = math::fma(p, f2, 1.0 / 5.0);
  p = math::fma(p, f2, 1.0 / 3.0);
  // log m = 2f + 2f f2 p', with the leading term kept separate for accuracy.
  const double log_m = math::fma(2.0 * f, f2 * p, 2.0 * f);
  return math::fma(e, ln2_hi, math::fma(e, ln2_lo, log_m));
}

}  // namespace pfode::model
