// What a plan needs before it starts, so that a plan which plainly cannot fit is refused before
// any compute instead of failing hours in (std::bad_alloc, a full disk). Memory: the largest
// (model, schedule, seed) group at once -- its reference states (samples x times x dim doubles),
// start states and its largest cell's error arrays -- or all results at assembly. Disk: the
// checkpoint and the results file, which exist side by side while the results file is written.
// The per-record sizes are HDF5's as measured on pfode's files; estimates, not byte counts.
#pragma once

#include <optional>
#include <string>

#include "sweep/plan.hpp"

namespace pfode::sweep {

struct ResourceEstimate {
  double memory = 0;             // bytes, peak host memory
  std::string memory_peak;       // what needs it, for a message
  double results_file = 0;       // bytes
  double checkpoint = 0;         // bytes: every cell and reference record, states excluded
  double reference_states = 0;   // bytes the reference states add when they are checkpointed
};

ResourceEstimate estimate_resources(const Experiment& e, const Plan& plan);

// Doubles of the largest group's reference states (samples x times x dim), twice for an imperfect
// model, whose group also solves its exact model's reference.
size_t largest_reference_states(const Experiment& e, const Plan& plan);

// Throws std::invalid_argument when the estimate exceeds the memory available to this process
// (MemAvailable, or less under a cgroup limit).
void check_memory(const ResourceEstimate& need);

// Throws std::invalid_argument when the disk of `out` lacks room for the results file and the
// rest of the checkpoint (`on_disk`: bytes the checkpoint holds already). Returns whether the
// reference states should be checkpointed too: when all of it takes at most half the free space.
bool check_disk(const ResourceEstimate& need, const std::string& out, double on_disk);

// Bytes free to this process in the file system of `dir`; nothing where that is unknown.
std::optional<double> free_bytes(const std::string& dir);

std::string format_bytes(double bytes);  // "763 MB"

}  // namespace pfode::sweep
