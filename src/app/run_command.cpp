#include <cmath>
#include <cstdio>
#include <iostream>
#include <stdexcept>

#include "app/commands.hpp"
#include "io/results_file.hpp"
#include "sweep/plan.hpp"
#include "sweep/runner.hpp"

namespace pfode::app {

namespace {

std::string format_order(const metrics::OrderFit& f) {
  if (!f.valid) return "   n/a      ";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%5.2f +- %4.2f", f.order, f.standard_error);
  return buf;
}

void print_table(const io::RunRecord& rec) {
  std::printf("\n%-10s %-10s %-14s %-16s %9s %11s %14s %6s %14s %6s\n", "model", "schedule", "spacing", "solver",
              "NFE", "GTE (RMS)", "GTE order", "theory", "LTE order", "theory");
  for (const auto& f : rec.series) {
    const auto& last = rec.cells[f.cells.back()];
    char nfe[32];
    std::snprintf(nfe, sizeof nfe, "%g-%g", f.nfe.front(), f.nfe.back());
    std::printf("%-10s %-10s %-14s %-16s %9s %11.3e %14s %6ld %14s %6ld\n", f.model.c_str(), f.schedule.c_str(),
                f.spacing.c_str(), f.solver.c_str(), nfe, last.gte_summary.rms, format_order(f.gte).c_str(),
                f.order_theory, format_order(f.lte).c_str(), f.order_theory + 1);
  }
  std::printf("\nGTE: RMS over samples of the per-sample RMS error at t_min, at the largest NFE. Orders: least-squares\n"
              "slope of log error vs log NFE over the asymptotic points (+- standard error); cells within 10x of the\n"
              "reference's error are excluded.\n");
}

}  // namespace

int run_command(const RunOptions& options, int argc, char** argv) {
  io::RunRecord rec;
  sweep::Experiment experiment;
  sweep::Plan plan;
  try {
    auto overrides = options.overrides;
    if (!options.out.empty()) overrides.push_back("run.out=" + options.out);
    experiment = sweep::load_experiment(options.config, overrides);
    io::check_output_path(experiment.out, options.force);
    plan = sweep::make_plan(experiment);
  } catch (const std::invalid_argument& e) {
    std::cerr << "pfode: error: " << e.what() << "\n";
    return exit_usage;
  }

  rec.provenance = io::collect_provenance(argc, argv, options.config);
  rec.resolved_config = experiment.resolved_config;
  rec.models = experiment.models;
  rec.cells.resize(plan.cells.size());
  const size_t total = plan.cells.size();
  size_t done = 0;
  sweep::RunCallbacks callbacks;
  callbacks.reference_done = [&](const sweep::ReferenceRecord& r) {
    rec.references.push_back(r);
    if (!options.quiet)
      std::fprintf(stderr, "reference %s/%s/seed=%ld: %ld times, %.0f NFE/sample, error estimate %.1e\n",
                   r.model.c_str(), r.schedule.c_str(), r.seed, r.times, r.nfe_mean, r.error_estimate);
  };
  callbacks.cell_done = [&](const sweep::CellResult& c) {
    rec.cells[c.id] = c;
    ++done;
    if (!options.quiet)
      std::fprintf(stderr, "[%zu/%zu] %s NFE %ld: GTE %.3e %s\n", done, total, sweep::describe(experiment, plan.cells[c.id]).c_str(),
                   c.nfe, c.gte_summary.rms, c.status.c_str());
  };
  try {
    sweep::run_plan(experiment, plan, {}, callbacks);
    rec.series = sweep::fit_series(rec.cells);
    rec.provenance.utc_end = io::utc_now();
    io::write_results_file(experiment.out, rec);
  } catch (const std::exception& e) {
    std::cerr << "pfode: error: " << e.what() << "\n";
    return exit_failure;
  }
  if (!options.quiet) {
    print_table(rec);
    std::printf("\nwrote %s\n", experiment.out.c_str());
  }
  return exit_ok;
}

}  // namespace pfode::app
