// The pfode executable on good and bad input: one clear line, a non-zero exit, no output left.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli_support.hpp"
#include "io/hdf5.hpp"

namespace fs = std::filesystem;
using pfode::test::lines;
using pfode::test::Sandbox;
using pfode::test::slurp;

namespace {

std::string good_config(const std::string& out) {
  return "[run]\nout = " + out +
         "\nsamples = 4\n[sweep]\nmodels = g\nschedules = edm\nsolvers = euler heun\nnfe = 4 8\n"
         "[model.g]\nkind = gaussian\ndim = 2\nmeans = 0 1\nstds = 0.5 0.5\n";
}

}  // namespace

TEST_CASE("cli: a good run writes the results file and prints the order table", "[cli]") {
  Sandbox box;
  const auto out = box.path("r.h5").string();
  std::ofstream(box.path(".r.h5.tmp.99999")) << "left by a run killed while writing its results file";
  const auto r = box.pfode("run " + box.config(good_config(out)).string() + " -q");
  REQUIRE(r.status == 0);
  REQUIRE(fs::exists(out));
  REQUIRE(!fs::exists(box.path(".r.h5.tmp.99999")));
  const auto file = pfode::io::File::open_read(out);
  REQUIRE(file.root().read_string_attribute("format") == "pfode-results-1");
  REQUIRE(file.root().open_group("cells").children().size() == 4);
  // Existing output: refused without --force, replaced with it.
  const auto again = box.pfode("run " + box.path("x.ini").string());
  REQUIRE(again.status == 2);
  REQUIRE(again.err == "pfode: error: output '" + out + "' exists; pass --force to replace it\n");
  const auto forced = box.pfode("run " + box.path("x.ini").string() + " --force");
  REQUIRE(forced.status == 0);
  REQUIRE(forced.out.find("GTE order") != std::string::npos);
}

TEST_CASE("cli: progress is a bar on a terminal and one line per finished cell otherwise", "[cli]") {
  Sandbox box;
  const auto cfg = box.config(good_config(box.path("r.h5").string())).string();
  const auto logged = box.pfode("run " + cfg);
  REQUIRE(logged.status == 0);
  for (int i = 1; i <= 4; ++i) REQUIRE(logged.err.find("[" + std::to_string(i) + "/4] ") != std::string::npos);
  REQUIRE(logged.err.find("ETA") == std::string::npos);
  // On a pseudo-terminal (util-linux script): the bar, drawn from 0/4 cells on and redrawn to 4/4.
  const auto typescript = box.path("typescript").string();
  const std::string cmd = "script -qec '" + std::string(PFODE_EXECUTABLE) + " run " + cfg + " --force' " + typescript +
                          " > /dev/null 2>&1";
  REQUIRE(std::system(cmd.c_str()) == 0);
  const auto screen = slurp(typescript);
  INFO(screen);
  for (const char* drawn : {"] 0/4 cells  elapsed 00:00:00  ETA --:--:--", "] 4/4 cells  elapsed ", "ETA 00:00:00"})
    REQUIRE(screen.find(drawn) != std::string::npos);
  REQUIRE(screen.find("[1/4] ") == std::string::npos);
  // --progress bar off a terminal, none, and --quiet print nothing on stderr; bar and none keep the table.
  for (const char* mode : {"--progress bar", "--progress none", "-q"}) {
    INFO(mode);
    const auto r = box.pfode("run " + cfg + " --force " + mode);
    REQUIRE(r.status == 0);
    REQUIRE(r.err.empty());
    REQUIRE((r.out.find("GTE order") != std::string::npos) == (std::string(mode) != "-q"));
  }
  const auto bad = box.pfode("run " + cfg + " --force --progress dots");
  REQUIRE(bad.status == 2);
  REQUIRE(bad.err == "pfode: error: --progress: unknown 'dots' (auto | bar | cells | none)\n");
}

