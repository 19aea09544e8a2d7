// The registry of device model kinds: every kind the solvers and the reference are compiled for.
// Adding a kind: its device struct (model/concept.hpp) in its own header, one line here, and its
// translation unit in src/kinds/ that compiles the solvers and the reference for it.
#pragma once

#include <variant>

#include "model/concept.hpp"
#include "model/full_covariance.hpp"
#include "model/guided.hpp"
#include "model/mixture.hpp"
#include "model/network.hpp"
#include "model/perturbed.hpp"

namespace pfode::model {

using DeviceModel = std::variant<DiagonalMixture, FullCovarianceMixture, Perturbed<DiagonalMixture>,
                                 Perturbed<FullCovarianceMixture>, Guided, Network>;

template <class... Kinds>
constexpr bool all_device_models(const std::variant<Kinds...>*) {
  return (is_device_model_v<Kinds> && ...);
}
static_assert(all_device_models(static_cast<const DeviceModel*>(nullptr)),
              "every kind of DeviceModel provides model/concept.hpp's members");

// The dimension of whichever kind m holds.
inline int dimension(const DeviceModel& m) {
  return std::visit([](const auto& kind) { return kind.dimension(); }, m);
}

// for_samples (model/concept.hpp) of whichever kind m holds.
inline DeviceModel for_samples(const DeviceModel& m, const Kokkos::View<const int*>& index) {
  return std::visit([&](const auto& kind) { return DeviceModel(for_samples(kind, index)); }, m);
}

}  // namespace pfode::model
