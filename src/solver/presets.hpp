// Named presets: the (spacing, solver) pairs that reproduce the conventions of widely used sampler
// implementations (the official DPM-Solver and UniPC code, k-diffusion, EDM, diffusers), so a
// pfode number can be compared one for one with what those tools produce. A preset is plain
// data: a spacing label (spacing::parse_spacing), a solver label with options
// (solver::parse_solver) and one line saying which convention it mirrors; presets.cpp records
// the facts each relies on and where pfode cannot be exactly the same.
#pragma once

#include <string>
#include <vector>

namespace pfode::solver {

struct Preset {
  std::string name;         // "<tool>:<sampler>", e.g. "k-diffusion:dpm++2m"
  std::string spacing;      // a pfode spacing label, e.g. "karras[rho=7]"
  std::string solver;       // a pfode solver label, e.g. "dpm-solver++2m[warmup=multistep,final=denoise]"
  std::string description;  // grid, final-step rule, lower-order-final rule, exactness
};

const std::vector<Preset>& all_presets();
const Preset& find_preset(const std::string& name);  // throws std::invalid_argument listing the names

}  // namespace pfode::solver
