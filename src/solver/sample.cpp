#include "solver/sample.hpp"

#include <variant>

namespace pfode::solver {

SampleRun sample_solver(const SolverSpec& spec, const StepGrid& grid, const model::DeviceModel& model,
                        Kokkos::View<const double**> y_start, const SampleSettings& settings, double final_alpha) {
  return std::visit([&](const auto& kind) { return sample_solver(spec, grid, kind, y_start, settings, final_alpha); },
                    model);
}

std::vector<double> states_on_host(const SampleRun& run) {
  const auto h = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), run.states);
  std::vector<double> out(static_cast<size_t>(run.samples) * run.points * run.dim);
  size_t k = 0;
  for (int p = 0; p < run.samples; ++p)
    for (int i = 0; i < run.points; ++i)
      for (int c = 0; c < run.dim; ++c) out[k++] = h(p, i, c);
  return out;
}

}  // namespace pfode::solver
