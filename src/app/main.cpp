// pfode: truncation errors and convergence orders of probability-flow ODE samplers against
// exact ground truth. `pfode --help` lists the commands.
#include <algorithm>
#include <boost/program_options.hpp>
#include <cstring>
#include <iostream>
#include <optional>
#ifdef __GLIBC__
#include <malloc.h>
#endif

#include "app/commands.hpp"
#include "app/interrupts.hpp"
#include "app/likelihood_command.hpp"
#include "common/message.hpp"
#include "compat/kokkos_compat.hpp"
#include "io/hdf5.hpp"
#include "io/provenance.hpp"

namespace po = boost::program_options;

namespace {

const char* kUsage =
    "usage: pfode run CONFIG.ini [--out FILE] [--set section.key=value ...] [--force | --resume]\n"
    "                 [--progress auto|bar|cells|none] [--quiet]\n"
    "       pfode export CONFIG.ini [--out FILE] [--set section.key=value ...] [--force] [--quiet]\n"
    "       pfode score PROBLEM.h5 RUNS.h5 [--out FILE] [--force] [--quiet]\n"
    "       pfode likelihood CONFIG.ini [--out FILE] [--set section.key=value ...] [--force] [--quiet]\n"
    "       pfode optimize CONFIG.ini [--out FILE] [--candidates M] [--objective gte-rms|gte-median]\n"
    "                 [--starts K] [--heldout-seed S] [--set ...] [--force] [--quiet]\n"
    "       pfode list\n"
    "       pfode bench [--quick] [options]   (pfode bench --help)\n"
    "       pfode --help | --version\n"
    "\n"
    "  run   run the sweep an experiment file describes; writes one HDF5 file and prints the\n"
    "        fitted convergence orders (experiments/ holds ready-made files)\n"
    "  export write the problem file of an experiment (models, schedules, start states, time grids)\n"
    "        that a sampler outside pfode runs from\n"
    "  score score the runs such a sampler wrote (states, NFE, a label per run) against the exact\n"
    "        references; writes a results file like run's\n"
    "  likelihood log-likelihoods of exact data through the PF-ODE and their error budget\n"
    "        (integration, Hutchinson estimator, truncation, prior) against the exact log-density\n"
    "  optimize the time grid of least global error for each model, schedule, single-step solver and\n"
    "        NFE budget of an experiment: custom[file=...] grid files and one HDF5 file\n"
    "  list  every noise schedule, time-step spacing and solver, with theoretical orders\n"
    "  bench throughput of the solver, reference and model kernels (sample-evaluations/s, FLOP/s)\n";

// Parses a command's options (argv[2] on) with POSITIONAL taking COUNT bare arguments. Prints the
// help and returns false when --help is given.
bool parse_command(int argc, char** argv, const po::options_description& opts, const char* positional, int count,
                   po::variables_map& vm) {
  po::positional_options_description pos;
  pos.add(positional, count);
  po::store(po::command_line_parser(argc - 1, argv + 1).options(opts).positional(pos).run(), vm);
  po::notify(vm);
  if (!vm.count("help")) return true;
  std::cout << kUsage << "\n" << opts;
  return false;
}

// `--out ''` would write next to nothing the user named.
void require_out_name(const po::variables_map& vm) {
  if (vm.count("out") && vm["out"].as<std::string>().empty()) throw po::error("--out needs a file name");
}

int run(int argc, char** argv, const pfode::sweep::Ranks& ranks) {
  po::options_description opts("run options");
  pfode::app::RunOptions run;
  std::string progress;
  opts.add_options()("help,h", "show this help")("config", po::value(&run.config), "experiment file")(
      "out,o", po::value(&run.out), "output HDF5 file (overrides run.out)")(
      "set", po::value(&run.overrides)->composing(), "section.key=value override (repeatable)")(
      "force", po::bool_switch(&run.force), "replace an existing output file, discard an interrupted run")(
      "resume", po::bool_switch(&run.resume), "continue an interrupted run, computing only missing cells")(
      "progress", po::value(&progress)->default_value("auto"),
      "auto (a bar on a terminal, one line per cell otherwise) | bar (on a terminal only) | cells | none")(
      "quiet,q", po::bool_switch(&run.quiet), "no progress or table");
  po::variables_map vm;
  if (!parse_command(argc, argv, opts, "config", 1, vm)) return pfode::app::exit_ok;
  if (run.config.empty()) throw po::error("run needs a config file");
  require_out_name(vm);
  if (run.force && run.resume) throw po::error("--force and --resume exclude each other");
  try {
    run.progress = run.quiet ? pfode::sweep::Progress::Mode::none : pfode::sweep::Progress::parse_mode(progress);
  } catch (const std::invalid_argument& e) {
    throw po::error(e.what());
  }
  return pfode::app::run_command(run, argc, argv, ranks);
}

int export_problem(int argc, char** argv) {
  po::options_description opts("export options");
  pfode::app::ExportOptions options;
  opts.add_options()("help,h", "show this help")("config", po::value(&options.config), "experiment file")(
      "out,o", po::value(&options.out), "problem file (default: run.out with -problem before .h5)")(
      "set", po::value(&options.overrides)->composing(), "section.key=value override (repeatable)")(
      "force", po::bool_switch(&options.force), "replace an existing problem file")(
      "quiet,q", po::bool_switch(&options.quiet), "print nothing on success");
  po::variables_map vm;
  if (!parse_command(argc, argv, opts, "config", 1, vm)) return pfode::app::exit_ok;
  if (options.config.empty()) throw po::error("export needs a config file");
  require_out_name(vm);
  return pfode::app::export_command(options, argc, argv);
}

int score(int argc, char** argv) {
  po::options_description opts("score options");
  pfode::app::ScoreOptions options;
  std::vector<std::string> inputs;
  opts.add_options()("help,h", "show this help")("inputs", po::value(&inputs), "problem file, runs file")(
      "out,o", po::value(&options.out), "results file (default: RUNS with -scored before .h5)")(
      "force", po::bool_switch(&options.force), "replace an existing results file")(
      "quiet,q", po::bool_switch(&options.quiet), "no reference lines or table");
  po::variables_map vm;
  if (!parse_command(argc, argv, opts, "inputs", 2, vm)) return pfode::app::exit_ok;
  if (inputs.size() != 2) throw po::error("score needs a problem file and a runs file");
  require_out_name(vm);
  options.problem = inputs[0];
  options.runs = inputs[1];
  return pfode::app::score_command(options, argc, argv);
}

int likelihood(int argc, char** argv) {
  po::options_description opts("likelihood options");
  pfode::app::LikelihoodOptions options;
  opts.add_options()("help,h", "show this help")("config", po::value(&options.config), "experiment file")(
      "out,o", po::value(&options.out), "output HDF5 file (overrides run.out)")(
      "set", po::value(&options.overrides)->composing(), "section.key=value override (repeatable)")(
      "force", po::bool_switch(&options.force), "replace an existing output file")(
      "quiet,q", po::bool_switch(&options.quiet), "no table");
  po::variables_map vm;
  if (!parse_command(argc, argv, opts, "config", 1, vm)) return pfode::app::exit_ok;
  if (options.config.empty()) throw po::error("likelihood needs a config file");
  require_out_name(vm);
  return pfode::app::likelihood_command(options, argc, argv);
}

int optimize(int argc, char** argv) {
  po::options_description opts("optimize options");
  pfode::app::OptimizeOptions options;
  opts.add_options()("help,h", "show this help")("config", po::value(&options.config), "experiment file")(
      "out,o", po::value(&options.out), "HDF5 file (default: run.out with -optimize before .h5); the grid files go beside it")(
      "candidates", po::value(&options.candidates)->default_value(64), "candidate intervals, uniform in lambda")(
      "objective", po::value(&options.objective)->default_value("gte-rms"), "gte-rms | gte-median over training samples")(
      "starts", po::value(&options.starts)->default_value(1), "local searches, from the best starting grids (1-16)")(
      "heldout-seed", po::value(&options.heldout_seed), "seed of the held-out start states (default: largest run.seeds + 1)")(
      "set", po::value(&options.overrides)->composing(), "section.key=value override (repeatable)")(
      "force", po::bool_switch(&options.force), "replace existing outputs")(
      "quiet,q", po::bool_switch(&options.quiet), "print nothing on success");
  po::variables_map vm;
  if (!parse_command(argc, argv, opts, "config", 1, vm)) return pfode::app::exit_ok;
  if (options.config.empty()) throw po::error("optimize needs a config file");
  require_out_name(vm);
  if (options.candidates < 2 || options.candidates > 4096) throw po::error("--candidates must be in [2, 4096]");
  if (options.starts < 1 || options.starts > 16) throw po::error("--starts must be in [1, 16]");
  if (vm.count("heldout-seed") && options.heldout_seed < 0) throw po::error("--heldout-seed must be >= 0");
  return pfode::app::optimize_command(options, argc, argv);
}

// Freed buffers stay with the process. Every cell allocates and frees the same few-MB views (its
// per-sample errors, states, workspace); glibc would hand each back to the kernel (munmap, or a
// trim of the heap's top), so every cell paid again for faulting in fresh zeroed pages: ~20 % of
// a sweep's CPU time (bench/sweep_timing.py). Only buffers over 32 MB (the most glibc allows
// here) are still mapped apart; the process keeps its peak heap until it exits.
void keep_freed_memory() {
#ifdef __GLIBC__
  mallopt(M_MMAP_THRESHOLD, 32 << 20);
  mallopt(M_TRIM_THRESHOLD, 1 << 30);
#endif
}

}  // namespace

