#include "optimize/grid_search.hpp"

#include <cmath>
#include <limits>
#include <stdexcept>
#include <string>

namespace pfode::optimize {

CheapestPath cheapest_path(const std::vector<double>& cost, int points, int steps) {
  if (points < 2 || static_cast<long>(cost.size()) != static_cast<long>(points) * points)
    throw std::invalid_argument("cheapest_path: cost must be points x points with points >= 2");
  if (steps < 1 || steps > points - 1)
    throw std::invalid_argument(std::to_string(steps) + " steps do not fit " + std::to_string(points) +
                                " candidate times (at most " + std::to_string(points - 1) + ")");
  const double inf = std::numeric_limits<double>::infinity();
  // best[n][j]: the cheapest n-step path from 0 to j; from[n][j]: its previous point.
  std::vector<std::vector<double>> best(steps + 1, std::vector<double>(points, inf));
  std::vector<std::vector<int>> from(steps + 1, std::vector<int>(points, -1));
  best[0][0] = 0;
  for (int n = 1; n <= steps; ++n)
    for (int j = n; j < points; ++j)
      for (int i = n - 1; i < j; ++i) {
        const double c = best[n - 1][i] + cost[static_cast<size_t>(i) * points + j];
        if (c < best[n][j]) {  // strict: the first (smallest) i wins ties
          best[n][j] = c;
          from[n][j] = i;
        }
      }
  CheapestPath path;
  path.cost = best[steps][points - 1];
  if (!std::isfinite(path.cost)) throw std::runtime_error("cheapest_path: every path has a non-finite cost");
  path.indices.assign(steps + 1, 0);
  path.indices[steps] = points - 1;
  for (int n = steps; n > 0; --n) path.indices[n - 1] = from[n][path.indices[n]];
  return path;
}

LocalSearchResult local_search(std::vector<double> lambda, const std::function<double(const std::vector<double>&)>& objective,
                               const LocalSearchSettings& settings) {
  for (size_t k = 1; k < lambda.size(); ++k)
    if (!(lambda[k] > lambda[k - 1])) throw std::invalid_argument("local search: the starting grid is not monotone in lambda");
  LocalSearchResult r;
  r.value = objective(lambda);
  r.evaluations = 1;
  r.history.push_back(r.value);
  const int last = static_cast<int>(lambda.size()) - 1;
  for (double delta = settings.initial_delta; delta >= settings.min_delta; delta *= 0.5) {
    bool moved = true;
    while (moved) {
      moved = false;
      for (int k = 1; k < last; ++k)
        for (int direction : {+1, -1}) {
          if (r.evaluations >= settings.max_evaluations) {
            r.lambda = lambda;
            return r;
          }
          std::vector<double> trial = lambda;
          const double gap = direction > 0 ? lambda[k + 1] - lambda[k] : lambda[k] - lambda[k - 1];
          trial[k] += direction * delta * gap;
          if (!(trial[k] > trial[k - 1] && trial[k] < trial[k + 1])) continue;  // round-off at tiny gaps
          const double value = objective(trial);
          ++r.evaluations;
          if (value < r.value) {
            lambda = std::move(trial);
            r.value = value;
            r.history.push_back(value);
            moved = true;
            break;  // the next point, from the moved grid
          }
        }
    }
  }
  r.lambda = lambda;
  return r;
}

}  // namespace pfode::optimize
