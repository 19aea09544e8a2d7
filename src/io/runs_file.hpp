// The runs file that `pfode score` reads (layout in README.md, "Output"), written by a sampler
// outside pfode (analysis/pfode_problem.py writes it from Python).
#pragma once

#include <string>

#include "external/runs.hpp"

namespace pfode::io {

inline constexpr const char* runs_format = "pfode-runs-1";

// Reads every run and checks the file's structure: format, the attributes and datasets each run
// needs and their ranks. Throws std::invalid_argument naming the file, the run and the problem.
// (What the runs must share with their problem is checked by external::check_runs.)
external::RunsFile read_runs_file(const std::string& path);

}  // namespace pfode::io
