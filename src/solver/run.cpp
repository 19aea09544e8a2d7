#include "solver/run.hpp"

#include <variant>

namespace pfode::solver {

SolverRun run_solver(const SolverSpec& spec, const StepGrid& grid, const model::DeviceModel& model,
                     const ExactStates& exact, int samples, bool measure_local_error, const lane::KernelLayout& layout,
                     const StateRecord& record) {
  return std::visit(
      [&](const auto& kind) {
        return run_solver(spec, grid, kind, exact, samples, measure_local_error, layout, record);
      },
      model);
}

}  // namespace pfode::solver
