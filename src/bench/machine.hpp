// What the benchmark needs to know about the machine: its name and cores (from /proc/cpuinfo,
// what lscpu prints), the Kokkos backend, and the core's peak FP64 rate, both measured with an
// FMA microbenchmark (one core, independent FMA chains, widest vector unit the CPU has). No nominal
// peak from the reported clock: in virtual machines and under turbo "cpu MHz" is not the clock the
// core runs at (a measured 135 GFLOP/s against a "nominal" 83 on one machine), so only measured
// rates are printed.
#pragma once

#include <string>

namespace pfode::bench {

struct PeakRate {
  std::string isa;         // instructions the measured loop used, e.g. "avx512f fma (8 x fp64)"
  double gflops = 0;       // measured, FMA = 2 FLOP
  std::string build_isa;   // what this build's own code is compiled for (no -march: SSE2)
  double build_gflops = 0; // the same microbenchmark in the build's ISA and vector width (mul + add)
};

struct Machine {
  std::string cpu_model;    // "model name"
  int logical_cpus = 0;
  double mhz = 0;           // "cpu MHz" as the kernel reports it (informative only)
  std::string backend;      // Kokkos default execution space
  int concurrency = 1;      // Kokkos threads
  PeakRate peak;
};

// Measured peak of one core; takes about `seconds` in total.
PeakRate measure_peak(double seconds = 0.3);
Machine describe_machine(double peak_seconds = 0.3);

}  // namespace pfode::bench
