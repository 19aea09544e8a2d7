// The sweep plan and its distribution over ranks: the cartesian product with preset pairs, one
// reference group per (model, schedule, seed), and an assignment of cells to ranks that covers
// every unfinished cell exactly once, the same on every rank, balanced by estimated cost.
#include <catch2/catch.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <thread>

#include "sweep/distribution.hpp"
#include "sweep/experiment.hpp"
#include "sweep/plan.hpp"

using namespace pfode;

namespace {

sweep::Experiment load(const std::string& sweep_lines) {
  const std::string path = "pfode_test_sweep.ini";
  std::ofstream(path) << "[run]\nsamples = 8\nseeds = 0 1\n[sweep]\nmodels = g m\nschedules = vp-linear edm\n"
                      << sweep_lines
                      << "\n[model.g]\nkind = gaussian\ndim = 2\nmeans = 0 1\nstds = 0.5 0.4\n"
                         "[model.m]\nkind = random-mixture\ndim = 4\ncomponents = 3\nseed = 1\n";
  const auto e = sweep::load_experiment(path, {});
  std::remove(path.c_str());
  return e;
}

}  // namespace

TEST_CASE("plan: models x schedules x (spacing, solver) pairs x budgets x seeds; presets pair only their own",
          "[sweep]") {
  const auto e = load("spacings = uniform-lambda karras\nsolvers = euler heun\npresets = k-diffusion:dpm++2m\n"
                      "nfe = 8 16 32");
  const auto plan = sweep::make_plan(e);
  // 2 models x 2 schedules x (2 x 2 + 1 preset pair) x 3 budgets x 2 seeds.
  REQUIRE(plan.cells.size() == 2u * 2 * 5 * 3 * 2);
  REQUIRE(plan.groups.size() == 2u * 2 * 2);
  REQUIRE(e.spacings.size() == 3);
  REQUIRE(e.spacings[2].label == "karras[rho=7]");
  std::vector<int> seen(plan.cells.size(), 0);
  for (const auto& g : plan.groups)
    for (int id : g.cells) {
      const auto& c = plan.cells[id];
      REQUIRE(c.model == g.model);
      REQUIRE(c.schedule == g.schedule);
      REQUIRE(c.seed == g.seed);
      ++seen[id];
    }
  REQUIRE(std::all_of(seen.begin(), seen.end(), [](int n) { return n == 1; }));
  for (const auto& c : plan.cells) {
    INFO(sweep::describe(e, c));
    REQUIRE(c.id == &c - plan.cells.data());
    const bool preset = e.solvers[c.solver].label == "k-diffusion:dpm++2m";
    REQUIRE(preset == (c.spacing == 2));  // the preset's own spacing serves the preset alone
    REQUIRE(static_cast<int>(c.times.size()) == c.steps + 1);
    const auto& sched = e.schedules[c.schedule].schedule;
    REQUIRE(c.times.front() == sched.t_max);
    REQUIRE(c.times.back() == sched.t_min);
  }
}

