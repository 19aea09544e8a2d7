#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <memory>
#include <stdexcept>

#include "app/commands.hpp"
#include "app/order_table.hpp"
#include "io/results_file.hpp"
#include "sweep/checkpoint.hpp"
#include "sweep/plan.hpp"
#include "sweep/progress.hpp"
#include "sweep/runner.hpp"
#include "sweep/series.hpp"

namespace pfode::app {

namespace {

// One line on the first rank; every rank returns the same status.
int fail(const sweep::Ranks& ranks, int status, const std::string& what) {
  if (ranks.first()) std::cerr << "pfode: error: " << what << "\n";
  return status;
}

}  // namespace

int run_command(const RunOptions& options, int argc, char** argv, const sweep::Ranks& ranks) {
  sweep::Experiment experiment;
  sweep::Plan plan;
  try {
    auto overrides = options.overrides;
    if (!options.out.empty()) overrides.push_back("run.out=" + options.out);
    experiment = sweep::load_experiment(options.config, overrides);
    const bool resuming = options.resume && std::filesystem::is_directory(sweep::Checkpoint::directory_for(experiment.out));
    io::check_output_path(experiment.out, options.force || resuming);
    plan = sweep::make_plan(experiment);
  } catch (const std::exception& e) {  // bad config, unusable output path: nothing computed yet
    return fail(ranks, exit_usage, e.what());
  }

  // The first rank sets up the checkpoint directory; the others open it once it is there. Cells
  // computed by another build are not resumed: the results file records one commit.
  const std::string identity = experiment.checkpoint_identity + "# " + io::build_identity() + "\n";
  std::unique_ptr<sweep::Checkpoint> checkpoint;
  std::string setup_error;
  if (ranks.first()) {
    try {
      if (options.force) sweep::Checkpoint::discard(experiment.out);
      checkpoint = std::make_unique<sweep::Checkpoint>(experiment.out, identity, options.resume);
      io::remove_stale_temporaries(experiment.out);  // left by a run killed while writing its results file
    } catch (const std::exception& e) {
      setup_error = e.what();
    }
  }
  if (!ranks.all(setup_error.empty())) return fail(ranks, exit_usage, setup_error);
  std::set<int> finished;
  try {
    if (!ranks.first()) checkpoint = std::make_unique<sweep::Checkpoint>(experiment.out, identity, true, false);
    finished = checkpoint->finished_cells();
  } catch (const std::exception& e) {
    setup_error = e.what();
  }
  if (!ranks.all(setup_error.empty())) return fail(ranks, exit_usage, setup_error);

  const std::set<int> mine = sweep::cells_for_rank(experiment, plan, finished, ranks.rank(), ranks.size());
  std::set<int> skip;
  for (const auto& c : plan.cells)
    if (!mine.count(c.id)) skip.insert(c.id);

  const std::string prefix = ranks.size() > 1 ? "rank " + std::to_string(ranks.rank()) + ": " : "";
  sweep::Progress progress(mine.size(), options.progress, prefix);
  if (!finished.empty())
    progress.note("resuming: " + std::to_string(finished.size()) + " of " + std::to_string(plan.cells.size()) +
                  " cells already done");
  sweep::RunCallbacks callbacks;
  callbacks.reference_done = [&](int group, const results::ReferenceRecord& r) {
    checkpoint->save_reference(group, r);
    char line[256];
    std::snprintf(line, sizeof line, "reference %s/%s/seed=%ld: %ld times, %.0f NFE/sample, error estimate %.1e",
                  r.model.c_str(), r.schedule.c_str(), r.seed, r.times, r.nfe_mean, r.error_estimate);
    progress.note(line);
  };
  callbacks.cell_done = [&](const results::CellResult& c) {
    checkpoint->save_cell(c);
    char line[512];
    std::snprintf(line, sizeof line, "%s NFE %ld: GTE %.3e %s", sweep::describe(experiment, plan.cells[c.id]).c_str(),
                  c.nfe, c.gte_summary.rms, c.status.c_str());
    progress.cell_done(line);
  };

  io::RunRecord rec;
  rec.provenance = io::collect_provenance(argc, argv, options.config);
  rec.provenance.mpi_ranks = ranks.size();
  std::string run_error;
  try {
    sweep::run_plan(experiment, plan, skip, callbacks);
  } catch (const std::exception& e) {
    run_error = e.what();
  }
  progress.finish();
  if (!ranks.all(run_error.empty())) {
    if (!run_error.empty()) std::cerr << "pfode: error: " << prefix << run_error << "\n";
    if (ranks.first()) std::cerr << "pfode: finished cells are kept in " << sweep::Checkpoint::directory_for(experiment.out)
                                 << "; fix the cause and rerun with --resume\n";
    return exit_failure;
  }

  if (!ranks.first()) return exit_ok;
  try {
    rec.resolved_config = experiment.resolved_config;
    rec.models = experiment.models;
    rec.schedules = experiment.schedules;
    rec.cells = checkpoint->load_cells();
    rec.references = checkpoint->load_references();
    if (rec.cells.size() != plan.cells.size())
      throw std::runtime_error("checkpoint holds " + std::to_string(rec.cells.size()) + " of " +
                               std::to_string(plan.cells.size()) + " cells");
    rec.series = sweep::fit_series(rec.cells);
    rec.provenance.utc_end = io::utc_now();
    io::write_results_file(experiment.out, rec);
    checkpoint->remove();
  } catch (const std::exception& e) {
    return fail(ranks, exit_failure, std::string(e.what()) + "; the finished cells are kept in " +
                                         sweep::Checkpoint::directory_for(experiment.out) +
                                         ": fix the cause and rerun with --resume");
  }
  if (!options.quiet) {
    print_order_table(rec);
    std::printf("\nwrote %s\n", experiment.out.c_str());
  }
  return exit_ok;
}

}  // namespace pfode::app
