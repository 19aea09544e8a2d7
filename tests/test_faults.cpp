// Faults a run meets and what it must make of them: a damaged or foreign checkpoint, a second run
// on the same output, SIGINT and SIGTERM, a full disk, a plan that cannot fit, leftovers of killed
// runs. Each ends in the same results file as an uninterrupted run or in a refusal that names
// the problem; none in a file that silently lacks a record. (tests/integration/test_faults.py
// throws random faults of these kinds at a run.)
#include <catch2/catch.hpp>

#include <fcntl.h>
#include <sys/file.h>

#include <regex>

#include "cli_support.hpp"
#include "io/hdf5.hpp"
#include "sweep/checkpoint.hpp"
#include "sweep/experiment.hpp"
#include "support.hpp"

namespace fs = std::filesystem;
using pfode::test::Background;
using pfode::test::lines;
using pfode::test::Result;
using pfode::test::Sandbox;
using pfode::test::slurp;

namespace {

// 30 cells in 2 groups (a Gaussian, a mixture): long enough to be interrupted, short to run.
const char* kSweep =
    "[run]\nout = r.h5\nsamples = 16\n[sweep]\nmodels = g m\nschedules = edm\nsolvers = euler heun rk4\n"
    "nfe = 8 16 32 64 128\n[model.g]\nkind = gaussian\ndim = 3\nmeans = 0 1 -1\nstds = 0.5 0.4 0.3\n"
    "[model.m]\nkind = random-mixture\ndim = 4\ncomponents = 3\nseed = 2\n";
constexpr int kCells = 30;

// A sandbox with the sweep's config, an uninterrupted run's results in whole/r.h5 (run once, by
// the first test) and a directory run/ for the run under test (the output path is relative, so
// both files record the same config).
struct Sweep {
  Sandbox box;
  fs::path run = box.path("run"), whole = box.path("whole");
  Sweep() {
    box.config(kSweep);
    fs::create_directories(run);
    fs::create_directories(whole);
    static const Sandbox first_run;
    static const fs::path baseline = first_run.path("r.h5");
    if (!fs::exists(baseline)) {
      first_run.config(kSweep);
      REQUIRE(first_run.pfode("run x.ini -q", "cd " + first_run.path("").string() + " && ").status == 0);
    }
    fs::copy_file(baseline, whole / "r.h5");
  }
  // pfode run ../x.ini ARGS in `dir`, with `env` before it.
  Result pfode(const std::string& args, const fs::path& dir, const std::string& env = "") const {
    return box.pfode("run ../x.ini " + args, "cd " + dir.string() + " && " + env);
  }
  Result pfode(const std::string& args = "") const { return pfode(args, run); }
  fs::path partial(const std::string& name = "") const { return run / "r.h5.partial" / name; }
  pfode::sweep::Experiment experiment() const {
    return pfode::sweep::load_experiment(box.path("x.ini").string(), {"run.out=" + (run / "r.h5").string()});
  }
  size_t cells_checkpointed() const {
    return pfode::sweep::Checkpoint((run / "r.h5").string(), "", true, false).finished_cells().size();
  }
  // Writes the checkpointed cells again as the batches `batches` (cell ids) and nothing else.
  void rebatch(const std::vector<std::vector<int>>& batches) const {
    const auto e = experiment();
    pfode::sweep::Checkpoint checkpoint(e.out, "", true, false);
    const auto cells = checkpoint.load_cells(e, pfode::sweep::make_plan(e));
    for (const auto& entry : fs::directory_iterator(partial()))
      if (entry.path().filename().string().rfind("cells_", 0) == 0) fs::remove(entry.path());
    for (const auto& batch : batches) {
      for (int id : batch) checkpoint.queue_cell(cells.at(id));
      checkpoint.flush();
    }
  }
  bool same_as_whole() const {
    const std::string cmd = "/usr/bin/python3 " PFODE_SOURCE_DIR "/tests/integration/compare_results.py " +
                            (whole / "r.h5").string() + " " + (run / "r.h5").string();
    return std::system(cmd.c_str()) == 0;
  }
};

// A full disk exactly where `env` says (tests/integration/fault_shim.c).
std::string full_disk(const std::string& env) { return "LD_PRELOAD=" PFODE_FAULT_SHIM " " + env + " "; }

bool has(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

int files_named(const fs::path& dir, const std::string& prefix) {
  int n = 0;
  std::error_code missing;  // no directory: no file
  for (const auto& entry : fs::directory_iterator(dir, missing)) n += entry.path().filename().string().rfind(prefix, 0) == 0;
  return n;
}

}  // namespace

TEST_CASE("faults: a full disk is named, and the resume it advises completes the same file", "[faults]") {
  Sweep s;
  // The disk fills up during the checkpoint, then at the results file after every cell is done.
  for (const std::string& where : {"PFODE_FAULT_WRITE_BUDGET=100000", "PFODE_FAULT_FAIL_NAME=.r.h5.tmp."}) {
    INFO(where);
    const auto r = s.pfode(where[13] == 'W' ? "-q" : "-q --resume", s.run, full_disk(where));
    INFO(r.err);
    REQUIRE(r.status == 1);
    REQUIRE(has(r.err, "(No space left on device)"));
    REQUIRE(has(r.err, "free disk space and continue with: " PFODE_EXECUTABLE " run ../x.ini -q --resume"));
    REQUIRE(!fs::exists(s.run / "r.h5"));
    REQUIRE(files_named(s.run, ".r.h5.tmp.") == 0);
  }
  REQUIRE(s.cells_checkpointed() == kCells);
  REQUIRE(s.pfode("-q --resume").status == 0);
  REQUIRE(s.same_as_whole());
}

TEST_CASE("faults: every damaged, swapped, edited or foreign checkpoint file is named, set aside and recomputed",
          "[faults]") {
  Sweep s;
  // Every cell and reference checkpointed; the results file could not be written.
  REQUIRE(s.pfode("-q", s.run, full_disk("PFODE_FAULT_FAIL_NAME=.r.h5.tmp.")).status == 1);
  REQUIRE(s.cells_checkpointed() == kCells);
  // Batches of one and of several cells; cell 9 in two of them (written twice).
  s.rebatch({{0}, {1, 2}, {3}, {4}, {5}, {6}, {7}, {8, 9, 10}, {9},
             {11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29}});
  fs::resize_file(s.partial("cells_1+2.h5"), 1000);  // truncated
  {
    const auto size = fs::file_size(s.partial("cells_3+1.h5"));
    std::ofstream(s.partial("cells_3+1.h5"), std::ios::binary) << std::string(size, '\0');  // zeroed
  }
  fs::copy_file(s.partial("cells_5+1.h5"), s.partial("cells_4+1.h5"), fs::copy_options::overwrite_existing);  // swapped
  {
    const auto file = pfode::io::File::open_write(s.partial("cells_6+1.h5").string());  // one bit edited
    auto record = file.root().read_bytes_dataset("000006");
    record.at(record.size() / 2) ^= 1;
    REQUIRE(H5Ldelete(file.root().id(), "000006", H5P_DEFAULT) >= 0);
    file.root().write_bytes_dataset("000006", record);
  }
  std::ofstream(s.partial("cells_99999+1.h5")) << "junk";
  std::ofstream(s.partial("cell_7.h5")) << "junk";
  fs::copy_file(s.partial("cells_7+1.h5"), s.partial("cells_30+1.h5"));  // a cell the plan does not have
  fs::copy_file(s.partial("cells_0+1.h5"), s.partial("cells_0+2.h5"));   // a count its name does not say
  // Reference records gone: one of a group with cells to compute (its states are read back), one
  // of a group whose cells are all done (solved again). The results file holds both.
  fs::remove(s.partial("reference_0.h5"));
  fs::remove(s.partial("reference_1.h5"));

  const auto r = s.pfode("--resume");
  INFO(r.err);
  REQUIRE(r.status == 0);
  for (const char* named : {"cells_1+2.h5 does not match its checksum", "cells_3+1.h5 does not match its checksum",
                            "cells_4+1.h5 starts at cell 5, not at cell 4", "cells_6+1.h5 does not match its checksum",
                            "cells_99999+1.h5 is not a cell of this plan (it has 30 cells)",
                            "cells_30+1.h5 is not a cell of this plan", "cell_7.h5 is not a checkpoint file",
                            "cells_0+2.h5 holds 1 records, not the 2 its name says",
                            "cells_9+1.h5 holds cell 9, which another file holds", "resuming: 25 of 30 cells already done",
                            "reference g/edm/seed=0: states read from the checkpoint", "reference m/edm/seed=0: "})
    REQUIRE(has(r.err, named));
  REQUIRE(s.same_as_whole());
  REQUIRE(!fs::exists(s.partial()));
}

TEST_CASE("faults: the results file is assembled only when every planned record is present and intact", "[faults]") {
  Sweep s;
  REQUIRE(s.pfode("-q", s.run, full_disk("PFODE_FAULT_FAIL_NAME=.r.h5.tmp.")).status == 1);
  const auto e = s.experiment();
  const auto plan = pfode::sweep::make_plan(e);
  const pfode::sweep::Checkpoint checkpoint(e.out, "", true, false);
  REQUIRE(checkpoint.load_references(e, plan).size() == 2);
  // Read back by id, whatever the batches.
  s.rebatch({{29, 3, 17}, {0, 1, 2}, {4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28}});
  const auto cells = checkpoint.load_cells(e, plan);
  REQUIRE(cells.size() == kCells);
  for (int id = 0; id < kCells; ++id) REQUIRE(cells[id].id == id);
  REQUIRE(fs::exists(s.partial("cells_3+3.h5")));
  s.rebatch({{0, 1, 2, 3, 4, 5, 6}, {7}, {8}, {9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29}});
  fs::copy_file(s.partial("cells_8+1.h5"), s.partial("cells_7+1.h5"), fs::copy_options::overwrite_existing);
  REQUIRE_THROWS_WITH(checkpoint.load_cells(e, plan), Catch::Contains("cells_7+1.h5 starts at cell 8, not at cell 7"));
  fs::remove(s.partial("cells_7+1.h5"));
  REQUIRE_THROWS_WITH(checkpoint.load_cells(e, plan),
                      Catch::Contains("the checkpoint lacks cell 7 (g/edm/uniform-lambda/heun/nfe="));
  fs::remove(s.partial("reference_1.h5"));
  REQUIRE_THROWS_WITH(checkpoint.load_references(e, plan), Catch::Contains("lacks the reference of m/edm/seed=0"));
}

TEST_CASE("faults: one live run per output; a second run is told so and changes nothing", "[faults]") {
  Sandbox box;
  const auto out = box.path("r.h5").string();
  const auto cfg = box.config(std::regex_replace(kSweep, std::regex("out = r.h5"), "out = " + out)).string();
  {
    // Another process holds the lock.
    const int fd = open((out + ".lock").c_str(), O_CREAT | O_RDWR, 0644);
    REQUIRE(flock(fd, LOCK_EX) == 0);
    REQUIRE(write(fd, "process 4242 on elsewhere\n", 26) == 26);
    for (const std::string& flag : {"", " --resume", " --force"}) {
      const auto r = box.pfode("run " + cfg + " -q" + flag);
      INFO(flag << ": " << r.err);
      REQUIRE(r.status == 2);
      REQUIRE(r.err == "pfode: error: output '" + out +
                           "' is in use by another pfode run (process 4242 on elsewhere); wait for it to end, or "
                           "stop it first\n");
      REQUIRE(!fs::exists(out + ".partial"));
    }
    close(fd);
  }
  // A real one, held still while the others try: fresh runs, resumes and forced runs are refused.
  Background first("run " + cfg + " -q", box.path("first.txt"));
  REQUIRE(first.wait_until([&] { return files_named(out + ".partial", "cells_") > 0; }));
  first.signal(SIGSTOP);
  for (const std::string& flag : {"", " --resume", " --force"}) {
    const auto r = box.pfode("run " + cfg + " -q" + flag);
    INFO(flag << ": " << r.err);
    REQUIRE(r.status == 2);
    REQUIRE(has(r.err, "is in use by another pfode run (process "));
  }
  first.signal(SIGCONT);
  REQUIRE(first.wait() == 0);
  REQUIRE(!fs::exists(out + ".lock"));
  REQUIRE(!fs::exists(out + ".partial"));
}

TEST_CASE("faults: SIGINT and SIGTERM say what is checkpointed and how to continue, and exit 130 and 143",
          "[faults]") {
  Sweep s;
  for (int signal : {SIGINT, SIGTERM}) {
    const std::string name = signal == SIGINT ? "SIGINT" : "SIGTERM";
    INFO(name);
    fs::remove(s.run / "r.h5");
    Background run("run ../x.ini --force", s.box.path("err.txt"), s.run);
    REQUIRE(run.wait_until([&] { return files_named(s.partial(), "cells_") > 0; }));
    run.signal(signal);
    REQUIRE(run.wait() == 128 + signal);
    const std::string err = run.err();
    INFO(err);
    REQUIRE(std::regex_search(err, std::regex("pfode: interrupted by " + name +
                                              ": [0-9]+ of 30 cells and [0-2] of 2 references are checkpointed in "
                                              "'r.h5.partial'; the cells not yet written there were discarded\n")));
    // The command it gives (--force becomes --resume) completes the same file.
    const std::string advice = "pfode: continue with: ";
    REQUIRE(has(err, advice + PFODE_EXECUTABLE " run ../x.ini --resume\n"));
    REQUIRE(!fs::exists(s.run / "r.h5"));
    REQUIRE(!fs::exists(s.run / "r.h5.lock"));
    const std::string resume = err.substr(err.find(advice) + advice.size());
    REQUIRE(std::system(("cd " + s.run.string() + " && " + resume.substr(0, resume.find('\n')) + " -q").c_str()) == 0);
    REQUIRE(s.same_as_whole());
  }
}

TEST_CASE("faults: a resume reads the reference states from the checkpoint instead of solving again", "[faults]") {
  Sweep s;
  // The disk fills up at the first cell: group 0's reference (record and states) is checkpointed.
  REQUIRE(s.pfode("-q", s.run, full_disk("PFODE_FAULT_FAIL_NAME=cells_")).status == 1);
  const double solved_in = pfode::io::File::open_read(s.partial("reference_0.h5").string())
                               .root()
                               .open_group("g__edm__seed0")
                               .read_double_attribute("wall_time");
  const auto r = s.pfode("--resume");
  INFO(r.err);
  REQUIRE(r.status == 0);
  REQUIRE(has(r.err, "reference g/edm/seed=0: states read from the checkpoint"));
  REQUIRE(!std::regex_search(r.err, std::regex("reference g/edm/seed=0: [0-9]+ times")));  // the note of a solve
  REQUIRE(pfode::io::File::open_read((s.run / "r.h5").string())
              .root()
              .open_group("references/g__edm__seed0")
              .read_double_attribute("wall_time") == solved_in);
  REQUIRE(s.same_as_whole());
}

TEST_CASE("faults: a reference that cannot be solved fails as such, so the advice is to change the config",
          "[faults]") {
  // Values the config now refuses (stds 1e300: the variances overflow), given past its checks.
  auto m = pfode::test::gaussian(2);
  m.stds = {1e300, 1e300};
  const auto e = pfode::test::experiment(m, "edm", "uniform-lambda", "euler", {4}, 4);
  REQUIRE_THROWS_AS(pfode::test::run_cells(e), pfode::sweep::ReferenceFailed);
  REQUIRE_THROWS_AS(pfode::model::make_model("g", 2, {1.0}, {0.0, 0.0}, m.stds, "test"), std::invalid_argument);
}

TEST_CASE("faults: after a change of config, the advice for an interrupted run is one that works", "[faults]") {
  Sweep s;
  REQUIRE(s.pfode("-q", s.run, full_disk("PFODE_FAULT_FAIL_NAME=cells_")).status == 1);
  for (const std::string& flag : {"", " --resume"}) {
    const auto r = s.pfode("-q --set run.samples=8" + flag);
    REQUIRE(r.status == 2);
    REQUIRE(has(r.err, "'r.h5.partial' holds an interrupted run of a different config, different input files or "
                       "another pfode build; pass --force to discard it and start over"));
  }
  const auto same = s.pfode("-q");
  REQUIRE(same.status == 2);
  REQUIRE(has(same.err, "an interrupted run of this config left 'r.h5.partial'; pass --resume to continue it"));
  REQUIRE(s.pfode("-q --set run.samples=8 --force").status == 0);
}

TEST_CASE("faults: --resume of a finished run clears what a kill during its cleanup left, and says it is done",
          "[faults]") {
  Sweep s;
  fs::copy_file(s.whole / "r.h5", s.run / "r.h5");
  // A kill while the finished run removed its checkpoint (renamed first, then deleted).
  fs::create_directories(s.run / "r.h5.partial.tmp.12345");
  std::ofstream(s.run / "r.h5.partial.tmp.12345" / "cell_0.h5") << "left over";
  const auto again = s.pfode("-q");
  REQUIRE(again.status == 2);
  REQUIRE(has(again.err, "exists; pass --force to replace it"));
  const auto other = s.pfode("-q --resume --set run.samples=8");
  REQUIRE(other.status == 2);
  REQUIRE(has(other.err, "holds the results of another config or pfode build, and no interrupted run of it is left"));
  const auto r = s.pfode("-q --resume");
  REQUIRE(r.status == 0);
  REQUIRE(r.err == "pfode: nothing to resume: 'r.h5' already holds this run's results\n");
  REQUIRE(!fs::exists(s.run / "r.h5.partial.tmp.12345"));
  REQUIRE(s.same_as_whole());
}

TEST_CASE("faults: a plan that cannot fit in memory or on the disk is refused before anything is written",
          "[faults]") {
  Sandbox box;
  const auto cfg = box.config(std::regex_replace(kSweep, std::regex("out = r.h5"), "out = " + box.path("r.h5").string()));
  auto r = box.pfode("run " + cfg.string() + " -q", full_disk("PFODE_FAULT_FREE_BYTES=204800"));
  INFO(r.err);
  REQUIRE(r.status == 2);
  REQUIRE(std::regex_search(r.err, std::regex("^pfode: error: not enough disk space for '.*r.h5': the run needs about "
                                              "[0-9.]+ [kM]B more \\(results file [0-9.]+ [kM]B, checkpoint [0-9.]+ [kM]B\\), "
                                              "and 205 kB are free in '.*'\n$")));
  REQUIRE(box.no_output());
  r = box.pfode("run " + cfg.string() + " -q --set run.samples=1000000000");
  INFO(r.err);
  REQUIRE(r.status == 2);
  REQUIRE(std::regex_search(r.err, std::regex("^pfode: error: the plan needs about [0-9.]+ [TG]B of memory \\(the "
                                              "reference of m/edm/seed=0: 1000000000 samples x [0-9]+ times x 4 "
                                              "coordinates and its largest cell\\), more than the .* available")));
  REQUIRE(box.no_output());
}