TEST_CASE("cli: the order table has one aligned row per series, with its seed", "[cli]") {
  // Two seeds and a long label: each series is its own row, and every column starts where its
  // header does.
  Sandbox box;
  const auto r = box.pfode("run " + box.config(good_config(box.path("r.h5").string())).string() +
                           " --progress none --set 'run.seeds=0 7' --set 'sweep.solvers=euler dpm-solver++2m[warmup=multistep,"
                           "lower_order_final=10]' --set 'sweep.nfe=4 8 16'");
  REQUIRE(r.status == 0);
  std::vector<std::string> table;
  std::istringstream in(r.out);
  for (std::string line; std::getline(in, line);)
    if (line.rfind("model ", 0) == 0 || line.rfind("g ", 0) == 0) table.push_back(line);
  INFO(r.out);
  REQUIRE(table.size() == 5);  // header + 2 solvers x 2 seeds
  const auto& head = table[0];
  for (const std::string& row : table) REQUIRE(row.size() == head.size());
  // Right-aligned columns end under their headers; the seed column holds each seed.
  const size_t seed_end = head.find("seed") + 4, theory_end = head.size();
  std::set<std::string> seeds;
  for (size_t k = 1; k < table.size(); ++k) {
    REQUIRE(table[k][seed_end] == ' ');
    REQUIRE(table[k][seed_end - 1] != ' ');
    REQUIRE(table[k][theory_end - 1] != ' ');
    seeds.insert(table[k].substr(head.find("seed"), 4));
  }
  CHECK(seeds == std::set<std::string>{"   0", "   7"});
}

TEST_CASE("cli: bad input gets one line naming the problem, exit 2, and no output", "[cli]") {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"sweep.solvers=euler,heunn", "unknown solver 'heunn'"},
      {"sweep.schedules=vp-quadratic", "unknown schedule 'vp-quadratic'"},
      {"sweep.spacings=log-t", "unknown spacing 'log-t'"},
      {"sweep.models=g,h", "model 'h' has no [model.h] section"},
      {"run.samples=0", "run.samples = 0 is below 1"},
      {"run.samples=ten", "run.samples: 'ten' is not an integer"},
      {"model.g.stds=0.5 -1", "stds must be 0 or within [1e-100, 1e100]"},
      {"model.g.rotations=1 2 ; 2 4", "model g: rotation of component 0 is singular: column 1 depends"},
      {"model.g.rotations=1 0.1 ; 0 1", "model g: rotation of component 0 is not orthogonal: max |U^T U - I| = 0.1"},
      {"sweep.nfe=", "missing value for 'sweep.nfe'"},
      {"sweep.solvers=rk4", "NFE 2 is below what solver rk4 needs"},  // with --set sweep.nfe=2
      // Every invalid cell is counted and each distinct reason named, not only the first.
      {"sweep.solvers=euler rk3 rk4",
       "cell g/edm/uniform-lambda/rk3/nfe=2/seed=0: NFE 2 is below what solver rk3 needs for one step (3); 1 more "
       "invalid cells: NFE 2 is below what solver rk4 needs"},
      {"run.reference_tolerance=1e-20", "run.reference_tolerance must be in"},
      {"run.reference_step=shared", "run.reference_step: unknown 'shared' (sample | pack)"},
      {"run.layout=warps", "run.layout: unknown 'warps' (auto | packs | teams)"},
      {"run.colour=blue", "unknown setting 'run.colour'"},
      {"schedule.edm.t_min=-1", "schedule edm: t_min"},
      {"sweep.spacings=karras[rho=-2]", "rho must be > 0"},
      {"run.out=/nonexistent/dir/r.h5", "output directory '/nonexistent/dir' does not exist"},
      // Counts beyond an int are refused, not truncated; a repeated axis value is refused before
      // it can duplicate cells, points of a series or groups of the results file.
      {"run.samples=4294967297", "run.samples = 4294967297 is above 2147483647"},
      {"sweep.nfe=4294967304", "sweep.nfe: 4294967304 must be in [1, 1000000]"},
      {"run.seeds=0 0", "run.seeds: '0' is listed twice"},
      {"sweep.solvers=euler euler", "sweep.solvers: 'euler' is listed twice"},
      {"sweep.nfe=8 8 16", "sweep.nfe: '8' is listed twice"},
      {"sweep.schedules=edm edm", "sweep.schedules: 'edm' is listed twice"},
      {"run.start=file", "missing value for 'run.start_file'"},
      {"model.h.kind=gaussian", "'model.h.kind' is set but sweep.models does not list 'h'"},
      // Settings of a listed model that its kind does not take are named as such.
      {"model.g.foo=1", "model g: unknown setting 'foo' for kind = gaussian (it takes kind, dim, means, stds, rotations, rotation_seed)"},
      {"model.g.weights=0.5 0.5", "unknown setting 'weights' for kind = gaussian"},
      {"swep.models=g", "unknown section [swep] (known: [run], [sweep], [plan.NAME], [model.NAME], [schedule.NAME])"},
      {"model.kind=gaussian", "section [model] needs a name: [model.NAME]"},
      // Values the reference cannot integrate are refused here, not after the run has started.
      {"model.g.stds=1e300", "model g: stds must be 0 or within [1e-100, 1e100]"},
      {"model.g.means=1e308", "model g: means must be finite and within +-1e100"},
      {"model.g.stds=1e-320", "model.g.stds: '1e-320' is too close to zero for double precision"},
      {"model.g.means=1e400", "model.g.means: '1e400' is too large for double precision"},
      // Times outside a schedule's range.
      {"schedule.edm.t_min=0.0001", "schedule edm: t_min and t_max must lie in [0.002, 80] (got 0.0001 .. 80)"},
      {"schedule.edm.t_max=1000", "schedule edm: t_min and t_max must lie in [0.002, 80]"},
      {"schedule.edm.t_max=1e6", "schedule edm: t_min and t_max must lie in [0.002, 80]"},
      {"sweep.solvers=heun[]", "'heun[]': empty option list (write heun, or heun[key=value,...])"},
  };
  for (const auto& [set, message] : cases) {
    Sandbox box;
    const auto cfg = box.config(good_config(box.path("r.h5").string()));
    std::string extra = set.rfind("sweep.solvers=", 0) == 0 && set.find("rk4") != std::string::npos ? " --set sweep.nfe=2" : "";
    const auto r = box.pfode("run " + cfg.string() + " --set '" + set + "'" + extra);
    INFO(set << " -> " << r.err);
    REQUIRE(r.status == 2);
    REQUIRE(lines(r.err) == 1);
    REQUIRE(r.err.rfind("pfode: error: ", 0) == 0);
    REQUIRE(r.err.find(message) != std::string::npos);
    REQUIRE(box.no_output());
  }
}

