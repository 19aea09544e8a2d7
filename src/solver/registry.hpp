// Every solver pfode knows, with its theoretical order, cost and source: the boundary between
// solver names and the concrete device methods.
#pragma once

#include <string>
#include <vector>

#include "solver/step_grid.hpp"

namespace pfode::solver {

enum class SolverId { euler, midpoint, heun, rk3, rk4, ddim };

enum class Family { classical, exponential };

struct SolverInfo {
  std::string name;
  SolverId id;
  Family family;
  int order;          // theoretical global order p (LTE order p + 1)
  int nfe_per_step;   // model evaluations per step
  std::string reference;
  std::string description;
};

const std::vector<SolverInfo>& all_solvers();
const SolverInfo& find_solver(const std::string& name);  // throws std::invalid_argument

// A solver as a cell uses it: the registry entry plus its recorded options.
struct SolverSpec {
  const SolverInfo* info = nullptr;
  Variable variable = Variable::t;  // classical methods only
};

// Parses "name" or "name[key=value,...]" (options as documented in README.md, "Solvers");
// throws std::invalid_argument for unknown names, options or values.
SolverSpec parse_solver(const std::string& label);

// The options of a spec as "key=value" pairs, for the record (HDF5 and the resolved config).
std::string describe_options(const SolverSpec& spec);

// Steps that fit an NFE budget, and the NFE those steps cost; steps_for_budget throws
// std::invalid_argument when the budget cannot pay for one step.
int steps_for_budget(const SolverSpec& spec, int nfe_budget);
int nfe_for_steps(const SolverSpec& spec, int steps);

const char* family_name(Family f);

}  // namespace pfode::solver