TEST_CASE("ranks: every unfinished cell on exactly one rank, the same assignment everywhere, each group balanced",
          "[sweep]") {
  // The ranks meet at every group's reference (solved together), so each group's cells are
  // balanced by themselves: a rank with more of one group's work would keep the others waiting.
  const auto e = load("spacings = uniform-lambda\nsolvers = euler rk4 dpm-solver++2m\nnfe = 5 10 20 40 80 160");
  const auto plan = sweep::make_plan(e);
  REQUIRE(plan.groups.size() == 8);
  const std::set<int> finished = {0, 3, 17, 40};
  for (int size = 1; size <= 5; ++size) {
    INFO(size << " ranks");
    std::vector<int> owner(plan.cells.size(), -1);
    for (int rank = 0; rank < size; ++rank) {
      const auto mine = sweep::cells_for_rank(e, plan, finished, rank, size);
      REQUIRE(mine == sweep::cells_for_rank(e, plan, finished, rank, size));  // deterministic
      for (int id : mine) {
        REQUIRE(owner[id] == -1);
        owner[id] = rank;
      }
    }
    for (const auto& c : plan.cells) REQUIRE((owner[c.id] == -1) == (finished.count(c.id) == 1));
    // Largest first onto the rank least loaded in the group: no rank ends more than one of the
    // group's cells above another, in every group.
    for (const auto& group : plan.groups) {
      std::vector<double> load(size, 0.0);
      double largest = 0;
      for (int id : group.cells) {
        largest = std::max(largest, sweep::estimated_cost(e, plan.cells[id]));
        if (owner[id] >= 0) load[owner[id]] += sweep::estimated_cost(e, plan.cells[id]);
      }
      const auto [lo, hi] = std::minmax_element(load.begin(), load.end());
      REQUIRE(*hi - *lo <= largest);
    }
  }
  // The cost estimate: evaluations x samples x coordinates x components, twice with the LTE runs.
  const auto& c = plan.cells.back();
  const auto& m = e.models[c.model];
  REQUIRE(sweep::estimated_cost(e, c) == 2.0 * c.nfe_stated * e.samples * m.dim * m.components);
}

#include "io/hdf5.hpp"
#include "sweep/checkpoint.hpp"

TEST_CASE("checkpoint identity: the config less run.out, and the data of the files it names", "[sweep]") {
  const std::string model_file = "pfode_test_sweep_model.h5", out = "pfode_test_sweep_out.h5";
  auto write_model = [&](double mean) {
    std::remove(model_file.c_str());
    const auto f = io::File::create(model_file);
    f.root().write_dataset("weights", {0.4, 0.6}, {2});
    f.root().write_dataset("means", {mean, 1.0}, {2, 1});
    f.root().write_dataset("stds", {0.5, 0.5}, {2, 1});
  };
  const std::string base = "[run]\nsamples = 4\n[sweep]\nmodels = f\nschedules = edm\nsolvers = euler\nnfe = 4\n"
                           "[model.f]\nkind = file\nfile = " + model_file + "\n";
  auto load_with = [&](const std::string& extra) {
    std::ofstream("pfode_test_sweep.ini") << base;
    std::vector<std::string> overrides;
    if (!extra.empty()) overrides.push_back(extra);
    const auto e = sweep::load_experiment("pfode_test_sweep.ini", overrides);
    std::remove("pfode_test_sweep.ini");
    return e;
  };
  write_model(-1.0);
  const auto a = load_with("run.out=" + out);
  const auto b = load_with("run.out=./" + out);  // the same output, spelled differently
  REQUIRE(a.resolved_config != b.resolved_config);
  REQUIRE(a.checkpoint_identity == b.checkpoint_identity);
  REQUIRE(load_with("run.samples=5").checkpoint_identity != a.checkpoint_identity);
  write_model(-1.5);  // same config text, other data
  const auto c = load_with("run.out=" + out);
  REQUIRE(c.resolved_config == a.resolved_config);
  REQUIRE(c.checkpoint_identity != a.checkpoint_identity);

  // An interrupted run's checkpoint is reused only by a run with the same identity.
  sweep::Checkpoint::discard(out);
  { sweep::Checkpoint made(out, a.checkpoint_identity, false); }
  REQUIRE_THROWS_WITH(sweep::Checkpoint(out, a.checkpoint_identity, false), Catch::Contains("pass --resume"));
  REQUIRE_THROWS_WITH(sweep::Checkpoint(out, c.checkpoint_identity, true), Catch::Contains("different config, different input files or another pfode build"));
  REQUIRE_NOTHROW(sweep::Checkpoint(out, b.checkpoint_identity, true));
  sweep::Checkpoint::discard(out);
  std::remove(model_file.c_str());
}