TEST_CASE("cli: config files that are not what they seem get one short line naming the problem", "[cli]") {
  Sandbox box;
  const std::string good = good_config(box.path("r.h5").string());
  auto run = [&](const std::string& text) {
    box.config(text);
    return box.pfode("run " + box.path("x.ini").string());
  };
  auto swap = [](std::string text, const std::string& from, const std::string& to) {
    return text.replace(text.find(from), from.size(), to);
  };
  const std::string mixture = "[model.m]\nkind = mixture\ndim = 1\nweights = 0.5 0.3\nmeans = 0 ; 1\nstds = 0.5\n";
  const std::vector<std::pair<std::string, std::string>> cases = {
      // A misspelled section is named, not reported as the settings it fails to give.
      {swap(good, "[sweep]", "[swep]"), "unknown section [swep]"},
      {swap(good, "models = g", std::string("models = g\0h", 12)), "line 5 holds a NUL byte"},
      {swap(good, "schedules = edm", "schedules = vp-linear") + "[schedule.vp-linear]\nt_min = 1e-9\n",
       "schedule vp-linear: t_min and t_max must lie in [0.001, 1] (got 1e-09 .. 1)"},
      // Weights are not renormalised silently; within 1e-6 of 1 they are.
      {swap(good, "models = g", "models = g m") + mixture, "model m: weights sum to 0.8, not 1"},
      // A megabyte-long bad line is not echoed whole.
      {good + std::string(1000000, 'x') + "\n", "invalid line 'xxxx"},
      {swap(good, "euler heun", "euler" + std::string(1000000, 'y')), "(1000005 characters) (known: euler,"},
  };
  for (const auto& [text, message] : cases) {
    const auto r = run(text);
    INFO(r.err.substr(0, 300));
    REQUIRE(r.status == 2);
    REQUIRE(lines(r.err) == 1);
    REQUIRE(r.err.size() < 1200);
    REQUIRE(r.err.find(message) != std::string::npos);
    REQUIRE(box.no_output());
  }
  REQUIRE(run(swap(good, "models = g", "models = g m") + swap(mixture, "0.5 0.3", "0.3333333 0.6666666")).status == 0);
}

