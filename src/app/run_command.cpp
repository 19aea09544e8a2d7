#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <functional>
#include <filesystem>
#include <iostream>
#include <memory>
#include <optional>
#include <sstream>
#include <stdexcept>

#include "app/commands.hpp"
#include "app/interrupts.hpp"
#include "app/order_table.hpp"
#include "common/message.hpp"
#include "io/output_lock.hpp"
#include "io/results_file.hpp"
#include "sweep/checkpoint.hpp"
#include "sweep/plan.hpp"
#include "sweep/progress.hpp"
#include "sweep/resources.hpp"
#include "sweep/runner.hpp"
#include "sweep/series.hpp"

namespace pfode::app {

namespace {

// One line on the first rank; every rank returns the same status.
int fail(const sweep::Ranks& ranks, int status, const std::string& what) {
  if (ranks.first()) std::cerr << "pfode: error: " + printable_message(what) + "\n";  // one write (ranks share stderr)
  return status;
}

// `text` as one shell word.
std::string shell_word(const std::string& text) {
  if (!text.empty() && text.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-+=./,:@%") ==
                           std::string::npos)
    return text;
  std::string quoted = "'";
  for (char ch : text) quoted += ch == '\'' ? std::string("'\\''") : std::string(1, ch);
  return quoted + "'";
}

// The command line that continues this run: the same one, with --resume instead of --force.
std::string resume_command(int argc, char** argv, int ranks) {
  std::string command;
  bool resume = false;
  for (int i = 0; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--force") continue;
    resume = resume || arg == "--resume";
    command += (command.empty() ? "" : " ") + shell_word(arg);
  }
  if (!resume) command += " --resume";
  if (ranks > 1) command += "   (under the same MPI launcher, " + std::to_string(ranks) + " ranks)";
  return command;
}

// Whether the results file `out` holds what this experiment would compute: the same resolved
// config (less run.out, which may be spelled differently) from the same pfode build.
bool holds_this_run(const std::string& out, const sweep::Experiment& e) {
  auto without_out = [](const std::string& config) {
    std::istringstream in(config);
    std::string line, section, kept;
    while (std::getline(in, line)) {
      if (!line.empty() && line.front() == '[') section = line;
      if (section == "[run]" && line.rfind("out = ", 0) == 0) continue;
      kept += line + "\n";
    }
    return kept;
  };
  try {
    const auto file = io::File::open_read(out);
    const auto root = file.root();
    const auto p = io::collect_provenance(0, nullptr, "");
    return without_out(root.read_string_dataset("config")) == without_out(e.resolved_config) &&
           root.read_string_attribute("git_commit") == p.git_commit &&
           root.read_string_attribute("pfode_version") == p.pfode_version;
  } catch (const std::exception&) {
    return false;
  }
}

// What an interrupted run says (app/interrupts.hpp): what is checkpointed and the command that
// continues. It reads the directory, so it holds whenever the signal comes, even on the way out.
std::function<std::string(const std::string&)> interrupt_report(const std::string& out, const std::string& resume,
                                                                bool first, size_t cells, size_t groups,
                                                                bool holds_lock) {
  return [=](const std::string& signal) -> std::string {
    if (holds_lock) ::unlink(io::OutputLock::path_for(out).c_str());
    if (!first) return "";
    namespace fs = std::filesystem;
    const std::string partial = sweep::Checkpoint::directory_for(out);
    std::error_code ec;
    if (!fs::is_directory(partial, ec))
      return "pfode: interrupted by " + signal + "; " +
             (fs::exists(out, ec) ? "'" + out + "' is complete" : std::string("nothing was written")) + "\n";
    std::string held = "the finished cells";
    try {
      const sweep::Checkpoint checkpoint(out, "", true, false);
      held = std::to_string(checkpoint.cells_on_disk()) + " of " + std::to_string(cells) + " cells and " +
             std::to_string(checkpoint.finished_references().size()) + " of " + std::to_string(groups) + " references";
    } catch (const std::exception&) {
    }
    return "pfode: interrupted by " + signal + ": " + held + " are checkpointed in '" + partial +
           "'; the cells not yet written there were discarded\npfode: continue with: " + resume + "\n";
  };
}

bool disk_full(const std::string& message) { return message.find(std::strerror(ENOSPC)) != std::string::npos; }

}  // namespace

int run_command(const RunOptions& options, int argc, char** argv, const sweep::Ranks& ranks) {
  namespace fs = std::filesystem;
  sweep::Experiment experiment;
  sweep::Plan plan;
  sweep::ResourceEstimate need;
  // Checked before the lock is taken (a bad path needs none) and again under it (a run that ended
  // meanwhile may have written the output): --resume continues a checkpoint or finds the results
  // file complete; only --force replaces one.
  auto may_replace_output = [&] {
    return options.force || (options.resume && (fs::is_directory(sweep::Checkpoint::directory_for(experiment.out)) ||
                                                fs::is_regular_file(experiment.out)));
  };
  auto already_complete = [&] {  // --resume of a run whose results file is written and checkpoint gone
    return options.resume && !fs::is_directory(sweep::Checkpoint::directory_for(experiment.out)) &&
           fs::is_regular_file(experiment.out);
  };
  std::string plan_error;
  try {
    auto overrides = options.overrides;
    if (!options.out.empty()) overrides.push_back("run.out=" + options.out);
    experiment = sweep::load_experiment(options.config, overrides);
    io::check_output_path(experiment.out, may_replace_output());
    plan = sweep::make_plan(experiment);
    need = sweep::estimate_resources(experiment, plan);
    sweep::check_memory(need);
  } catch (const std::exception& e) {  // bad config, unusable output path, a plan too large: nothing computed yet
    plan_error = e.what();
  }
  // Every rank checks alone, and the memory or the file system of its node may fail it alone: the
  // ranks agree before any of them goes on, and the first that failed says why.
  const int first_failed = ranks.first_failing(!plan_error.empty());
  if (first_failed < ranks.size()) {
    if (ranks.rank() == first_failed)
      std::cerr << "pfode: error: " + (first_failed > 0 ? "rank " + std::to_string(first_failed) + ": " : "") +
                       printable_message(plan_error) + "\n";
    return exit_usage;
  }
  const std::string partial = sweep::Checkpoint::directory_for(experiment.out);

  // From here on an interruption may leave a checkpoint: the report says what it holds and how to
  // continue. Once this process holds the output's lock, the report removes the lock file too
  // (the lock itself goes with the process); it stops doing so before the lock is released.
  const std::string resume = resume_command(argc, argv, ranks.size());
  const auto report = [&](bool holds_lock) {
    on_interrupt(interrupt_report(experiment.out, resume, ranks.first(), plan.cells.size(), plan.groups.size(), holds_lock));
  };
  report(false);

  // The first rank takes the output's lock, clears what killed runs left, checks the disk and sets
  // up (or validates) the checkpoint; the others open it once it is there. Cells computed by
  // another build are not resumed: the results file records one commit.
  const std::string identity = experiment.checkpoint_identity + "# " + io::build_identity() + "\n";
  std::optional<io::OutputLock> lock;
  struct BeforeUnlock {
    std::function<void()> run;
    ~BeforeUnlock() { run(); }
  } before_unlock{[&] { report(false); }};
  std::unique_ptr<sweep::Checkpoint> checkpoint;
  std::vector<std::string> set_aside;
  bool keep_states = false;
  std::string setup_error, nothing_to_do;
  int setup_status = exit_usage;  // a refusal; exit_failure: the file system failed
  if (ranks.first()) {
    try {
      lock.emplace(experiment.out);
      report(true);
      sweep::Checkpoint::remove_stale(experiment.out);
      io::remove_stale_temporaries(experiment.out);  // left by a run killed while writing its results file
      io::check_output_path(experiment.out, may_replace_output());
      if (already_complete()) {
        if (!holds_this_run(experiment.out, experiment))
          throw std::invalid_argument("output '" + experiment.out + "' holds the results of another config or pfode " +
                                      "build, and no interrupted run of it is left; pass --force to replace it");
        nothing_to_do = "nothing to resume: '" + experiment.out + "' already holds this run's results";
      } else {
        keep_states = sweep::check_disk(need, experiment.out,
                                        options.force ? 0.0 : sweep::Checkpoint::bytes_on_disk(experiment.out));
        if (options.force) sweep::Checkpoint::discard(experiment.out);
        checkpoint = std::make_unique<sweep::Checkpoint>(experiment.out, identity, options.resume);
        if (checkpoint->existed()) set_aside = checkpoint->validate(experiment, plan);
      }
    } catch (const std::invalid_argument& e) {
      setup_error = e.what();
    } catch (const std::exception& e) {
      setup_error = e.what();
      setup_status = exit_failure;
    }
  }
  if (!ranks.all(setup_error.empty()))
    return fail(ranks, ranks.all(setup_status == exit_usage) ? exit_usage : exit_failure, setup_error);
  if (!ranks.all(nothing_to_do.empty())) {
    if (ranks.first()) std::cerr << "pfode: " << nothing_to_do << "\n";
    return exit_ok;
  }
  // What the checkpoint holds, as the first rank reads it: every rank then plans the same cells and
  // goes through the same groups (their references are solved together).
  std::set<int> finished, references_kept;
  // keep_states, the finished cells' ids, -1, the kept references' groups
  std::vector<double> listed;
  try {
    if (!ranks.first()) checkpoint = std::make_unique<sweep::Checkpoint>(experiment.out, identity, true, false);
    if (ranks.first()) {
      listed.push_back(keep_states);
      for (int id : checkpoint->finished_cells()) listed.push_back(id);
      listed.push_back(-1);
      for (int g : checkpoint->finished_references()) listed.push_back(g);
    }
  } catch (const std::exception& e) {
    setup_error = e.what();
  }
  if (!ranks.all(setup_error.empty())) return fail(ranks, exit_failure, setup_error);
  ranks.broadcast(listed, 0);
  keep_states = listed[0] != 0;
  const auto separator = std::find(listed.begin() + 1, listed.end(), -1.0);
  finished.insert(listed.begin() + 1, separator);
  references_kept.insert(separator + 1, listed.end());

  // Ranks on one node draw cells as they go (every rank may compute any cell left); across nodes
  // each computes the share assigned to it. Destroyed with the function's other locals, by every
  // rank after the last collective call here.
  sweep::CellClaims claims(ranks, static_cast<int>(plan.groups.size()));
  const std::set<int> mine = claims.shared() ? sweep::cells_for_rank(experiment, plan, finished, 0, 1)
                                             : sweep::cells_for_rank(experiment, plan, finished, ranks.rank(), ranks.size());
  std::set<int> skip, solve_groups;
  for (const auto& c : plan.cells)
    if (!mine.count(c.id)) skip.insert(c.id);
  // A group whose cells are all done but whose reference record is missing: solved again. With
  // several ranks, every group with a cell left too: each rank takes part in its reference.
  for (size_t g = 0; g < plan.groups.size(); ++g) {
    const auto& cells = plan.groups[g].cells;
    const bool all_done = std::all_of(cells.begin(), cells.end(), [&](int id) { return finished.count(id) > 0; });
    if ((all_done && !references_kept.count(static_cast<int>(g))) || (!all_done && ranks.size() > 1))
      solve_groups.insert(static_cast<int>(g));
  }
  sweep::SharedStates states(ranks, sweep::largest_reference_states(experiment, plan));
  sweep::SharedReferences shared;
  shared.rank = ranks.rank();
  shared.ranks = ranks.size();
  shared.broadcast = [&](double* data, size_t count, int root) { ranks.broadcast(data, count, root); };
  shared.minimum = [&](int value) {
    states.sync();
    const int smallest = ranks.minimum(value);
    states.sync();
    return smallest;
  };
  if (claims.shared()) shared.claim = [&](int group) { return claims.next(group); };
  shared.shared_rows = [&](size_t count) { return states.rows(count); };
  shared.reuse_rows = [&] { states.reuse(); };
  if (states.capacity() > 0 && states.nodes() > 1) {
    shared.node_role = [&](int root) { return states.node_role(root); };
    shared.broadcast_between_nodes = [&](double* data, size_t count, int root) {
      states.broadcast_between_nodes(data, count, root);
    };
  }

  const std::string prefix = ranks.size() > 1 ? "rank " + std::to_string(ranks.rank()) + ": " : "";
  if (ranks.first()) {
    for (const auto& line : set_aside)
      std::cerr << "pfode: checkpoint: " << printable_message(line) << "; set aside in '" << partial << "/damaged/'\n";
    if (!states.no_room().empty()) std::cerr << "pfode: " << states.no_room() << "\n";
    if (!keep_states && need.reference_states > 0)
      std::cerr << "pfode: the reference states (" << sweep::format_bytes(need.reference_states)
                << ") are not checkpointed, for lack of disk space: a resume solves the references again\n";
  }
  sweep::Progress progress(mine.size(), options.progress, prefix, claims.shared() ? ranks.size() : 1);
  if (ranks.first() && states.capacity() > 0) {
    const std::string bytes = sweep::format_bytes(static_cast<double>(states.capacity() * sizeof(double)));
    progress.note(states.nodes() == 1 ? "the " + std::to_string(ranks.size()) +
                                            " ranks share the reference states in this node's memory (" + bytes + ")"
                                      : "the ranks of each of the " + std::to_string(states.nodes()) +
                                            " nodes share the reference states in its memory (" + bytes + " per node)");
  }
  if (ranks.first() && !finished.empty())  // every rank resumes from the same list
    progress.note("resuming: " + std::to_string(finished.size()) + " of " + std::to_string(plan.cells.size()) +
                  " cells already done");
  sweep::RunCallbacks callbacks;
  callbacks.keep_reference_states = keep_states;
  callbacks.reference_done = [&](int group, const results::ReferenceRecord& r, const sweep::ReferenceStates& states) {
    if (group % ranks.size() != ranks.rank()) return;  // every rank has it (solved together): one keeps it
    checkpoint->save_reference(group, r, states);
    char line[256];
    std::snprintf(line, sizeof line, "reference %s/%s/seed=%ld: %ld times, %.0f NFE/sample, error estimate %.1e",
                  r.model.c_str(), r.schedule.c_str(), r.seed, r.times, r.nfe_mean, r.error_estimate);
    progress.note(line);
  };
  callbacks.stored_reference = [&](int group, results::ReferenceRecord& r, double* states, size_t count) {
    try {
      if (!checkpoint->load_reference_states(group, experiment, plan, r, states, count)) return false;
    } catch (const sweep::DamagedRecord& damage) {
      progress.note("states_" + std::to_string(group) + ".h5 " + damage.what() + ": solved again");
      return false;
    }
    if (!references_kept.count(group)) checkpoint->save_reference(group, r);  // its record file was lost
    progress.note("reference " + sweep::describe(experiment, plan.groups[group]) + ": states read from the checkpoint");
    return true;
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
  bool reference_failed = false, other_failed = false;
  try {
    sweep::run_plan(experiment, plan, skip, callbacks, solve_groups, ranks.size() > 1 ? &shared : nullptr);
  } catch (const sweep::OtherRankFailed&) {
    other_failed = true;  // the failed rank's Ranks::all below is what told us
  } catch (const sweep::ReferenceFailed& e) {
    run_error = e.what();
    reference_failed = true;
  } catch (const std::bad_alloc&) {
    run_error = "out of memory (the estimate before the run was " + sweep::format_bytes(need.memory) + ")";
  } catch (const std::exception& e) {
    run_error = e.what();
  }
  try {  // the cells still queued, also when the run failed: they are finished
    checkpoint->flush();
  } catch (const std::exception& e) {
    if (run_error.empty()) run_error = e.what();
  }
  progress.finish();
  const bool all_ran = !other_failed && ranks.all(run_error.empty());
  // A reference solved together fails on every rank alike: the first of them reports it.
  const int first_reference_failed = ranks.first_failing(reference_failed);
  const bool any_reference_failed = first_reference_failed < ranks.size();
  if (!all_ran) {
    // Each line in one write: the ranks share stderr, and a line written in pieces can be cut by
    // another rank's.
    if (!run_error.empty() && (!reference_failed || first_reference_failed == ranks.rank()))
      std::cerr << "pfode: error: " + prefix + printable_message(run_error) + "\n";
    if (ranks.first()) {
      if (any_reference_failed)
        std::cerr << "pfode: this config fails the same way every time: change the model, the schedule or "
                     "run.reference_tolerance, then start over with --force (the finished cells stay in '" +
                         partial + "' until then)\n";
      else
        std::cerr << "pfode: the finished cells are kept in '" + partial + "'; " +
                         (disk_full(run_error) ? "free disk space" : "fix the cause") + " and continue with: " + resume +
                         "\n";
    }
    return exit_failure;
  }

  if (!ranks.first()) return exit_ok;
  try {
    rec.resolved_config = experiment.resolved_config;
    rec.models = experiment.models;
    rec.schedules = experiment.schedules;
    rec.cells = checkpoint->load_cells(experiment, plan);
    rec.references = checkpoint->load_references(experiment, plan);
    rec.series = sweep::fit_series(rec.cells);
    rec.provenance.utc_end = io::utc_now();
    io::write_results_file(experiment.out, rec);
    checkpoint->remove();
  } catch (const std::exception& e) {
    return fail(ranks, exit_failure,
                std::string(e.what()) + "; nothing was written to '" + experiment.out + "': " +
                    (disk_full(e.what()) ? "free disk space" : "fix the cause") + " and continue with: " + resume +
                    " (it sets damaged checkpoint files aside and computes what is missing)");
  }
  if (!options.quiet) {
    print_order_table(rec);
    std::printf("\nwrote %s\n", experiment.out.c_str());
  }
  return exit_ok;
}

}  // namespace pfode::app
