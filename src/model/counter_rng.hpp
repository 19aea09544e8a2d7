// Counter-based normal variates: Philox4x32-10 (Salmon et al., "Parallel random numbers: as easy
// as 1, 2, 3", SC 2011) keyed by the seed, with the counter (sample, coordinate, stream). A value
// depends only on those numbers, never on backend, thread count, batch split or MPI rank.
#pragma once

#include <cstdint>

#include "compat/kokkos_compat.hpp"

namespace pfode::model {

struct Philox4x32 {
  std::uint32_t word[4];
};

KOKKOS_INLINE_FUNCTION Philox4x32 philox4x32_10(Philox4x32 ctr, std::uint32_t key0, std::uint32_t key1) {
  constexpr std::uint32_t kMul0 = 0xD2511F53u, kMul1 = 0xCD9E8D57u;
  constexpr std::uint32_t kWeyl0 = 0x9E3779B9u, kWeyl1 = 0xBB67AE85u;
  for (int round = 0; round < 10; ++round) {
    const std::uint64_t p0 = static_cast<std::uint64_t>(kMul0) * ctr.word[0];
    const std::uint64_t p1 = static_cast<std::uint64_t>(kMul1) * ctr.word[2];
    ctr = {{static_cast<std::uint32_t>(p1 >> 32) ^ ctr.word[1] ^ key0, static_cast<std::uint32_t>(p1),
            static_cast<std::uint32_t>(p0 >> 32) ^ ctr.word[3] ^ key1, static_cast<std::uint32_t>(p0)}};
    key0 += kWeyl0;
    key1 += kWeyl1;
  }
  return ctr;
}

// Uniform in (0, 1) from 64 random bits (53 significant bits; never exactly 0 or 1).
KOKKOS_INLINE_FUNCTION double uniform_open(std::uint32_t hi, std::uint32_t lo) {
  const std::uint64_t bits = (static_cast<std::uint64_t>(hi) << 32 | lo) >> 11;
  return (static_cast<double>(bits) + 0.5) * (1.0 / 9007199254740992.0);
}

// Stream 0 gives the standard normals of the start states, stream 1 the mixture component choice,
// stream 2 the parameters of random test mixtures.
KOKKOS_INLINE_FUNCTION void counter_uniform2(std::uint64_t seed, std::uint32_t sample, std::uint32_t coord,
                                             std::uint32_t stream, double& u1, double& u2) {
  const Philox4x32 r = philox4x32_10({{sample, coord, stream, 0u}}, static_cast<std::uint32_t>(seed),
                                     static_cast<std::uint32_t>(seed >> 32));
  u1 = uniform_open(r.word[0], r.word[1]);
  u2 = uniform_open(r.word[2], r.word[3]);
}

// Standard normal by Box-Muller on the two uniforms of one counter.
KOKKOS_INLINE_FUNCTION double counter_normal(std::uint64_t seed, std::uint32_t sample, std::uint32_t coord,
                                             std::uint32_t stream = 0) {
  double u1, u2;
  counter_uniform2(seed, sample, coord, stream, u1, u2);
  return math::sqrt(-2.0 * math::log(u1)) * math::cos(2.0 * math::pi * u2);
}

}  // namespace pfode::model