TEST_CASE("cli: start-state files and output paths are checked before any compute", "[cli]") {
  Sandbox box;
  const auto cfg = box.config(good_config(box.path("r.h5").string())).string();
  {
    const auto f = pfode::io::File::create(box.path("starts.h5").string());
    f.root().write_dataset("x_T", {0.1, 0.2, 0.3, NAN, 0.5, 0.6, 0.7, 0.8}, {4, 2});
    f.root().write_dataset("short", {0.1, 0.2}, {1, 2});
    f.root().write_dataset("wide", std::vector<double>(12, 0.1), {4, 3});
    f.root().write_dataset("good", {0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8}, {4, 2});
  }
  const std::string start = " --set run.start=file --set run.start_file=" + box.path("starts.h5").string();
  const std::vector<std::pair<std::string, std::string>> cases = {
      {start, "dataset x_T holds a non-finite value (sample 1)"},
      {start + " --set run.start_dataset=short", "is 1 x 2, not at least 4 (run.samples) x exactly 2"},
      {start + " --set run.start_dataset=wide", "is 4 x 3, not at least 4 (run.samples) x exactly 2"},
      {start + " --set run.start_dataset=nope", "cannot read dataset 'nope'"},
      {start + " --set run.start_dataset=good --set run.common_s_interval=true --set 'sweep.schedules=vp-linear edm'",
       "run.start = file with run.common_s_interval"},
      {" --out ''", "--out needs a file name"},
  };
  for (const auto& [args, message] : cases) {
    const auto r = box.pfode("run " + cfg + args);
    INFO(args << " -> " << r.err);
    REQUIRE(r.status == 2);
    REQUIRE(lines(r.err) == 1);
    REQUIRE(r.err.find(message) != std::string::npos);
    REQUIRE(!fs::exists(box.path("r.h5")));
    REQUIRE(!fs::exists(box.path("r.h5.partial")));
  }
  // A directory is never replaced: the message does not suggest --force, which would not help.
  for (const std::string& force : {"", " --force"}) {
    const auto r = box.pfode("run " + cfg + " -o " + box.path(".").string() + force);
    REQUIRE(r.status == 2);
    REQUIRE(r.err.find("is a directory; name a file") != std::string::npos);
    REQUIRE(r.err.find("--force") == std::string::npos);
  }
  // --force replaces results files only: a FIFO (like a device) is refused, and left alone.
  const auto fifo = box.path("fifo.h5");
  REQUIRE(mkfifo(fifo.c_str(), 0600) == 0);
  const auto r = box.pfode("run " + cfg + " --out " + fifo.string() + " --force");
  REQUIRE(r.status == 2);
  REQUIRE(r.err == "pfode: error: output '" + fifo.string() + "' exists and is not a regular file\n");
  REQUIRE(fs::is_fifo(fifo));
}

TEST_CASE("cli: missing config, bad arguments and unknown commands", "[cli]") {
  Sandbox box;
  auto r = box.pfode("run " + box.path("missing.ini").string());
  REQUIRE(r.status == 2);
  REQUIRE(r.err.find("cannot read config file") != std::string::npos);
  REQUIRE(lines(r.err) == 1);
  r = box.pfode("run " + box.path(".").string());  // a directory
  REQUIRE(r.status == 2);
  REQUIRE(r.err.find("cannot read config file") != std::string::npos);
  r = box.pfode("run");
  REQUIRE(r.status == 2);
  REQUIRE(lines(r.err) == 1);
  r = box.pfode("run " + box.config(good_config(box.path("r.h5").string())).string() + " --set nodot");
  REQUIRE(r.status == 2);
  REQUIRE(r.err.find("expected section.key=value") != std::string::npos);
  r = box.pfode("frobnicate");
  REQUIRE(r.status == 2);
  REQUIRE(lines(r.err) == 1);
  r = box.pfode("list extra");
  REQUIRE(r.status == 2);
  REQUIRE(r.err == "pfode: error: list takes no arguments (got 'extra')\n");
  r = box.pfode("run " + box.path("x.ini").string() + " --bogus");
  REQUIRE(r.status == 2);
  REQUIRE(lines(r.err) == 1);
  REQUIRE(box.no_output());
}

