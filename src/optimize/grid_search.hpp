// Searches over time grids, independent of what is being optimised: the cheapest path of a given
// number of steps through a candidate set (dynamic programming, as GITS: Chen et al., "On the
// Trajectory Regularity of ODE-based Diffusion Sampling", ICML 2024), and a deterministic local
// search that moves one interior grid point at a time in lambda and keeps only improvements.
#pragma once

#include <functional>
#include <vector>

namespace pfode::optimize {

// The path 0 = k_0 < k_1 < ... < k_steps = points - 1 through candidate indices that minimises
// sum_i cost(k_i, k_{i+1}); cost is points x points, row-major, read only above the diagonal.
// Ties go to the smaller index, so the result is deterministic. Throws std::invalid_argument when
// steps is not in [1, points - 1].
struct CheapestPath {
  std::vector<int> indices;
  double cost = 0;
  std::vector<double> step_cost;  // the cost of each step of the path
};
CheapestPath cheapest_path(const std::vector<double>& cost, int points, int steps);

// The same path when a step's cost may depend on the path before it: cost(prefix, j) is the cost
// of the step from prefix.back() to j taken as step prefix.size() - 1 after the points of prefix
// (k_0 = 0, ...). Layer by layer each (step count, point) keeps only its cheapest prefix and only
// that prefix is extended, so every cost is asked of the path the programme itself built. Exact
// when the cost depends on the step's index, start and end only (then it equals cheapest_path
// for an index-free cost); a heuristic when it depends on earlier points (Bellman's principle no
// longer holds). j is only ever asked where the remaining steps still fit: j <= points - 1 -
// (steps - 1 - n) for step n, and j = points - 1 for the last. path.step_cost: the costs along it.
CheapestPath cheapest_path_along_prefix(const std::function<double(const std::vector<int>& prefix, int j)>& cost,
                                        int points, int steps);

// Local search in lambda: lambda is the grid (increasing, endpoints fixed); objective(lambda) is
// evaluated on grids whose interior points move, point k by +-delta of its gap to the next or the
// previous point (so every grid tried stays strictly monotone). A move is kept only when the
// objective falls; after a sweep over all points without one, delta halves, down to min_delta or
// until max_evaluations objectives were computed. The result is never worse than the start.
struct LocalSearchSettings {
  double initial_delta = 0.5, min_delta = 1e-3;
  int max_evaluations = 400;
};
struct LocalSearchResult {
  std::vector<double> lambda;
  double value = 0;
  std::vector<double> history;  // the objective at the start and after each kept move
  int evaluations = 0;
};
LocalSearchResult local_search(std::vector<double> lambda, const std::function<double(const std::vector<double>&)>& objective,
                               const LocalSearchSettings& settings = {});

}  // namespace pfode::optimize
