#include "io/provenance.hpp"

#include <unistd.h>

#include <ctime>

#include "compat/kokkos_compat.hpp"
#include "pfode/git_version.hpp"

namespace pfode::io {

std::string utc_now() {
  const std::time_t now = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&now, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

std::string build_identity() { return std::string("pfode ") + PFODE_VERSION + " " + PFODE_GIT_COMMIT; }

Provenance collect_provenance(int argc, char** argv, const std::string& config_path) {
  Provenance p;
  p.pfode_version = PFODE_VERSION;
  p.git_commit = PFODE_GIT_COMMIT;
  p.kokkos_version = std::to_string(KOKKOS_VERSION / 10000) + "." + std::to_string(KOKKOS_VERSION / 100 % 100) + "." +
                     std::to_string(KOKKOS_VERSION % 100);
  p.execution_space = execution_space_name();
  char host[256] = {};
  if (gethostname(host, sizeof host - 1) == 0) p.host = host;
  p.utc_start = utc_now();
  for (int i = 0; i < argc; ++i) p.command_line += (i ? " " : "") + std::string(argv[i]);
  p.config_path = config_path;
  return p;
}

}  // namespace pfode::io