TEST_CASE("cli: list and help", "[cli]") {
  Sandbox box;
  auto r = box.pfode("list");
  REQUIRE(r.status == 0);
  for (const char* name : {"vp-linear", "vp-cosine", "ve", "edm", "flow", "uniform-lambda", "karras", "euler", "heun",
                           "rk4", "ddim"})
    REQUIRE(r.out.find(name) != std::string::npos);
  r = box.pfode("list --help");
  REQUIRE(r.status == 0);
  REQUIRE(r.out.rfind("usage: pfode list", 0) == 0);
  r = box.pfode("--help");
  REQUIRE(r.status == 0);
  REQUIRE(r.out.find("pfode run CONFIG.ini") != std::string::npos);
}

TEST_CASE("cli: bench checks --out before timing and writes it whole", "[cli]") {
  Sandbox box;
  const auto out = box.path("b.h5").string();
  const std::string quick = "bench --quick --no-sizes --no-layouts --no-scaling --out " + out;
  auto r = box.pfode(quick);
  REQUIRE(r.status == 0);
  {
    const auto root = pfode::io::File::open_read(out).root();
    REQUIRE(root.read_dataset("tight").size() == 16 * 4);  // --quick: 16 samples, 4-D
    REQUIRE(root.open_group("rk4").read_dataset("final").size() == 16 * 4);
  }
  r = box.pfode(quick);
  REQUIRE(r.status == 2);
  REQUIRE(r.err == "pfode: error: output '" + out + "' exists; pass --force to replace it\n");
  REQUIRE(r.out.empty());  // refused before any timing
  REQUIRE(box.pfode(quick + " --force").status == 0);
  r = box.pfode("bench --quick --out " + box.path("none/b.h5").string());
  REQUIRE(r.status == 2);
  REQUIRE(lines(r.err) == 1);
  REQUIRE(r.err.find("does not exist") != std::string::npos);
  // Bad sizes, tolerances, solvers and problem files: one line, before any output.
  for (const std::string& args : std::vector<std::string>{"--samples 0", "--tolerance 1e-20", "--tight-tolerance -1", "--solvers rk4,bogus",
                                 "--problem " + box.path("x.ini").string()}) {
    INFO(args);
    r = box.pfode("bench --quick " + args);
    REQUIRE(r.status == 2);
    REQUIRE(lines(r.err) == 1);
    REQUIRE(r.out.empty());
  }
  for (const auto& entry : fs::directory_iterator(box.path(".")))  // no temporary left behind
    REQUIRE(entry.path().filename().string().find(".tmp.") == std::string::npos);
}

TEST_CASE("cli: a solver that fails is a recorded status, not an error", "[cli]") {
  // At tol = 1e-300 no step is ever accepted: every sample runs out of attempts and ends as NaN.
  Sandbox box;
  const auto out = box.path("r.h5").string();
  const auto r = box.pfode("run " + box.config(good_config(out)).string() +
                           " -q --set 'sweep.solvers=dopri5[tol=1e-300] euler' --set sweep.nfe=8");
  REQUIRE(r.status == 0);
  const auto cells = pfode::io::File::open_read(out).root().open_group("cells");
  std::map<std::string, std::string> status;
  for (const auto& name : cells.children()) {
    const auto cell = cells.open_group(name);
    status[cell.read_string_attribute("solver")] = cell.read_string_attribute("status");
  }
  CHECK(status == std::map<std::string, std::string>{{"dopri5[tol=1e-300]", "step_control_failed"}, {"euler", "ok"}});
}

