#include "reference/dop853.hpp"

#include <variant>

namespace pfode::reference {

void dop853(const std::string& label, const model::DeviceModel& model, Kokkos::View<const double**> y_start,
            Kokkos::View<const double*> u_out, const Dop853Settings& settings, const lane::NfeCounter& nfe,
            const States& y_out, const Kokkos::View<int*>& failed, const Kokkos::View<long**>& steps,
            lane::TeamShape team_shape) {
  std::visit(
      [&](const auto& kind) {
        dop853<lane::pack_width>(label, kind, y_start, u_out, settings, nfe, y_out, failed, steps, team_shape);
      },
      model);
}

}  // namespace pfode::reference
