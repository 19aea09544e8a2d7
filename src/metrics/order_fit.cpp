#include "metrics/order_fit.hpp"

#include <cmath>
#include <limits>


namespace pfode::metrics {

namespace {
// The least-squares line through (log nfe, log value) over points [first, last].
struct LogLogLine {
  double slope = 0, intercept = 0, denom = 0, rss = 0;
  int points = 0;
};
LogLogLine fit_line(const std::vector<double>& nfe, const std::vector<double>& value, int first, int last) {
  LogLogLine line;
  double sx = 0, sy = 0, sxx = 0, sxy = 0;
  const int m = last - first + 1;
  for (int k = first; k <= last; ++k) {
    const double x = std::log(nfe[k]), y = std::log(value[k]);
    sx += x;
    sy += y;
    sxx += x * x;
    sxy += x * y;
  }
  line.points = m;
  line.denom = m * sxx - sx * sx;
  if (!(line.denom > 0)) return line;
  line.slope = (m * sxy - sx * sy) / line.denom;
  line.intercept = (sy - line.slope * sx) / m;
  for (int k = first; k <= last; ++k) {
    const double r = std::log(value[k]) - (line.intercept + line.slope * std::log(nfe[k]));
    line.rss += r * r;
  }
  return line;
}
}  // namespace

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

  const LogLogLine line = fit_line(nfe, error, first, last);
  if (!(line.denom > 0)) return fit;
  const int m = line.points;
  fit.valid = true;
  fit.order = -line.slope;
  fit.standard_error = m > 2 ? std::sqrt(line.rss / (m - 2) * m / line.denom) : 0.0;
  fit.first = first;
  fit.last = last;
  return fit;
}

double log_log_order(const std::vector<double>& nfe, const std::vector<double>& value, int first, int last) {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  if (first < 0 || last >= static_cast<int>(nfe.size()) || last >= static_cast<int>(value.size()) || last <= first)
    return nan;
  for (int k = first; k <= last; ++k)
    if (!(std::isfinite(value[k]) && value[k] > 0)) return nan;
  const LogLogLine line = fit_line(nfe, value, first, last);
  return line.denom > 0 ? -line.slope : nan;
}

}  // namespace pfode::metrics