TEST_CASE("cli: stochastic samplers' options and the strong and weak error settings are checked", "[cli]") {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"sweep.solvers=ddim-eta[eta=2]", "option eta: '2' is outside [0, 1]"},
      {"sweep.solvers=euler-ancestral[s_noise=0]", "option s_noise: '0' is outside (0, 100]"},
      {"sweep.solvers=edm-stochastic[s_tmin=2,s_tmax=1]", "s_tmin must not exceed s_tmax"},
      {"sweep.solvers=edm-stochastic[s_churn=x]", "option s_churn: 'x' is not a finite number"},
      {"sweep.solvers=dpm++2m-sde[noise=tree]", "option noise: 'tree' (known: integral, increment)"},
      {"sweep.solvers=dpm++2m-sde[solver_type=rk]", "option solver_type: 'rk' (known: midpoint, heun)"},
      {"sweep.solvers=langevin[steps=0]", "option steps: 0 is outside 1..10000"},
      {"sweep.solvers=pc[snr=0]", "option snr: '0' is outside (0, 10]"},
      {"sweep.solvers=pc[predictor=euler]", "option predictor: 'euler' (known: reverse-diffusion, euler-maruyama)"},
      {"sweep.solvers=dpm++sde[r=1.5]", "option r: '1.5' is outside (0, 1]"},
      {"sweep.solvers=ddpm[eta=0.5]", "solver ddpm has no option 'eta'"},
      {"run.sde_refinement=7", "run.sde_refinement = 7 must be even"},
      {"run.sde_refinement=1", "run.sde_refinement = 1 is below 2"},
      {"run.brownian_depth=41", "run.brownian_depth = 41 is above 40"},
      {"run.weak_samples=10", "run.weak_samples = 10 is below 64 or two MMD blocks (2 x run.mmd_block = 2048)"},
      // One block would leave the MMD without its interval (and its value NaN).
      {"run.weak_samples=1024", "run.weak_samples = 1024 is below 64 or two MMD blocks (2 x run.mmd_block = 2048)"},
      {"run.weak_samples=255' --set 'run.mmd_block=128", "run.weak_samples = 255 is below 64 or two MMD blocks"},
      {"run.mmd_block=1", "run.mmd_block = 1 is below 2"},
      {"run.mmd_bandwidth=-1", "run.mmd_bandwidth: '-1' must be auto or a positive number"},
      {"run.mmd_bandwidth=wide", "run.mmd_bandwidth: 'wide' is not a finite number"},
      {"run.start=prior' --set 'run.weak_samples=4096", "run.weak_samples needs run.start = marginal"},
  };
  for (const auto& [set, message] : cases) {
    Sandbox box;
    const auto r = box.pfode("run " + box.config(good_config(box.path("r.h5").string())).string() + " --set '" + set + "'");
    INFO(set << " -> " << r.err);
    REQUIRE(r.status == 2);
    REQUIRE(lines(r.err) == 1);
    REQUIRE(r.err.rfind("pfode: error: ", 0) == 0);
    REQUIRE(r.err.find(message) != std::string::npos);
    REQUIRE(box.no_output());
  }

  // A good run: the stochastic cell holds its strong error against the refined run on the same
  // path, both cells their weak errors; the series their weak orders.
  Sandbox box;
  const auto out = box.path("r.h5").string();
  const auto r = box.pfode("run " + box.config(good_config(out)).string() +
                           " -q --set 'sweep.solvers=euler-maruyama ddim' --set run.sde_refinement=4"
                           " --set run.weak_samples=512 --set run.mmd_block=128");
  REQUIRE(r.status == 0);
  const auto cells = pfode::io::File::open_read(out).root().open_group("cells");
  std::set<std::string> solvers;
  for (const auto& name : cells.children()) {
    const auto cell = cells.open_group(name);
    const auto solver = cell.read_string_attribute("solver");
    solvers.insert(solver);
    INFO(solver);
    const bool sde = solver == "euler-maruyama";
    CHECK(cell.read_string_attribute("gte_target") == (sde ? "sde_reference" : "grid_end"));
    CHECK(cell.read_long_attribute("refinement") == (sde ? 4 : 0));
    CHECK(cell.read_long_attribute("brownian_depth") == (sde ? 26 : 0));
    CHECK(cell.read_long_attribute("strong_order_theory") == 1);
    CHECK(cell.read_long_attribute("weak_order_theory") == 1);
    CHECK(cell.read_long_attribute("weak_samples") == 512);
    CHECK(cell.read_long_attribute("mmd_samples") == 512);
    CHECK(cell.read_double_attribute("weak_mmd") >= 0);
    CHECK(cell.read_double_attribute("weak_mmd_high") >= cell.read_double_attribute("weak_mmd"));
    CHECK(std::isfinite(cell.read_double_attribute("gte_rms")));
  }
  CHECK(solvers == std::set<std::string>{"euler-maruyama", "ddim"});
}
