#include "solver/registry.hpp"

#include <stdexcept>

#include "common/named_options.hpp"

namespace pfode::solver {

const std::vector<SolverInfo>& all_solvers() {
  static const std::vector<SolverInfo> table = {
      {"euler", SolverId::euler, Family::classical, 1, 1, "Euler 1768", "explicit Euler"},
      {"midpoint", SolverId::midpoint, Family::classical, 2, 2, "Runge 1895", "explicit midpoint rule"},
      {"heun", SolverId::heun, Family::classical, 2, 2, "Heun 1900", "Heun / explicit trapezoid"},
      {"rk3", SolverId::rk3, Family::classical, 3, 3, "Kutta 1901", "Kutta's third-order method"},
      {"rk4", SolverId::rk4, Family::classical, 4, 4, "Kutta 1901", "classical fourth-order Runge-Kutta"},
      {"ddim", SolverId::ddim, Family::exponential, 1, 1, "Song, Meng & Ermon, ICLR 2021",
       "deterministic DDIM = Euler in s = sigma/alpha"},
  };
  return table;
}

const SolverInfo& find_solver(const std::string& name) {
  for (const auto& info : all_solvers())
    if (info.name == name) return info;
  std::string known;
  for (const auto& info : all_solvers()) known += (known.empty() ? "" : ", ") + info.name;
  throw std::invalid_argument("unknown solver '" + name + "' (known: " + known + ")");
}

int steps_for_budget(const SolverSpec& spec, int nfe_budget) {
  const int steps = nfe_budget / spec.info->nfe_per_step;
  if (steps < 1)
    throw std::invalid_argument("NFE " + std::to_string(nfe_budget) + " is below what solver " + spec.info->name +
                                " needs for one step (" + std::to_string(spec.info->nfe_per_step) + ")");
  return steps;
}

int nfe_for_steps(const SolverSpec& spec, int steps) { return steps * spec.info->nfe_per_step; }

SolverSpec parse_solver(const std::string& label) {
  const NamedOptions parsed = parse_named_options(label);
  SolverSpec spec;
  spec.info = &find_solver(parsed.name);
  for (const auto& [key, value] : parsed.options) {
    if (key == "variable" && spec.info->family == Family::classical) spec.variable = parse_variable(value);
    else throw std::invalid_argument("solver " + parsed.name + " has no option '" + key + "'");
  }
  return spec;
}

std::string describe_options(const SolverSpec& spec) {
  if (spec.info->family == Family::classical) return std::string("variable=") + variable_name(spec.variable);
  return "";
}

const char* family_name(Family f) { return f == Family::classical ? "classical" : "exponential"; }

}  // namespace pfode::solver
