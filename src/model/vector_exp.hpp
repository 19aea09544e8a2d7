// e^x for x <= 0 in straight-line arithmetic, so a loop over a pack of samples vectorises (a libm
// call per element does not, and mixing scalar results into vector loads stalls the pipeline).
// Cody-Waite reduction x = n ln2 + r, |r| <= ln2/2, degree-13 Taylor polynomial (truncation
// < 4e-18 relative), and 2^n built from exponent bits in two halves so that results down to the
// smallest subnormal are exact scalings. Accuracy: within 2 ulp of libm over [-745, 0]
// (tests/test_model.cpp); a NaN gives a NaN and -inf gives 0.
#pragma once

#include "compat/kokkos_compat.hpp"

namespace pfode::model {

KOKKOS_INLINE_FUNCTION double exp_nonpositive(double x) {
  constexpr double log2e = 1.4426950408889634;
  constexpr double ln2_hi = 6.93147180369123816490e-01;  // n ln2_hi is exact for |n| < 2^11
  constexpr double ln2_lo = 1.90821492927058770002e-10;
  constexpr double round_magic = 6755399441055744.0;  // 1.5 * 2^52: adding it rounds to an integer
  // xc = max(x, -746) (e^-746 rounds to 0; a NaN passes through) as a bit select: a branch here
  // would let the compiler specialise the code after it per branch, and then it cannot vectorise.
  const std::uint64_t below = 0 - static_cast<std::uint64_t>(x < -746.0);
  const double xc = math::double_of((math::bits_of(-746.0) & below) | (math::bits_of(x) & ~below));
  const double shifted = xc * log2e + round_magic;
  const double n = shifted - round_magic;
  const double r = (xc - n * ln2_hi) - n * ln2_lo;
  double p = 1.0 / 6227020800.0;  // 1/13!
  p = p * r + 1.0 / 479001600.0;
  p = p * r + 1.0 / 39916800.0;
  p = p * r + 1.0 / 3628800.0;
  p = p * r + 1.0 / 362880.0;
  p = p * r + 1.0 / 40320.0;
  p = p * r + 1.0 / 5040.0;
  p = p * r + 1.0 / 720.0;
  p = p * r + 1.0 / 120.0;
  p = p * r + 1.0 / 24.0;
  p = p * r + 1.0 / 6.0;
  p = p * r + 0.5;
  p = p * r + 1.0;
  p = p * r + 1.0;
  // n is an integer in [-1076, 0]; 2^n = 2^h * 2^(n - h) with h = round(n / 2). Exponent bits come
  // from unsigned integer arithmetic on the rounded doubles (no float-to-int conversion or signed
  // shift, which AVX2 lacks for 64-bit lanes); the wrap-around of negative h cancels in h + 1023.
  const double h = (n * 0.5 + round_magic) - round_magic;
  const std::uint64_t hb = math::bits_of(h + round_magic) - math::bits_of(round_magic);
  const std::uint64_t nb = math::bits_of(shifted) - math::bits_of(round_magic);
  const double scale_a = math::double_of((hb + 1023) << 52);
  const double scale_b = math::double_of((nb - hb + 1023) << 52);
  return p * scale_a * scale_b;
}

}  // namespace pfode::model