TEST_CASE("checkpoint: cells written in batches, the first at once, the next once 20 write times have passed, "
          "all by flush", "[sweep]") {
  const std::string out = "pfode_test_batches.h5";
  sweep::Checkpoint::discard(out);
  const auto cell = [](int id) {
    results::CellResult c;
    c.id = id;
    c.solver = "euler";
    c.gte = {0.5 * id, 1.0 + id};
    return c;
  };
  const std::string dir = sweep::Checkpoint::directory_for(out);
  const auto batches = [&] {
    int n = 0;
    for (const auto& entry : std::filesystem::directory_iterator(dir)) n += entry.path().filename().string().rfind("cells_", 0) == 0;
    return n;
  };
  sweep::Checkpoint checkpoint(out, "identity\n", false);
  checkpoint.save_cell(cell(7));  // the first: written at once, so a kill right after keeps it
  REQUIRE(std::filesystem::exists(dir + "/cells_7+1.h5"));
  REQUIRE(checkpoint.finished_cells() == std::set<int>{7});
  REQUIRE(checkpoint.last_write_seconds() > 0);
  // Saved back to back, the next cells wait in the queue for one another.
  std::set<int> ids{7};
  for (int id = 40; id > 0; --id)
    if (id != 7) {
      checkpoint.save_cell(cell(id));
      ids.insert(id);
    }
  const int written = batches();
  REQUIRE(written < 10);
  // Once 20 times the last write's time has passed, the next cell writes the queue.
  std::this_thread::sleep_for(std::chrono::duration<double>(1.05 * sweep::Checkpoint::compute_per_write *
                                                            checkpoint.last_write_seconds()));
  checkpoint.save_cell(cell(0));
  ids.insert(0);
  REQUIRE(batches() == written + 1);
  REQUIRE(checkpoint.cells_on_disk() == 41);
  checkpoint.flush();  // nothing queued: nothing written
  REQUIRE(batches() == written + 1);
  // Another process (a resumed run, another rank) finds them all.
  const sweep::Checkpoint reopened(out, "identity\n", true);
  REQUIRE(reopened.finished_cells() == ids);
  sweep::Checkpoint::discard(out);
}

#include "support.hpp"

TEST_CASE("near_floor: cells within 10x of the reference's error estimate are flagged and left out of the fit",
          "[sweep]") {
  // UniPC-3 (order 4) on the Gaussian comes within 10x of the reference's error (~2e-14) past NFE 4096.
  const auto e = test::experiment(test::gaussian(4), "vp-linear", "uniform-lambda", "unipc-3",
                                  {32, 64, 128, 256, 512, 1024, 2048, 4096, 8192, 16384}, 8);
  std::vector<results::ReferenceRecord> refs;
  const auto cells = test::run_cells(e, [&](const results::ReferenceRecord& r) { refs.push_back(r); });
  // The runner's closed-form error of the reference (Gaussian models) and its estimate agree as
  // test_reference.cpp requires of the solve itself.
  REQUIRE(refs.size() == 1);
  INFO("closed-form reference error " << refs[0].exact_error << ", estimate " << refs[0].error_estimate);
  REQUIRE(refs[0].exact_error > 0);
  REQUIRE(refs[0].exact_error <= 1e-11);
  REQUIRE(refs[0].exact_error <= 3 * refs[0].error_estimate);
  REQUIRE(refs[0].error_estimate <= 100 * refs[0].exact_error);
  int flagged = 0;
  for (const auto& c : cells) {
    INFO("NFE " << c.nfe << ": GTE " << c.gte_summary.rms << ", reference error " << c.reference_error);
    REQUIRE(c.reference_error > 0);
    REQUIRE(c.near_floor == (c.gte_summary.rms <= 10 * c.reference_error));
    flagged += c.near_floor;
  }
  REQUIRE(flagged >= 1);
  REQUIRE(flagged < static_cast<int>(cells.size()) - 3);
  const auto fits = sweep::fit_series(cells);
  REQUIRE(fits.size() == 1);
  REQUIRE(fits[0].gte.valid);
  for (int k = fits[0].gte.first; k <= fits[0].gte.last; ++k) REQUIRE(!cells[fits[0].cells[k]].near_floor);
}

