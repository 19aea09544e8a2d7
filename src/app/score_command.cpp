#include <cstdio>
#include <filesystem>
#include <iostream>
#include <stdexcept>

#include "app/commands.hpp"
#include "app/order_table.hpp"
#include "external/score.hpp"
#include "io/problem_file.hpp"
#include "io/results_file.hpp"
#include "io/runs_file.hpp"
#include "sweep/series.hpp"

namespace pfode::app {

namespace {

// results/x.h5 -> results/x-scored.h5
std::string default_scores_path(const std::string& runs) {
  const auto dot = runs.rfind(".h5");
  const std::string stem = dot != std::string::npos && dot + 3 == runs.size() ? runs.substr(0, dot) : runs;
  return stem + "-scored.h5";
}

}  // namespace

int score_command(const ScoreOptions& options, int argc, char** argv) {
  external::Problem problem;
  external::RunsFile runs;
  const std::string out = options.out.empty() ? default_scores_path(options.runs) : options.out;
  try {  // every input is checked before any compute
    io::check_output_path(out, options.force);
    for (const auto& input : {options.problem, options.runs})
      if (std::filesystem::exists(input) && std::filesystem::exists(out) && std::filesystem::equivalent(input, out))
        throw std::invalid_argument("output '" + out + "' is one of the inputs");
    problem = io::read_problem_file(options.problem);
    runs = io::read_runs_file(options.runs);
    external::check_runs(problem, options.problem, runs);
  } catch (const std::exception& e) {
    std::cerr << "pfode: error: " << e.what() << "\n";
    return exit_usage;
  }
  io::RunRecord rec;
  try {
    rec.provenance = io::collect_provenance(argc, argv, options.problem);
    rec.external_runs = options.runs;
    rec.problem_file = options.problem;
    rec.problem_id = problem.id;
    rec.resolved_config = problem.resolved_config;
    rec.models = problem.models;
    rec.schedules = problem.schedules;
    auto scores = external::score_runs(problem, runs, [&](const results::ReferenceRecord& r) {
      if (!options.quiet)
        std::fprintf(stderr, "reference %s/%s/seed=%ld: %ld times, %.0f NFE/sample, error estimate %.1e, %.2f s\n",
                     r.model.c_str(), r.schedule.c_str(), r.seed, r.times, r.nfe_mean, r.error_estimate, r.wall_time);
    });
    rec.cells = std::move(scores.cells);
    rec.references = std::move(scores.references);
    rec.series = sweep::fit_series(rec.cells);
    rec.provenance.utc_end = io::utc_now();
    io::write_results_file(out, rec);
  } catch (const std::exception& e) {  // a reference that failed, a write that failed
    std::cerr << "pfode: error: " << e.what() << "\n";
    return exit_failure;
  }
  if (!options.quiet) {
    print_order_table(rec);
    std::printf("\nwrote %s\n", out.c_str());
  }
  return exit_ok;
}

}  // namespace pfode::app