int main(int argc, char** argv) {
  keep_freed_memory();
  const std::string command = argc > 1 ? argv[1] : "";
  if (command.empty() || command == "--help" || command == "-h" || command == "help") {
    std::cout << kUsage;
    return command.empty() ? pfode::app::exit_usage : pfode::app::exit_ok;
  }
  if (command == "--version") {
    // What the build runs on, as the provenance of a results file records it.
    const auto p = pfode::io::collect_provenance(0, nullptr, "");
#ifdef PFODE_HAVE_MPI
    const char* mpi = "yes";
#else
    const char* mpi = "no";
#endif
    std::cout << "pfode " << p.pfode_version << " (git " << p.git_commit << "), Kokkos " << p.kokkos_version
              << ", MPI " << mpi << ", execution space " << p.execution_space << "\n";
    return pfode::app::exit_ok;
  }
  if (command == "list") {
    if (argc == 3 && (std::strcmp(argv[2], "--help") == 0 || std::strcmp(argv[2], "-h") == 0)) {
      std::cout << "usage: pfode list\n\nPrints every noise schedule, time-step spacing, solver (with its theoretical\n"
                   "order, NFE per step and reference) and preset that an experiment file can name.\n";
      return pfode::app::exit_ok;
    }
    if (argc > 2) {
      std::cerr << "pfode: error: " << pfode::printable_message("list takes no arguments (got '" + std::string(argv[2]) + "')") << "\n";
      return pfode::app::exit_usage;
    }
    return pfode::app::list_command();
  }
  // Kokkos takes --help as its own and prints its options: a command's help needs no Kokkos.
  const bool help = std::any_of(argv + 2, argv + argc, [](const char* a) {
    return std::strcmp(a, "--help") == 0 || std::strcmp(a, "-h") == 0;
  });
  if (command == "bench") {
    std::optional<Kokkos::ScopeGuard> kokkos;
    if (!help) kokkos.emplace(argc, argv);
    pfode::io::configure_hdf5();
    try {
      return pfode::app::bench_command(argc, argv);
    } catch (const std::exception& e) {  // bad options or an unreadable problem file
      std::cerr << "pfode: error: " << pfode::printable_message(e.what()) << "\n";
      return pfode::app::exit_usage;
    }
  }
  if (command == "export" || command == "score" || command == "optimize" || command == "likelihood") {
    std::optional<Kokkos::ScopeGuard> kokkos;
    if (!help) kokkos.emplace(argc, argv);
    pfode::io::configure_hdf5();
    try {
      if (command == "likelihood") return likelihood(argc, argv);
      return command == "export" ? export_problem(argc, argv) : command == "score" ? score(argc, argv) : optimize(argc, argv);
    } catch (const po::error& e) {
      std::cerr << "pfode: error: " << pfode::printable_message(e.what()) << "\n";
      return pfode::app::exit_usage;
    } catch (const std::exception& e) {  // anything the command did not expect (e.g. out of memory)
      std::cerr << "pfode: error: " << pfode::printable_message(e.what()) << "\n";
      return pfode::app::exit_failure;
    }
  }
  if (command != "run") {
    std::cerr << "pfode: error: " << pfode::printable_message("unknown command '" + command + "' (see pfode --help)") << "\n";
    return pfode::app::exit_usage;
  }
  // Signals first (the threads MPI and Kokkos start inherit the mask), then MPI (it may rewrite
  // argv), then Kokkos; they finalize in reverse order.
  pfode::app::watch_interrupts();
  pfode::sweep::Ranks ranks(&argc, &argv);
  std::optional<Kokkos::ScopeGuard> kokkos;
  if (!help) kokkos.emplace(argc, argv);
  pfode::io::configure_hdf5();
  try {
    return run(argc, argv, ranks);
  } catch (const po::error& e) {
    if (ranks.first()) std::cerr << "pfode: error: " << pfode::printable_message(e.what()) << "\n";
    return pfode::app::exit_usage;
  } catch (const std::bad_alloc&) {
    std::cerr << "pfode: error: out of memory\n";
    return pfode::app::exit_failure;
  } catch (const std::exception& e) {  // anything the command did not expect
    std::cerr << "pfode: error: " << pfode::printable_message(e.what()) << "\n";
    return pfode::app::exit_failure;
  }
}
