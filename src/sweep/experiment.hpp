// An experiment as the config file states it, validated and resolved: every axis of the sweep
// with its values, the run settings, and the resolved text recorded in the output.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "lane/layout.hpp"
#include "model/model_spec.hpp"
#include "model/start_states.hpp"
#include "results/records.hpp"
#include "schedule/schedule.hpp"
#include "solver/registry.hpp"
#include "spacing/spacing.hpp"

namespace pfode::sweep {

struct SpacingEntry {
  std::string label;  // as written, e.g. "karras[rho=5]"
  spacing::Spacing spacing;
};
struct SolverEntry {
  std::string label;  // as written, e.g. "heun[variable=s]"
  solver::SolverSpec spec;
};

// The largest NFE budget a sweep accepts: far past any asymptotic range, and a bound on the time
// grids (and the reference's output times) a cell can ask for.
inline constexpr int max_nfe = 1000000;

struct Experiment {
  std::string config_path;
  std::string resolved_config;  // every setting after overrides and defaults, as INI text
  // What an interrupted run must share with its --resume: the resolved config less run.out (the
  // output may be spelled differently) and a fingerprint of the data read from model, start-state
  // and grid files (the config names them; their contents may change).
  std::string checkpoint_identity;
  std::string out;              // output HDF5 file
  int samples = 64;
  std::vector<std::uint64_t> seeds{0};
  model::StartSpec start;
  double reference_tolerance = 1e-13;
  bool reference_pack_step = false;  // run.reference_step = pack (else sample)
  bool measure_local_error = true;
  // run.layout, resolved (lane/layout.hpp): how the fixed-grid solvers and the reference with its
  // own steps per sample map samples and coordinates onto the machine.
  lane::KernelLayout::Kind layout = lane::auto_layout();
  // Run every schedule over the same interval of s = sigma/alpha (the intersection of their
  // ranges), so all integrate the same canonical ODE from the same start states.
  bool common_s_interval = false;
  // run.denoise_target = zero: final=denoise cells end at sigma = 0 (x = D, alpha = 1) and are
  // measured against x*(0), their group's reference continued to s = 0; grid_end (default):
  // x = alpha_N D against x*(t_N).
  bool denoise_to_zero = false;
  // run.save_states (none | final | grid) for the samples run.save_samples names (all by default;
  // empty with none).
  enum class SaveStates { none, final, grid };
  SaveStates save_states = SaveStates::none;
  std::vector<int> save_samples;
  // Stochastic samplers and weak errors (README.md, "Stochastic samplers"):
  int sde_refinement = 64;  // run.sde_refinement: steps of the strong reference per step (even)
  int brownian_depth = 26;  // run.brownian_depth: levels of the Brownian tree (leaf 64/2^depth in log s)
  long weak_samples = 0;    // run.weak_samples: samples of every cell's weak error (0: none)
  double mmd_bandwidth = 0; // run.mmd_bandwidth: the MMD kernel's width l in x (0: auto)
  int mmd_block = 1024;     // run.mmd_block: samples per block U-statistic of the MMD

  std::vector<model::ModelSpec> models;
  std::vector<results::ScheduleEntry> schedules;
  std::vector<SpacingEntry> spacings;
  std::vector<SolverEntry> solvers;
  // The (spacing, solver) pairs the plan crosses with the other axes: every spacing with every
  // solver of the config, plus each preset's own pair (a preset's spacing and solver are appended
  // to the lists above but are not crossed with the others).
  std::vector<std::pair<int, int>> spacing_solver_pairs;
  std::vector<int> nfe;
  // A plan that is not one product: the union of these blocks' products ([plan.NAME] sections),
  // each over its own models, schedules, (spacing, solver) pairs and budgets (indices into the
  // lists above; seeds are the run's). Empty: the product of the lists above.
  struct PlanBlock {
    std::string name;  // "plan.NAME"
    std::vector<int> models, schedules, nfe;
    std::vector<std::pair<int, int>> spacing_solver_pairs;
  };
  std::vector<PlanBlock> blocks;
};

// Reads an INI file (Boost.Program_options syntax), applies "section.key=value" overrides, and
// validates everything before any compute; throws std::invalid_argument with one line naming
// the problem.
Experiment load_experiment(const std::string& path, const std::vector<std::string>& overrides);

}  // namespace pfode::sweep
