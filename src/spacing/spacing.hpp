// Time-step spacings: a number of steps -> a grid t_0 = t_max > t_1 > ... > t_N = t_min.
// Plain data in, plain vector out (host side; the grid is copied to the device by the solver).
#pragma once

#include <string>
#include <vector>

#include "schedule/schedule.hpp"

namespace pfode::spacing {

enum class Kind {
  uniform_t, uniform_lambda, quadratic_t, cosine, karras, uniform_log_sigma, custom,
  // diffusers' timestep_spacing: steps + 1 of the 1000 training timesteps (then the step to 0)
  diffusers_linspace, diffusers_leading, diffusers_trailing,
};

struct SpacingInfo {
  std::string name;
  Kind kind;
  std::string description;
  bool spans_range = true;  // the grid runs exactly from t_max to t_min (diffusers': its timesteps)
};

const std::vector<SpacingInfo>& all_spacings();
const SpacingInfo& find_spacing(const std::string& name);  // throws std::invalid_argument

struct Spacing {
  Kind kind = Kind::uniform_lambda;
  double rho = 7.0;                 // karras
  std::vector<double> custom_times;  // custom: the grid itself (t, strictly decreasing)
  int steps_offset = 0;              // diffusers-leading: added to every timestep (Stable Diffusion: 1)
};

// The diffusers timesteps (integers in 0..999, decreasing) of `count` inference steps, as
// DPMSolverMultistepScheduler and UniPCMultistepScheduler.set_timesteps compute them for
// timestep_spacing linspace, leading or trailing (numpy's rounding: half to even).
std::vector<long> diffusers_timesteps(const Spacing& spacing, int count);

// The time of training timestep k of 1000: t_min + k (t_max - t_min)/999 (for the discrete DDPM
// schedules, t = (k + 1)/1000, the official DPM-Solver's convention).
double time_of_timestep(const schedule::Schedule& schedule, long k);

// Parses a spacing as written in a config: a name, optionally with options in brackets, e.g.
// "karras[rho=5]" or "custom[file=grid.txt]". Throws std::invalid_argument on bad input.
Spacing parse_spacing(const std::string& text);

// The grid of `steps` steps; throws std::invalid_argument when it cannot be built (custom grids
// fix their own step count, which must equal `steps`).
std::vector<double> make_grid(const Spacing& spacing, const schedule::Schedule& schedule, int steps);

// t at which the schedule's sigma equals `sigma` (sigma_t increases with t for every schedule).
double t_of_sigma(const schedule::Schedule& schedule, double sigma);

}  // namespace pfode::spacing
