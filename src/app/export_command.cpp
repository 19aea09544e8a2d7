#include <cstdio>
#include <iostream>
#include <stdexcept>

#include "app/commands.hpp"
#include "io/problem_file.hpp"
#include "io/results_file.hpp"

namespace pfode::app {

namespace {

// results/x.h5 -> results/x-problem.h5
std::string default_problem_path(const std::string& results) {
  const auto dot = results.rfind(".h5");
  const std::string stem = dot != std::string::npos && dot + 3 == results.size() ? results.substr(0, dot) : results;
  return stem + "-problem.h5";
}

}  // namespace

int export_command(const ExportOptions& options, int argc, char** argv) {
  external::Problem problem;
  std::string out;
  try {
    const auto experiment = sweep::load_experiment(options.config, options.overrides);
    out = options.out.empty() ? default_problem_path(experiment.out) : options.out;
    io::check_output_path(out, options.force);
    problem = external::make_problem(experiment, sweep::make_plan(experiment));
  } catch (const std::exception& e) {  // bad config, unusable output path
    std::cerr << "pfode: error: " << e.what() << "\n";
    return exit_usage;
  }
  try {
    io::write_problem_file(out, problem, io::collect_provenance(argc, argv, options.config));
  } catch (const std::exception& e) {
    std::cerr << "pfode: error: writing " << out << ": " << e.what() << "\n";
    return exit_failure;
  }
  if (!options.quiet)
    std::printf("wrote %s: problem %s, %zu models, %zu schedules, %zu start-state groups of %d samples, %zu grids\n",
                out.c_str(), problem.id.c_str(), problem.models.size(), problem.schedules.size(), problem.starts.size(),
                problem.samples, problem.grids.size());
  return exit_ok;
}

}  // namespace pfode::app
