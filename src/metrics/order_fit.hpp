// Empirical convergence order: least-squares slope of log error against log NFE over the
// asymptotic points, with its standard error, and the local order between consecutive NFEs.
#pragma once

#include <vector>

namespace pfode::metrics {

struct OrderFit {
  bool valid = false;                 // at least 3 usable points
  double order = 0, standard_error = 0;
  int first = -1, last = -1;          // index range of the points used (sorted by NFE)
  std::vector<double> local_order;    // between point k and k+1 (NaN where either is unusable)
};

// nfe ascending. A point is unusable when its error is not finite and positive or when it is
// flagged (e.g. within 10x of the reference's error). The asymptotic range ends at the largest
// NFE that ends a run of three consecutive usable points, holds that run, and extends to smaller
// NFE while each local order stays within `band` of the asymptotic estimate (the mean of the two
// local orders at its top): pre-asymptotic points, whose local order still drifts, are left out.
OrderFit fit_order(const std::vector<double>& nfe, const std::vector<double>& error, const std::vector<bool>& flagged,
                   double band = 0.15);

// -slope of log(value) against log(nfe), least squares over the points [first, last] (all of
// them, no asymptotic range): NaN where a value there is not finite and positive or the NFE do
// not differ.
double log_log_order(const std::vector<double>& nfe, const std::vector<double>& value, int first, int last);

}  // namespace pfode::metrics
