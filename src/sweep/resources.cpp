#include "sweep/resources.hpp"

#include <sys/statvfs.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <limits>
#include <stdexcept>

#include "solver/registry.hpp"
#include "sweep/runner.hpp"

namespace pfode::sweep {

namespace {

// HDF5's bytes per record beyond its values (object headers, attributes, a file's superblock),
// measured on pfode's files: a cell group in the results file, a cell file and a reference file
// of the checkpoint.
constexpr double results_cell_overhead = 8e3, checkpoint_cell_overhead = 13e3, checkpoint_reference_bytes = 7e3;
constexpr double results_fixed_bytes = 1e5;

// Doubles a cell stores: the grid and lambda on it, the global error statistics along it and the
// LTE per step (N + 1 points), per-sample GTE, and the saved samples' states with their targets
// (run.save_states: final states, or states at every grid point).
double cell_values(const Experiment& e, const Cell& c) {
  const double points = static_cast<double>(c.times.size());
  const bool lte = e.measure_local_error && !solver::is_adaptive(e.solvers[c.solver].spec);
  const double saved = 2.0 * static_cast<double>(e.save_samples.size()) * e.models[c.model].dim;
  const double states = e.save_states == Experiment::SaveStates::none   ? 0.0
                        : e.save_states == Experiment::SaveStates::final ? saved
                                                                          : saved * (points + 1);
  return 5.0 * points + (lte ? 3.0 * (points - 1) : 0.0) + 2.0 * e.samples + states;
}

// Bytes of memory a process may still take: MemAvailable, less under a cgroup (v2 or v1) limit;
// infinity when neither can be read.
double available_memory() {
  double available = std::numeric_limits<double>::infinity();
  std::ifstream meminfo("/proc/meminfo");
  for (std::string key; meminfo >> key;) {
    double kb = 0;
    meminfo >> kb;
    if (key == "MemAvailable:") available = kb * 1024.0;
    meminfo.ignore(std::numeric_limits<std::streamsize>::max(), '\n');
  }
  auto number = [](const char* path) {
    std::ifstream in(path);
    double v = std::numeric_limits<double>::infinity();
    std::string text;
    if (in >> text && text != "max") {
      try {
        v = std::stod(text);
      } catch (const std::exception&) {
      }
    }
    return v;
  };
  const double v2 = number("/sys/fs/cgroup/memory.max") - number("/sys/fs/cgroup/memory.current");
  const double v1 = number("/sys/fs/cgroup/memory/memory.limit_in_bytes") -
                    number("/sys/fs/cgroup/memory/memory.usage_in_bytes");
  for (double limit : {v2, v1})
    if (std::isfinite(limit) && limit > 0 && limit < 1e18) available = std::min(available, limit);
  return available;
}

}  // namespace

std::string format_bytes(double bytes) {
  const char* units[] = {"bytes", "kB", "MB", "GB", "TB", "PB"};
  int u = 0;
  while (bytes >= 1000 && u < 5) {
    bytes /= 1000;
    ++u;
  }
  char buf[32];
  std::snprintf(buf, sizeof buf, bytes < 10 && u > 0 ? "%.1f %s" : "%.0f %s", bytes, units[u]);
  return buf;
}

size_t largest_reference_states(const Experiment& e, const Plan& plan) {
  size_t largest = 0;
  for (const auto& g : plan.groups) {
    if (g.cells.empty()) continue;
    const auto& model = e.models[g.model];
    const size_t solves = model.is_exact() ? 1 : 2;
    largest = std::max(largest, solves * e.samples * model.dim * static_cast<size_t>(reference_outputs(e, plan, g)));
  }
  return largest;
}

ResourceEstimate estimate_resources(const Experiment& e, const Plan& plan) {
  ResourceEstimate need;
  const double samples = e.samples, word = sizeof(double);
  double all_values = 0;
  for (const auto& c : plan.cells) {
    const double values = cell_values(e, c);
    all_values += values;
    need.results_file += results_cell_overhead + word * values;
    need.checkpoint += checkpoint_cell_overhead + word * values;
  }
  need.results_file += results_fixed_bytes;
  need.checkpoint += checkpoint_reference_bytes * static_cast<double>(plan.groups.size());
  for (const auto& g : plan.groups) {
    if (g.cells.empty()) continue;
    const double dim = e.models[g.model].dim, times = static_cast<double>(reference_outputs(e, plan, g));
    const double states = word * samples * times * dim;
    need.reference_states += states;
    // The reference (tight solve, sparse solve for its error estimate, start states on host and
    // device) lives while the group's cells run; a cell's error arrays (global and local error,
    // final states) exist on the device and as host copies.
    double largest_cell = 0;
    for (int id : g.cells) {
      const double points = static_cast<double>(plan.cells[id].times.size());
      largest_cell = std::max(largest_cell, 2.0 * word * samples * (2.0 * points + dim) + word * cell_values(e, plan.cells[id]));
    }
    const double group = states + word * samples * dim * (9.0 + 2.0) + largest_cell;
    if (group > need.memory) {
      need.memory = group;
      char what[256];
      std::snprintf(what, sizeof what, "the reference of %s: %d samples x %.0f times x %.0f coordinates and its largest cell",
                    describe(e, g).c_str(), e.samples, times, dim);
      need.memory_peak = what;
    }
  }
  // Assembly holds every cell's results at once.
  const double results = word * all_values + 1e3 * static_cast<double>(plan.cells.size());
  if (results > need.memory) {
    need.memory = results;
    need.memory_peak = "the results of all " + std::to_string(plan.cells.size()) + " cells";
  }
  return need;
}

void check_memory(const ResourceEstimate& need) {
  const double available = available_memory();
  if (need.memory > available)
    throw std::invalid_argument("the plan needs about " + format_bytes(need.memory) + " of memory (" +
                                need.memory_peak + "), more than the " + format_bytes(available) +
                                " available; use fewer samples, or split the sweep into several runs");
}

bool check_disk(const ResourceEstimate& need, const std::string& out, double on_disk) {
  namespace fs = std::filesystem;
  const fs::path path(out);
  const std::string dir = path.has_parent_path() ? path.parent_path().string() : ".";
  const auto available = free_bytes(dir);
  if (!available) return false;  // unknown: run, without the optional states
  const double required = std::max(0.0, need.results_file + need.checkpoint - on_disk);
  if (required > *available)
    throw std::invalid_argument("not enough disk space for '" + out + "': the run needs about " +
                                format_bytes(required) + " more (results file " + format_bytes(need.results_file) +
                                ", checkpoint " + format_bytes(need.checkpoint) + "), and " + format_bytes(*available) +
                                " are free in '" + dir + "'");
  return required + need.reference_states <= 0.5 * *available;
}

std::optional<double> free_bytes(const std::string& dir) {
  struct statvfs fs_info {};
  if (statvfs(dir.c_str(), &fs_info) != 0) return std::nullopt;
  return static_cast<double>(fs_info.f_bavail) * static_cast<double>(fs_info.f_frsize);
}

}  // namespace pfode::sweep
