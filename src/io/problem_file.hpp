// The problem file of `pfode export` (layout in README.md, "Output"): what a sampler outside
// pfode needs -- models, schedules, start states, time grids -- and what `pfode score` needs to
// solve the references again. This file and its reader are the one definition of the format;
// analysis/pfode_problem.py reads it for Python samplers.
#pragma once

#include <string>

#include "external/problem.hpp"
#include "io/provenance.hpp"

namespace pfode::io {

inline constexpr const char* problem_format = "pfode-problem-1";

// Written atomically (temporary, then rename).
void write_problem_file(const std::string& path, const external::Problem& problem, const Provenance& provenance);

// Reads and checks the file: its format, every group's shape, and that its content still has the
// fingerprint it was written with. Throws std::invalid_argument naming the file and the problem.
external::Problem read_problem_file(const std::string& path);

}  // namespace pfode::io