TEST_CASE("series: budgets that change a solver's theoretical order start a separate series", "[sweep]") {
  // DPM-Solver-fast: order 3 when NFE % 3 == 2, order 2 otherwise.
  const auto e = test::experiment(test::gaussian(2), "vp-linear", "uniform-lambda", "dpm-solver-fast",
                                  {6, 8, 9, 11, 12, 14, 15}, 4);
  const auto cells = test::run_cells(e);
  const auto fits = sweep::fit_series(cells);
  REQUIRE(fits.size() == 2);
  size_t members = 0;
  for (const auto& f : fits) {
    for (int id : f.cells) {
      const auto& c = cells[id];
      REQUIRE(c.order_theory == f.order_theory);
      REQUIRE(c.lte_order_theory == f.lte_order_theory);
      REQUIRE((c.nfe_budget % 3 == 2) == (f.order_theory == 3));
    }
    members += f.cells.size();
  }
  REQUIRE(members == cells.size());
}

TEST_CASE("series: lambda_step_order is 1 where the steps shrink like 1/NFE, the known exponent of uniform-t's "
          "long last step on EDM, n/a for an adaptive solver", "[sweep]") {
  const std::vector<int> budgets{8, 16, 32, 64, 128, 256};
  {  // uniform-lambda: every step is (lambda_N - lambda_0) / steps, heun takes NFE / 2 of them
    const auto fits = sweep::fit_series(
        test::run_cells(test::experiment(test::gaussian(2), "vp-linear", "uniform-lambda", "heun", budgets, 4)));
    REQUIRE(fits.size() == 1);
    REQUIRE(fits[0].gte.valid);
    REQUIRE(fits[0].lambda_step_order == Approx(1.0).margin(1e-9));
  }
  {  // EDM (lambda = -log t), uniform-t from 80 to 0.002 in N = NFE steps of ddim: the largest is the
     // last, log(1 + 79.998 / (0.002 N)), so q is the least-squares slope of its log against log N.
    const auto fits = sweep::fit_series(
        test::run_cells(test::experiment(test::gaussian(2), "edm", "uniform-t", "ddim", budgets, 4)));
    REQUIRE(fits.size() == 1);
    const auto& f = fits[0];
    REQUIRE(f.gte.valid);
    REQUIRE(f.gte.last - f.gte.first >= 2);
    double sx = 0, sy = 0, sxx = 0, sxy = 0;
    const int m = f.gte.last - f.gte.first + 1;
    for (int k = f.gte.first; k <= f.gte.last; ++k) {
      const double n = f.nfe[k], x = std::log(n), y = std::log(std::log1p(79.998 / (0.002 * n)));
      sx += x, sy += y, sxx += x * x, sxy += x * y;
    }
    const double expected = -(m * sxy - sx * sy) / (m * sxx - sx * sx);
    INFO("fit over NFE " << f.nfe[f.gte.first] << "-" << f.nfe[f.gte.last] << ": expected q " << expected);
    REQUIRE(expected < 0.5);
    REQUIRE(f.lambda_step_order == Approx(expected).margin(1e-9));
  }
  {  // dopri5 takes its own steps between the grid's two ends
    const auto fits = sweep::fit_series(
        test::run_cells(test::experiment(test::gaussian(2), "vp-linear", "uniform-lambda", "dopri5", budgets, 4)));
    REQUIRE(fits.size() == 1);
    REQUIRE(std::isnan(fits[0].lambda_step_order));
  }
}

#include "sweep/runner.hpp"

