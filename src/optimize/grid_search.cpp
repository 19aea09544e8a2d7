#include "optimize/grid_search.hpp"

#include <algorithm>
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
  for (int n = 0; n < steps; ++n)
    path.step_cost.push_back(cost[static_cast<size_t>(path.indices[n]) * points + path.indices[n + 1]]);
  return path;
}

CheapestPath cheapest_path_along_prefix(const std::function<double(const std::vector<int>& prefix, int j)>& cost,
                                        int points, int steps) {
  if (points < 2) throw std::invalid_argument("cheapest_path_along_prefix: points must be >= 2");
  if (steps < 1 || steps > points - 1)
    throw std::invalid_argument(std::to_string(steps) + " steps do not fit " + std::to_string(points) +
                                " candidate times (at most " + std::to_string(points - 1) + ")");
  const double inf = std::numeric_limits<double>::infinity();
  // best[j]: the cheapest n-step path from 0 to j (its points in prefix[j], its step costs in
  // costs[j]); the next layer is built from this one only.
  std::vector<double> best(points, inf);
  std::vector<std::vector<int>> prefix(points);
  std::vector<std::vector<double>> costs(points);
  best[0] = 0;
  prefix[0] = {0};
  for (int n = 0; n < steps; ++n) {
    const int last_end = n == steps - 1 ? points - 1 : points - 1 - (steps - 1 - n);  // the steps left fit
    const int first_end = n == steps - 1 ? points - 1 : n + 1;
    std::vector<double> next(points, inf);
    std::vector<std::vector<int>> next_prefix(points);
    std::vector<std::vector<double>> next_costs(points);
    for (int i = 0; i < points; ++i) {
      if (!std::isfinite(best[i])) continue;
      for (int j = std::max(i + 1, first_end); j <= last_end; ++j) {
        const double step = cost(prefix[i], j);
        const double c = best[i] + step;
        if (c < next[j]) {  // strict: the first (smallest) i wins ties
          next[j] = c;
          next_prefix[j] = prefix[i];
          next_prefix[j].push_back(j);
          next_costs[j] = costs[i];
          next_costs[j].push_back(step);
        }
      }
    }
    best = std::move(next);
    prefix = std::move(next_prefix);
    costs = std::move(next_costs);
  }
  CheapestPath path;
  path.cost = best[points - 1];
  if (!std::isfinite(path.cost)) throw std::runtime_error("cheapest_path_along_prefix: every path has a non-finite cost");
  path.indices = prefix[points - 1];
  path.step_cost = costs[points - 1];
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
