// The high-accuracy reference: exact PF-ODE states through each sample's start state at any set
// of requested s = sigma/alpha, by DOP853 in log s, with the NFE it spent and an estimate of its
// own error (the difference to a second solve through only a few of the times, see reference.cpp).
#pragma once

#include <vector>

#include "model/mixture.hpp"
#include "reference/dop853.hpp"

namespace pfode::reference {

struct ReferenceSolution {
  std::vector<double> s;                // requested s, strictly decreasing; s[0] is the start
  Kokkos::View<double***> y;            // (sample, m, coord) canonical states y = x / alpha
  double nfe_mean = 0.0;                // model evaluations per sample (tight solve)
  long nfe_max = 0;
  double error_estimate = 0.0;          // RMS over samples of each sample's largest RMS-over-coords difference
  double tolerance = 0.0;
  int failed_samples = 0;
};

ReferenceSolution solve_reference(const model::DiagonalMixture& model, Kokkos::View<const double**> y_start,
                                  const std::vector<double>& s_out, const Dop853Settings& settings = {});

}  // namespace pfode::reference