TEST_CASE("ranks: each group's reference path is the one agreed over the ranks, a failed rank stops the others",
          "[sweep]") {
  // One rank playing its part in several: `minimum` stands for the other ranks' answers (the
  // smallest wins: failed 0, solve 1, stored 2, no cells 3).
  auto e = test::experiment(test::gaussian(3), "vp-linear", "uniform-lambda", "heun", {4, 8}, 16);
  const auto plan = sweep::make_plan(e);
  REQUIRE(plan.groups.size() == 1);
  std::vector<double> gte_solved;
  int solves = 0;
  sweep::RunCallbacks callbacks;
  callbacks.reference_done = [&](int, const results::ReferenceRecord&, const sweep::ReferenceStates&) { ++solves; };
  callbacks.cell_done = [&](const results::CellResult& c) { gte_solved.push_back(c.gte_summary.rms); };
  sweep::run_plan(e, plan, {}, callbacks);
  REQUIRE(solves == 1);
  REQUIRE(gte_solved.size() == 2);

  // This rank holds the reference (states of its own making, all zero: a cell against them would
  // show it), another rank answers `other`.
  bool offered = false;
  callbacks.stored_reference = [&](int, results::ReferenceRecord& record, double* states, size_t count) {
    offered = true;
    std::fill(states, states + count, 0.0);
    record.error_estimate = 1e-14;
    return true;
  };
  const auto run = [&](int other, const std::set<int>& skip, const std::set<int>& solve_groups) {
    sweep::SharedReferences shared;
    shared.minimum = [&](int value) { return std::min(value, other); };
    std::vector<double> gte;
    offered = false;
    solves = 0;
    callbacks.cell_done = [&](const results::CellResult& c) { gte.push_back(c.gte_summary.rms); };
    sweep::run_plan(e, plan, skip, callbacks, solve_groups, &shared);
    return gte;
  };
  // Another rank could not read it: every rank solves it, this one too.
  REQUIRE(run(1, {}, {0}) == gte_solved);
  REQUIRE((offered && solves == 1));
  // Every rank read it: no solve, the cells measured against the states read.
  const auto stored = run(3, {}, {0});
  REQUIRE((offered && solves == 0 && stored.size() == 2 && stored != gte_solved));
  // A rank without cells in the group reads nothing; it solves with the others, or skips the group.
  REQUIRE(run(1, {0, 1}, {0}).empty());
  REQUIRE((!offered && solves == 1));
  REQUIRE(run(2, {0, 1}, {0}).empty());
  REQUIRE((!offered && solves == 0));
  // Another rank has failed: this one stops before the group.
  REQUIRE_THROWS_AS(run(0, {}, {0}), sweep::OtherRankFailed);
  REQUIRE(solves == 0);
}

