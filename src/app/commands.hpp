// The pfode command-line commands; each returns the process exit status.
#pragma once

#include <string>
#include <vector>

#include "sweep/distribution.hpp"
#include "sweep/progress.hpp"

namespace pfode::app {

inline constexpr int exit_ok = 0;
inline constexpr int exit_failure = 1;  // the run could not finish (e.g. reference or write failed)
inline constexpr int exit_usage = 2;    // bad command line or config

struct RunOptions {
  std::string config;
  std::string out;                     // overrides run.out when not empty
  std::vector<std::string> overrides;  // section.key=value
  bool force = false;   // replace an existing output and discard an interrupted run's checkpoint
  bool resume = false;  // continue an interrupted run from its checkpoint
  bool quiet = false;   // no progress and no order table
  sweep::Progress::Mode progress = sweep::Progress::Mode::automatic;
};

int run_command(const RunOptions& options, int argc, char** argv, const sweep::Ranks& ranks);

struct ExportOptions {
  std::string config;
  std::string out;                     // default: run.out with "-problem" before ".h5"
  std::vector<std::string> overrides;  // section.key=value
  bool force = false;                  // replace an existing problem file
  bool quiet = false;
};
// `pfode export CONFIG`: the problem file an outside sampler runs from (external/problem.hpp).
int export_command(const ExportOptions& options, int argc, char** argv);

struct ScoreOptions {
  std::string problem, runs;
  std::string out;  // default: RUNS with "-scored" before ".h5"
  bool force = false;
  bool quiet = false;
};
// `pfode score PROBLEM RUNS`: the results file of an outside sampler's runs (external/score.hpp).
int score_command(const ScoreOptions& options, int argc, char** argv);
struct OptimizeOptions {
  std::string config;
  std::string out;                     // default: run.out with "-optimize" before ".h5"
  std::vector<std::string> overrides;  // section.key=value
  int candidates = 64;                 // intervals of the candidate set, uniform in lambda
  std::string objective = "gte-rms";   // optimize::parse_objective
  int starts = 1;                      // local searches from the best starting grids
  long heldout_seed = -1;              // -1: one past the largest of run.seeds
  bool force = false;                  // replace existing outputs
  bool quiet = false;
};
// `pfode optimize CONFIG`: the time grid of least GTE per (model, schedule, solver, NFE budget)
// of the sweep (src/optimize); writes custom[file=...] grid files and one HDF5 file.
int optimize_command(const OptimizeOptions& options, int argc, char** argv);
int list_command();
// `pfode bench [options]`: throughput benchmark (src/bench); argv[1] is "bench".
int bench_command(int argc, char** argv);


}  // namespace pfode::app
