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
int list_command();
// `pfode bench [options]`: throughput benchmark (src/bench); argv[1] is "bench".
int bench_command(int argc, char** argv);


}  // namespace pfode::app