TEST_CASE("checkpoint: reference states kept only where a later group follows and solving again costs 20x the write",
          "[sweep]") {
  // Two groups (two seeds): the states of the first reach the callback, the last group's do not.
  auto e = test::experiment(test::gaussian(3), "vp-linear", "uniform-lambda", "heun", {4}, 16);
  e.seeds = {0, 1};
  const auto plan = sweep::make_plan(e);
  REQUIRE(plan.groups.size() == 2);
  std::map<int, bool> with_states;
  sweep::RunCallbacks callbacks;
  callbacks.keep_reference_states = true;
  callbacks.reference_done = [&](int group, const results::ReferenceRecord&, const sweep::ReferenceStates& states) {
    with_states[group] = states.data != nullptr;
  };
  sweep::run_plan(e, plan, {}, callbacks);
  REQUIRE(with_states == std::map<int, bool>{{0, true}, {1, false}});
  // With the second group's cells done (another rank's, or an earlier run's), the first is the last.
  with_states.clear();
  sweep::run_plan(e, plan, std::set<int>(plan.groups[1].cells.begin(), plan.groups[1].cells.end()), callbacks);
  REQUIRE(with_states == std::map<int, bool>{{0, false}});

  // The write-time rule, at the rate of the checkpoint's earlier writes.
  const std::string out = "pfode_test_states_rule.h5";
  sweep::Checkpoint::discard(out);
  sweep::Checkpoint checkpoint(out, "identity\n", false);
  REQUIRE(checkpoint.worth_keeping(0.0, 1e12));  // nothing written yet: the first is kept
  results::CellResult cell;
  cell.id = 0;
  cell.gte = std::vector<double>(4096, 0.25);
  checkpoint.save_cell(cell);
  const std::string dir = sweep::Checkpoint::directory_for(out);
  const double seconds_per_byte =
      checkpoint.last_write_seconds() / static_cast<double>(std::filesystem::file_size(dir + "/cells_0+1.h5"));
  const double bytes = 1e8, write = bytes * seconds_per_byte;
  REQUIRE(checkpoint.worth_keeping(2 * sweep::Checkpoint::compute_per_write * write, bytes));
  REQUIRE(!checkpoint.worth_keeping(0.5 * sweep::Checkpoint::compute_per_write * write, bytes));
  // save_reference writes the states file only when the solve was worth it.
  results::ReferenceRecord ref;
  const std::vector<double> states(2 * 3 * 4, 1.0);
  const sweep::ReferenceStates given{states.data(), {2, 3, 4}};
  ref.wall_time = 0;
  checkpoint.save_reference(0, ref, given);
  REQUIRE(std::filesystem::exists(dir + "/reference_0.h5"));
  REQUIRE(!std::filesystem::exists(dir + "/states_0.h5"));
  ref.wall_time = 1e6;
  checkpoint.save_reference(1, ref, given);
  REQUIRE(std::filesystem::exists(dir + "/states_1.h5"));
  sweep::Checkpoint::discard(out);
}

TEST_CASE("ranks on one node: each rank draws a group's cells in turn, largest estimated cost first", "[sweep]") {
  // One rank, with `claim` standing for the node's shared counter: the other rank draws every
  // second position, so this one computes positions 0, 2, 4, ... of the group's cells left,
  // ordered by estimated cost (here: NFE), and nothing else.
  auto e = test::experiment(test::gaussian(3), "vp-linear", "uniform-lambda", "heun", {4, 8, 16, 32}, 16);
  const auto plan = sweep::make_plan(e);
  REQUIRE(plan.groups.size() == 1);
  std::map<long, int> id_of_budget;
  for (const auto& c : plan.cells) id_of_budget[c.nfe_stated] = c.id;
  REQUIRE(id_of_budget.size() == 4);
  const auto computed = [&](const std::set<int>& finished) {
    long drawn = 0;
    sweep::SharedReferences shared;
    shared.minimum = [](int value) { return value; };
    shared.claim = [&](int group) {
      REQUIRE(group == 0);
      const long position = drawn;
      drawn += 2;
      return position;
    };
    std::vector<int> ids;
    sweep::RunCallbacks callbacks;
    callbacks.cell_done = [&](const results::CellResult& c) { ids.push_back(c.id); };
    sweep::run_plan(e, plan, finished, callbacks, {}, &shared);
    return ids;
  };
  const auto cells = [&](std::initializer_list<long> budgets) {
    std::vector<int> ids;
    for (long b : budgets) ids.push_back(id_of_budget.at(b));
    return ids;
  };
  REQUIRE(computed({}) == cells({32, 8}));
  REQUIRE(computed({id_of_budget.at(16)}) == cells({32, 4}));  // a finished cell is not drawn

  // Without MPI (or across nodes) the counters are this rank's own: 0, 1, 2, ... per group.
  int argc = 1;
  char name[] = "pfode_tests";
  char* args[] = {name, nullptr};
  char** argv = args;
  sweep::Ranks ranks(&argc, &argv);
  sweep::CellClaims claims(ranks, 2);
  REQUIRE(!claims.shared());
  REQUIRE(claims.next(0) == 0);
  REQUIRE(claims.next(0) == 1);
  REQUIRE(claims.next(1) == 0);
  REQUIRE(claims.next(0) == 2);
}
