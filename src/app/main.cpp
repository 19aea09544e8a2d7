// pfode: truncation errors and convergence orders of probability-flow ODE samplers against
// exact ground truth. `pfode --help` lists the commands.
#include <algorithm>
#include <boost/program_options.hpp>
#include <cstring>
#include <iostream>
#include <optional>

#include "app/commands.hpp"
#include "app/interrupts.hpp"
#include "common/message.hpp"
#include "compat/kokkos_compat.hpp"
#include "io/hdf5.hpp"
#include "io/provenance.hpp"

namespace po = boost::program_options;

namespace {

const char* kUsage =
    "usage: pfode run CONFIG.ini [--out FILE] [--set section.key=value ...] [--force | --resume] [--quiet]\n"
    "       pfode list\n"
    "       pfode bench [--quick] [options]   (pfode bench --help)\n"
    "       pfode --help | --version\n"
    "\n"
    "  run   run the sweep an experiment file describes; writes one HDF5 file and prints the\n"
    "        fitted convergence orders (experiments/ holds ready-made files)\n"
    "  list  every noise schedule, time-step spacing and solver, with theoretical orders\n"
    "  bench throughput of the solver, reference and model kernels (sample-evaluations/s, FLOP/s)\n";

int run(int argc, char** argv, const pfode::sweep::Ranks& ranks) {
  po::options_description opts("run options");
  pfode::app::RunOptions run;
  opts.add_options()("help,h", "show this help")("config", po::value(&run.config), "experiment file")(
      "out,o", po::value(&run.out), "output HDF5 file (overrides run.out)")(
      "set", po::value(&run.overrides)->composing(), "section.key=value override (repeatable)")(
      "force", po::bool_switch(&run.force), "replace an existing output file, discard an interrupted run")(
      "resume", po::bool_switch(&run.resume), "continue an interrupted run, computing only missing cells")(
      "quiet,q", po::bool_switch(&run.quiet), "no progress or table");
  po::positional_options_description pos;
  pos.add("config", 1);
  po::variables_map vm;
  po::store(po::command_line_parser(argc - 1, argv + 1).options(opts).positional(pos).run(), vm);
  po::notify(vm);
  if (vm.count("help")) {
    std::cout << kUsage << "\n" << opts;
    return pfode::app::exit_ok;
  }
  if (run.config.empty()) throw po::error("run needs a config file");
  if (vm.count("out") && run.out.empty()) throw po::error("--out needs a file name");
  if (run.force && run.resume) throw po::error("--force and --resume exclude each other");
  return pfode::app::run_command(run, argc, argv, ranks);
}

}  // namespace

int main(int argc, char** argv) {
  const std::string command = argc > 1 ? argv[1] : "";
  if (command.empty() || command == "--help" || command == "-h" || command == "help") {
    std::cout << kUsage;
    return command.empty() ? pfode::app::exit_usage : pfode::app::exit_ok;
  }
  if (command == "--version") {
    // What the build runs on, as the provenance of a results file records it.
    const auto p = pfode::io::collect_provenance(0, nullptr, "");
    std::cout << "pfode " << p.pfode_version << " (git " << p.git_commit << "), Kokkos " << p.kokkos_version
              << ", execution space " << p.execution_space << "\n";
    return pfode::app::exit_ok;
  }
  if (command == "list") {
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
