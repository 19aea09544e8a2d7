#include <cstdio>

#include "app/commands.hpp"
#include "schedule/registry.hpp"
#include "solver/presets.hpp"
#include "solver/registry.hpp"
#include "spacing/spacing.hpp"

namespace pfode::app {

int list_command() {
  std::printf("Noise schedules\n");
  for (const auto& s : schedule::all_schedules())
    std::printf("  %-18s t in [%g, %g]  %s\n", s.name.c_str(), s.defaults.t_min, s.defaults.t_max, s.description.c_str());
  std::printf("\nTime-step spacings\n");
  for (const auto& s : spacing::all_spacings()) std::printf("  %-18s %s\n", s.name.c_str(), s.description.c_str());
  std::printf("\nSolvers (order: global p; LTE p + 1)\n  %-18s %-12s %5s %8s  %s\n", "name", "family", "order",
              "NFE/step", "reference");
  for (const auto& s : solver::all_solvers())
    if (s.family != solver::Family::stochastic)
      std::printf("  %-18s %-12s %5d %8d  %s\n", s.name.c_str(), solver::family_name(s.family), s.order, s.nfe_per_step,
                  s.reference.c_str());
  std::printf("\nStochastic samplers (strong and weak order with their default options; 0: none)\n"
              "  %-18s %6s %4s %8s  %s\n", "name", "strong", "weak", "NFE/step", "reference; noise from the Brownian path");
  for (const auto& s : solver::all_solvers())
    if (s.family == solver::Family::stochastic)
      std::printf("  %-18s %6d %4d %8d  %s\n  %-18s %6s %4s %8s  %s\n", s.name.c_str(), s.strong_order, s.weak_order,
                  s.nfe_per_step, s.reference.c_str(), "", "", "", "", s.noise.c_str());
  std::printf("\nPresets (sweep.presets): the spacing and solver conventions of widely used implementations\n");
  for (const auto& p : solver::all_presets())
    std::printf("  %-26s %s on %s\n  %-26s %s\n", p.name.c_str(), p.solver.c_str(), p.spacing.c_str(), "",
                p.description.c_str());
  return exit_ok;
}

}  // namespace pfode::app
