// Launching a kernel on a batch of samples in the chosen layout: the policy and the lane to match.
#pragma once

#include <string>

#include "lane/layout.hpp"
#include "lane/pack_lane.hpp"
#include "lane/team_lane.hpp"

namespace pfode::lane {

// run(policy, lane) on the launch shape of `layout`: a TeamPolicy with a TeamLane, or a RangePolicy
// over packs of W samples with a PackLane; either lane evaluates `model` and counts into nfe.
template <int W, class Model, class Run>
auto on_layout(const std::string& label, const KernelLayout& layout, int samples, int slots, const Model& model,
               const NfeCounter& nfe, const Run& run) {
  if (layout.kind == KernelLayout::teams) {
    const auto launch = make_team_launch(label, samples, slots, model, nfe, layout.team);
    return run(launch.first, launch.second);
  }
  return run(Kokkos::RangePolicy<>(0, packs_of<W>(samples)), make_pack_lane<W>(label, samples, slots, model, nfe));
}

}  // namespace pfode::lane
