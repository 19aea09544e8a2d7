// How an output was made: versions, build, machine, times and the command line.
#pragma once

#include <string>

namespace pfode::io {

struct Provenance {
  std::string pfode_version, git_commit, kokkos_version, execution_space, host;
  std::string utc_start, utc_end, command_line, config_path;
  long mpi_ranks = 1;
};

std::string utc_now();  // ISO 8601, e.g. 2026-11-23T10:00:00Z
Provenance collect_provenance(int argc, char** argv, const std::string& config_path);
std::string build_identity();  // "pfode <version> <git commit>": which code computed a result

}  // namespace pfode::io
