#include "metrics/order_fit.hpp"

#include <cmath>
#include <limits>


namespace pfode::metrics {

OrderFit fit_order(const std::vector<double>& nfe, const std::vector<double>& error, const std::vector<bool>& flagged,
                   double band) {
  OrderFit fit;
  const int n = static_cast<int>(nfe.size());
  auto usable = [&](int k) { return std::isfinite(error[k]) && error[k] > 0 && !flagged[k]; };
  fit.local_order.assign(n > 0 ? n - 1 : 0, std::numeric_limits<double>::quiet_NaN());
  for (int k = 0; k + 1 < n; ++k)
    if (usable(k) && usable(k + 1) && nfe[k + 1] != nfe[k])
      fit.local_order[k] = -std::log(error[k + 1] / error[k]) / std::log(nfe[k + 1] / nfe[k]);

  // The fit ends at the largest NFE that starts a run of three usable points (a diverged or
  // floor-flagged point just below the top does not void the fit).
  int last = n - 1;
  while (last >= 2 && !(usable(last) && usable(last - 1) && usable(last - 2))) --last;
  if (last < 2) return fit;
  const double asymptotic = 0.5 * (fit.local_order[last - 1] + fit.local_order[last - 2]);
  int first = last - 2;
  while (first > 0 && usable(first - 1) && std::fabs(fit.local_order[first - 1] - asymptotic) <= band) --first;

  double sx = 0, sy = 0, sxx = 0, sxy = 0;
  const int m = last - first + 1;
  for (int k = first; k <= last; ++k) {
    const double x = std::log(nfe[k]), y = std::log(error[k]);
    sx += x;
    sy += y;
    sxx += x * x;
    sxy += x * y;
  }
  const double denom = m * sxx - sx * sx;
  if (!(denom > 0)) return fit;
  const double slope = (m * sxy - sx * sy) / denom, intercept = (sy - slope * sx) / m;
  double rss = 0;
  for (int k = first; k <= last; ++k) {
    const double r = std::log(error[k]) - (intercept + slope * std::log(nfe[k]));
    rss += r * r;
  }
  fit.valid = true;
  fit.order = -slope;
  fit.standard_error = m > 2 ? std::sqrt(rss / (m - 2) * m / denom) : 0.0;
  fit.first = first;
  fit.last = last;
  return fit;
}

}  // namespace pfode::metrics
