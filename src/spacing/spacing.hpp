// Time-step spacings: a number of steps -> a grid t_0 = t_max > t_1 > ... > t_N = t_min.
// Plain data in, plain vector out (host side; the grid is copied to the device by the solver).
#pragma once

#include <string>
#include <vector>

#include "schedule/schedule.hpp"

namespace pfode::spacing {

enum class Kind { uniform_t, uniform_lambda, quadratic_t, cosine, karras, uniform_log_sigma, custom };

struct SpacingInfo {
  std::string name;
  Kind kind;
  std::string description;
};

const std::vector<SpacingInfo>& all_spacings();
const SpacingInfo& find_spacing(const std::string& name);  // throws std::invalid_argument

struct Spacing {
  Kind kind = Kind::uniform_lambda;
  double rho = 7.0;                 // karras
  std::vector<double> custom_times;  // custom: the grid itself (t, strictly decreasing)
};

// Parses a spacing as written in a config: a name, optionally with options in brackets, e.g.
// "karras[rho=5]" or "custom[file=grid.txt]". Throws std::invalid_argument on bad input.
Spacing parse_spacing(const std::string& text);

// The grid of `steps` steps; throws std::invalid_argument when it cannot be built (custom grids
// fix their own step count, which must equal `steps`).
std::vector<double> make_grid(const Spacing& spacing, const schedule::Schedule& schedule, int steps);

// t at which the schedule's sigma equals `sigma` (sigma_t increases with t for every schedule).
double t_of_sigma(const schedule::Schedule& schedule, double sigma);

}  // namespace pfode::spacing
