#include "bench/machine.hpp"

#include <chrono>
#include <fstream>
#include <sstream>

#include "compat/kokkos_compat.hpp"

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>
#define PFODE_BENCH_X86 1
#endif

namespace pfode::bench {

namespace {

using Clock = std::chrono::steady_clock;

// 16 independent accumulators hide the FMA latency (4-5 cycles) on two pipes. The multiplier is
// just below 1 and the addend tiny, so values stay normal and nothing can be folded away.
// (Written out per ISA: a lambda would not inherit the target attribute.)
#define PFODE_FMA_CHAINS(V, SET1, FMA, WIDTH)                                                   \
  V acc[16];                                                                                    \
  for (int c = 0; c < 16; ++c) acc[c] = SET1(1.0 + 1e-3 * c);                                   \
  const V mul = SET1(0.999999), add = SET1(1e-9);                                               \
  const auto start = Clock::now();                                                              \
  for (long i = 0; i < iters; ++i)                                                              \
    for (int c = 0; c < 16; ++c) acc[c] = FMA(acc[c], mul, add);                                \
  const double seconds = std::chrono::duration<double>(Clock::now() - start).count();           \
  volatile double sink = 0;                                                                     \
  for (int c = 0; c < 16; ++c) sink = sink + reinterpret_cast<const double*>(&acc[c])[0];       \
  return 2.0 * 16 * (WIDTH) * static_cast<double>(iters) / seconds * 1e-9;

template <class Run>
double best_of(double seconds, Run run) {
  long iters = 1 << 16;
  while (true) {  // calibrate to ~seconds/5 per repetition, then keep the best of five
    const auto start = Clock::now();
    run(iters);
    if (std::chrono::duration<double>(Clock::now() - start).count() > seconds / 5 || iters > (1L << 34)) break;
    iters *= 2;
  }
  double best = 0;
  for (int r = 0; r < 5; ++r) best = std::max(best, run(iters));
  return best;
}

// The build's own ISA: GCC vector extensions as wide as the build's widest vectors, a * b + c
// (mul + add unless the build enables FMA contraction and an FMA ISA).
#if defined(__AVX512F__)
constexpr int build_width = 8;
#elif defined(__AVX__)
constexpr int build_width = 4;
#else
constexpr int build_width = 2;
#endif
typedef double VB __attribute__((vector_size(8 * build_width)));
inline VB set_build(double x) { return x - VB{}; }  // x in every lane
inline VB fma_build(VB a, VB b, VB c) { return a * b + c; }
double build_isa_rate(long iters) { PFODE_FMA_CHAINS(VB, set_build, fma_build, build_width) }

#ifdef PFODE_BENCH_X86
__attribute__((target("avx512f"))) double avx512_rate(long iters) {
  PFODE_FMA_CHAINS(__m512d, _mm512_set1_pd, _mm512_fmadd_pd, 8)
}
__attribute__((target("avx2,fma"))) double avx2_rate(long iters) {
  PFODE_FMA_CHAINS(__m256d, _mm256_set1_pd, _mm256_fmadd_pd, 4)
}
#endif

std::string cpuinfo_field(const std::string& text, const std::string& key) {
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);)
    if (line.compare(0, key.size(), key) == 0) {
      const auto colon = line.find(':');
      if (colon != std::string::npos) return line.substr(colon + 2);
    }
  return "";
}

}  // namespace

PeakRate measure_peak(double seconds) {
  PeakRate p;
#if defined(__AVX512F__)
  p.build_isa = "avx512f";
#elif defined(__AVX2__)
  p.build_isa = "avx2";
#else
  p.build_isa = "sse2";
#endif
#if defined(__FMA__)
  p.build_isa += " fma";
#endif
  p.build_gflops = best_of(seconds / 2, build_isa_rate);
  p.isa = "build ISA (" + p.build_isa + ")";
  p.gflops = p.build_gflops;
#ifdef PFODE_BENCH_X86
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx512f")) {
    p.isa = "avx512f fma, 8 x fp64";
    p.gflops = best_of(seconds / 2, avx512_rate);
  } else if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) {
    p.isa = "avx2 fma, 4 x fp64";
    p.gflops = best_of(seconds / 2, avx2_rate);
  }
#endif
  return p;
}

Machine describe_machine(double peak_seconds) {
  Machine m;
  std::ifstream in("/proc/cpuinfo");
  std::stringstream buffer;
  buffer << in.rdbuf();
  const std::string text = buffer.str();
  m.cpu_model = cpuinfo_field(text, "model name");
  for (size_t at = text.find("processor\t"); at != std::string::npos; at = text.find("processor\t", at + 1))
    ++m.logical_cpus;
  const std::string mhz = cpuinfo_field(text, "cpu MHz");
  m.mhz = mhz.empty() ? 0.0 : std::stod(mhz);
  m.backend = execution_space_name();
  m.concurrency = Kokkos::DefaultExecutionSpace().concurrency();
  m.peak = measure_peak(peak_seconds);
  return m;
}

}  // namespace pfode::bench
