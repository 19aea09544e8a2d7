#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <stdexcept>

#include "app/commands.hpp"
#include "common/message.hpp"
#include "io/hdf5.hpp"
#include "io/provenance.hpp"
#include "io/results_file.hpp"
#include "model/start_states.hpp"
#include "optimize/grid_optimizer.hpp"

namespace pfode::app {

namespace {

// results/x.h5 -> results/x-optimize.h5
std::string stem_of(const std::string& h5) {
  const auto dot = h5.rfind(".h5");
  return dot != std::string::npos && dot + 3 == h5.size() ? h5.substr(0, dot) : h5;
}

// A label as a file-name part: brackets, '=' and ',' of solver options become '_'.
std::string file_part(const std::string& label) {
  std::string out;
  for (char c : label) out += std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '.' ? c : '_';
  return out;
}

struct Job {
  optimize::GridProblem problem;
  std::string grid_file;
  optimize::GridOptimum result;
  double seconds = 0;
};

// The training start states: run.samples from each of run.seeds, one after the other.
std::vector<double> start_states(const sweep::Experiment& e, const model::ModelSpec& m, const results::ScheduleEntry& s,
                                 const std::vector<std::uint64_t>& seeds) {
  std::vector<double> y;
  for (auto seed : seeds) {
    const auto part = model::start_states(m, e.start, seed, e.samples, s.schedule.alpha(s.schedule.t_max),
                                          s.schedule.sigma(s.schedule.t_max), s.name);
    y.insert(y.end(), part.begin(), part.end());
  }
  return y;
}

void write_grid_file(const Job& job, const std::string& identity) {
  const auto& p = job.problem;
  const auto& grid = job.result.grids.back();
  const std::string tmp = job.grid_file + ".tmp";
  {
    std::ofstream out(tmp);
    out << "# pfode optimize: " << p.model.name << " / " << p.schedule.name << " / " << p.solver_label << " at NFE "
        << job.result.nfe << " (" << job.result.steps << " steps), " << identity << "\n"
        << "# training GTE RMS " << grid.train_rms << ", held-out " << grid.heldout_rms << "\n";
    char line[40];
    for (double t : grid.t) {
      std::snprintf(line, sizeof line, "%.17g\n", t);
      out << line;
    }
    if (!out.flush()) throw std::runtime_error("cannot write " + tmp);
  }
  std::filesystem::rename(tmp, job.grid_file);
}

}  // namespace

int optimize_command(const OptimizeOptions& options, int argc, char** argv) {
  std::vector<Job> jobs;
  std::string out;
  std::uint64_t heldout_seed = 0;
  try {
    const auto e = sweep::load_experiment(options.config, options.overrides);
    out = options.out.empty() ? stem_of(e.out) + "-optimize.h5" : options.out;
    io::check_output_path(out, options.force);
    heldout_seed = options.heldout_seed >= 0 ? static_cast<std::uint64_t>(options.heldout_seed)
                                             : *std::max_element(e.seeds.begin(), e.seeds.end()) + 1;
    if (std::find(e.seeds.begin(), e.seeds.end(), heldout_seed) != e.seeds.end())
      throw std::invalid_argument("held-out seed " + std::to_string(heldout_seed) + " is one of the training seeds (run.seeds)");
    if (!e.blocks.empty()) throw std::invalid_argument("optimize takes the sweep's lists, not [plan.*] blocks");
    std::vector<sweep::SpacingEntry> spacings;
    for (const auto& [spacing, solver] : e.spacing_solver_pairs)
      if (std::none_of(spacings.begin(), spacings.end(), [&](const auto& s) { return s.label == e.spacings[spacing].label; }))
        spacings.push_back(e.spacings[spacing]);
    std::vector<int> solvers;
    for (const auto& [spacing, solver] : e.spacing_solver_pairs)
      if (std::find(solvers.begin(), solvers.end(), solver) == solvers.end()) solvers.push_back(solver);
    for (const auto& m : e.models)
      for (const auto& s : e.schedules) {
        const auto y_train = start_states(e, m, s, e.seeds);
        const auto y_heldout = start_states(e, m, s, {heldout_seed});
        for (int solver : solvers)
          for (int nfe : e.nfe) {
            Job job;
            auto& p = job.problem;
            p.model = m;
            p.schedule = s;
            p.solver_label = e.solvers[solver].label;
            p.solver = e.solvers[solver].spec;
            optimize::check_solver(p.solver, p.solver_label);
            p.nfe_budget = nfe;
            p.y_train = y_train;
            p.y_heldout = y_heldout;
            p.candidates = options.candidates;
            p.spacings = spacings;
            p.reference = sweep::reference_settings(e);
            job.grid_file = stem_of(out) + "-" + file_part(m.name) + "-" + file_part(s.name) + "-" +
                            file_part(p.solver_label) + "-nfe" + std::to_string(nfe) + ".txt";
            io::check_output_path(job.grid_file, options.force);
            jobs.push_back(std::move(job));
          }
      }
  } catch (const std::exception& e) {  // bad config or options, unusable output path
    std::cerr << "pfode: error: " << printable_message(e.what()) << "\n";
    return exit_usage;
  }

  for (auto& job : jobs) {
    const auto start = std::chrono::steady_clock::now();
    try {
      job.result = optimize::optimize_grid(job.problem);
    } catch (const std::invalid_argument& e) {  // a budget too small for its solver, too few candidates
      std::cerr << "pfode: error: " << printable_message(e.what()) << "\n";
      return exit_usage;
    } catch (const std::exception& e) {
      std::cerr << "pfode: error: " << printable_message(e.what()) << "\n";
      return exit_failure;
    }
    job.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    if (!options.quiet) {
      const auto& p = job.problem;
      const auto& r = job.result;
      std::printf("%s / %s / %s, NFE %d (%d steps), %zu training and %zu held-out samples, %.1f s:\n",
                  p.model.name.c_str(), p.schedule.name.c_str(), p.solver_label.c_str(), r.nfe, r.steps,
                  p.y_train.size() / p.model.dim, p.y_heldout.size() / p.model.dim, job.seconds);
      std::printf("  %-22s %14s %14s\n", "grid", "train GTE RMS", "held-out");
      for (const auto& g : r.grids) std::printf("  %-22s %14.6e %14.6e\n", g.name.c_str(), g.train_rms, g.heldout_rms);
      std::printf("  dp: %ld solver runs priced its steps (%s); local search from %s: %d objectives, %zu kept moves\n",
                  r.cost_runs, r.dp_exact ? "exact" : "heuristic, history-dependent", r.search_start.c_str(),
                  r.search.evaluations, r.search.history.size() - 1);
    }
  }

  const auto provenance = io::collect_provenance(argc, argv, options.config);
  try {
    for (const auto& job : jobs) write_grid_file(job, io::build_identity());
    io::write_file_atomically(out, [&](const io::Group& root) {
      root.write_attribute("pfode_version", provenance.pfode_version);
      root.write_attribute("git_commit", provenance.git_commit);
      root.write_attribute("kokkos_version", provenance.kokkos_version);
      root.write_attribute("execution_space", provenance.execution_space);
      root.write_attribute("host", provenance.host);
      root.write_attribute("utc_start", provenance.utc_start);
      root.write_attribute("command_line", provenance.command_line);
      root.write_attribute("config_path", provenance.config_path);
      root.write_attribute("objective", std::string("gte_rms"));
      root.write_attribute("heldout_seed", static_cast<long>(heldout_seed));
      const auto all = root.create_group("optimize");
      for (size_t k = 0; k < jobs.size(); ++k) {
        const auto& p = jobs[k].problem;
        const auto& r = jobs[k].result;
        char name[16];
        std::snprintf(name, sizeof name, "%06zu", k);
        const auto g = all.create_group(name);
        g.write_attribute("model", p.model.name);
        g.write_attribute("schedule", p.schedule.name);
        g.write_attribute("solver", p.solver_label);
        g.write_attribute("nfe_budget", static_cast<long>(p.nfe_budget));
        g.write_attribute("nfe", static_cast<long>(r.nfe));
        g.write_attribute("steps", static_cast<long>(r.steps));
        g.write_attribute("candidates", static_cast<long>(p.candidates));
        g.write_attribute("training_samples", static_cast<long>(p.y_train.size() / p.model.dim));
        g.write_attribute("heldout_samples", static_cast<long>(p.y_heldout.size() / p.model.dim));
        g.write_attribute("grid_file", jobs[k].grid_file);
        g.write_attribute("search_start", r.search_start);
        g.write_attribute("search_evaluations", static_cast<long>(r.search.evaluations));
        g.write_attribute("reference_error", r.reference_error);
        g.write_attribute("wall_time", jobs[k].seconds);
        g.write_attribute("reference_wall_time", r.reference_seconds);
        g.write_attribute("dp_wall_time", r.dp_seconds);
        g.write_attribute("search_wall_time", r.search_seconds);
        g.write_attribute("heldout_wall_time", r.heldout_seconds);
        const auto points = static_cast<hsize_t>(r.candidate_t.size());
        g.write_dataset("candidate_t", r.candidate_t, {points});
        if (r.dp_exact) g.write_dataset("step_cost", r.step_cost, {points, points});
        g.write_attribute("dp_costs", std::string(r.dp_exact ? "exact one-step errors" : "LTE along the dp's own prefix (heuristic)"));
        g.write_attribute("cost_runs", r.cost_runs);
        g.write_dataset("dp_indices", std::vector<long>(r.dp.indices.begin(), r.dp.indices.end()));
        g.write_dataset("dp_step_cost", r.dp.step_cost, {static_cast<hsize_t>(r.dp.step_cost.size())});
        g.write_attribute("dp_cost", r.dp.cost);
        g.write_dataset("objective_history", r.search.history, {static_cast<hsize_t>(r.search.history.size())});
        std::string names;
        std::vector<double> t, lambda, train, heldout;
        for (const auto& grid : r.grids) {
          names += (names.empty() ? "" : "\n") + grid.name;
          t.insert(t.end(), grid.t.begin(), grid.t.end());
          for (double ti : grid.t) lambda.push_back(p.schedule.schedule.lambda(ti));
          train.push_back(grid.train_rms);
          heldout.push_back(grid.heldout_rms);
        }
        const auto grids = static_cast<hsize_t>(r.grids.size());
        g.write_string_dataset("grid_names", names);
        g.write_dataset("grid_t", t, {grids, static_cast<hsize_t>(r.steps + 1)});
        g.write_dataset("grid_lambda", lambda, {grids, static_cast<hsize_t>(r.steps + 1)});
        g.write_dataset("train_gte_rms", train, {grids});
        g.write_dataset("heldout_gte_rms", heldout, {grids});
      }
    });
  } catch (const std::exception& e) {
    std::cerr << "pfode: error: writing " << out << ": " << printable_message(e.what()) << "\n";
    return exit_failure;
  }
  if (!options.quiet) std::printf("wrote %s and %zu grid files\n", out.c_str(), jobs.size());
  return exit_ok;
}

}  // namespace pfode::app
