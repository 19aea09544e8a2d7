// `pfode bench`: throughput of the model kernel, the fixed-grid solvers and the DOP853 reference in
// sample-evaluations per second, FLOP and byte counts per model evaluation, the fraction of the
// core's peak FP64 rate, and how the cost grows with samples, NFE, dimension and components.
// bench/compare.py runs the Python baselines on the same problem (--problem, --out).
#include <boost/program_options.hpp>
#include <cmath>
#include <cstdio>
#include <iostream>
#include <sstream>

#include "app/commands.hpp"
#include "bench/bench.hpp"
#include "bench/machine.hpp"
#include "io/hdf5.hpp"
#include "io/results_file.hpp"
#include "lane/layout.hpp"
#include "model/network_file.hpp"
#include "solver/presets.hpp"
#include "solver/registry.hpp"

namespace po = boost::program_options;

namespace pfode::app {

namespace {

std::vector<std::string> split(const std::string& text) {
  std::vector<std::string> out;
  std::string item;
  std::istringstream in(text);
  while (std::getline(in, item, ','))
    if (!item.empty()) out.push_back(item);
  return out;
}

// Least-squares slope of log y against log x: the exponent of the growth.
double slope(const std::vector<double>& x, const std::vector<double>& y) {
  double mx = 0, my = 0, sxx = 0, sxy = 0;
  const double n = static_cast<double>(x.size());
  for (size_t i = 0; i < x.size(); ++i) mx += std::log(x[i]) / n, my += std::log(y[i]) / n;
  for (size_t i = 0; i < x.size(); ++i) {
    sxx += (std::log(x[i]) - mx) * (std::log(x[i]) - mx);
    sxy += (std::log(x[i]) - mx) * (std::log(y[i]) - my);
  }
  return sxy / sxx;
}

std::string tolerance_text(double tol) {
  char text[16];
  std::snprintf(text, sizeof text, "%.0e", tol);
  return text;
}

// Evaluations per sample so that a kernel run does about `work` (k, j) pairs.
int evals_for(int samples, int dim, int components, double work) {
  return std::max(4, static_cast<int>(work / (static_cast<double>(samples) * dim * components)));
}

void print_machine(const bench::Machine& m) {
  std::printf("machine      %s, %d logical CPUs, %.0f MHz; Kokkos %s with %d thread(s)\n", m.cpu_model.c_str(),
              m.logical_cpus, m.mhz, m.backend.c_str(), m.concurrency);
  std::printf("peak FP64    measured %.1f GFLOP/s/core (%s FMA loop)  <- fractions below use this\n", m.peak.gflops,
              m.peak.isa.c_str());
  std::printf("             measured %.1f GFLOP/s/core as this build's own code (%s, mul + add)\n", m.peak.build_gflops,
              m.peak.build_isa.c_str());
  std::printf("FLOPs        add/sub/mul/div = 1, fma = 2; exp and log counted separately; bytes = distinct\n"
              "             doubles one evaluation reads or writes (model 2 K dim + K, y and D(y) 2 dim) x 8\n\n");
}

// "2+16 -> 64 -> 64 -> 64 -> 2": inputs (y + features), then each layer's outputs.
std::string network_shape(const model::NetworkSpec& net) {
  std::string text = std::to_string(net.dim) + "+" + std::to_string(net.inputs[0] - net.dim);
  for (int out : net.outputs) text += " -> " + std::to_string(out);
  return text + ", SiLU";
}

struct Size {
  int dim, components;
};

void sizes_table(const bench::Machine& m, const std::vector<Size>& sizes, int samples, int ref_samples, int nfe,
                 double tol, double work, int repeats) {
  std::printf("Throughput over model size (%d samples in packs of %d; DOP853 on %d samples at tol %.0e; one core)\n",
              samples, lane::pack_width, ref_samples, tol);
  std::printf("%5s %4s %9s %6s %5s %5s %8s %9s %7s %7s %10s %10s %10s %7s\n", "dim", "K", "FLOP/eval", "div", "exp",
              "log", "bytes", "ns/eval", "GFLOP/s", "%peak", "rk4 eval/s", "ddim", "dop853", "NFE");
  for (const auto& sz : sizes) {
    const auto c = bench::denoise_cost(sz.dim, sz.components, lane::pack_width);
    const auto p = bench::random_problem(sz.dim, sz.components, samples);
    const int evals = evals_for(samples, sz.dim, sz.components, work);
    const double s = bench::time_model(p, evals, repeats);
    const double ns = s / (static_cast<double>(samples) * evals) * 1e9;
    const auto rk4 = bench::time_solver(p, "rk4", nfe, repeats);
    const auto ddim = bench::time_solver(p, "ddim", nfe, repeats);
    const auto ref = bench::time_dop853(bench::random_problem(sz.dim, sz.components, ref_samples), tol, 1);
    std::printf("%5d %4d %9.0f %6.1f %5.0f %5.2g %8.0f %9.1f %7.2f %6.1f%% %10.3g %10.3g %10.3g %7.0f\n", sz.dim,
                sz.components, c.flops, c.divisions, c.exps, c.logs, c.bytes, ns, c.flops / ns,
                100 * c.flops / ns / m.peak.gflops, rk4.evals_per_second(samples), ddim.evals_per_second(samples),
                ref.evals_per_second(ref_samples), ref.nfe);
  }
  std::printf("\n");
}

// The full-covariance kind beside the diagonal one on the same mixtures (random rotations): model
// evaluation alone, FLOP/s and fraction of peak, and rk4 throughput.
void full_covariance_table(const bench::Machine& m, const std::vector<Size>& sizes, int samples, int nfe, double work,
                           int repeats) {
  std::printf("Full-covariance evaluation beside the diagonal one (same mixtures with random rotations; %d samples "
              "in packs of %d; one core)\n",
              samples, lane::pack_width);
  std::printf("%5s %4s | %9s %9s %7s %6s %10s | %9s %9s %7s %6s %10s\n", "dim", "K", "full FLOP", "ns/eval",
              "GFLOP/s", "%peak", "rk4 eval/s", "diag FLOP", "ns/eval", "GFLOP/s", "%peak", "rk4 eval/s");
  for (const auto& sz : sizes) {
    std::printf("%5d %4d", sz.dim, sz.components);
    for (bool full : {true, false}) {
      const auto c = bench::denoise_cost(sz.dim, sz.components, lane::pack_width, full);
      const auto p = bench::random_problem(sz.dim, sz.components, samples, 1, full);
      const int evals = evals_for(samples, sz.dim, sz.components, full ? work / sz.dim : work);
      const double ns = bench::time_model(p, evals, repeats) / (static_cast<double>(samples) * evals) * 1e9;
      const auto rk4 = bench::time_solver(p, "rk4", nfe, repeats);
      std::printf(" | %9.0f %9.1f %7.2f %5.1f%% %10.3g", c.flops, ns, c.flops / ns, 100 * c.flops / ns / m.peak.gflops,
                  rk4.evals_per_second(samples));
    }
    std::printf("\n");
  }
  std::printf("\n");
}

// rk4 and the DOP853 reference (own steps) in both layouts (lane/layout.hpp): packs of samples
// per thread against teams with vector lanes over coordinates, on the same problems.
void layouts_table(const std::vector<Size>& sizes, int samples, int ref_samples, int nfe, double tol, int repeats) {
  std::printf("Kernel layouts (rk4: %d samples, NFE %d; DOP853 with own steps: %d samples, tol %.0e): packs of %d "
              "samples per thread vs teams of samples x vector lanes over coordinates, in sample-evaluations/s; auto = %s\n",
              samples, nfe, ref_samples, tol, lane::pack_width, lane::layout_name(lane::auto_layout()));
  std::printf("%5s %4s %12s %12s %12s %12s %12s %12s %10s\n", "dim", "K", "rk4 packs", "rk4 teams", "teams/packs",
              "dop853 packs", "dop853 teams", "teams/packs", "team shape");
  for (const auto& sz : sizes) {
    const auto p = bench::random_problem(sz.dim, sz.components, samples);
    lane::KernelLayout teams;
    teams.kind = lane::KernelLayout::teams;
    const auto shape = lane::default_team_shape(sz.dim);
    const auto a = bench::time_solver(p, "rk4", nfe, repeats);
    const auto b = bench::time_solver(p, "rk4", nfe, repeats, teams);
    const auto rp = bench::random_problem(sz.dim, sz.components, ref_samples);
    const auto ra = bench::time_dop853(rp, tol, 1);
    const auto rb = bench::time_dop853(rp, tol, 1, bench::Dop853Steps::own_in_teams);
    std::printf("%5d %4d %12.3g %12.3g %12.2f %12.3g %12.3g %12.2f %6d x %-3d\n", sz.dim, sz.components,
                a.evals_per_second(samples), b.evals_per_second(samples), a.seconds / b.seconds,
                ra.evals_per_second(ref_samples), rb.evals_per_second(ref_samples), ra.seconds / rb.seconds,
                shape.team_size, shape.vector_length);
  }
  std::printf("\n");
}

void scaling_table(int samples, int nfe, int dim, int components, int repeats, bool quick) {
  std::printf("Cost growth of rk4 (base: %d samples, NFE %d, dim %d, K %d; one axis varied at a time)\n", samples,
              nfe, dim, components);
  std::printf("%-8s %8s %10s %14s %12s\n", "axis", "value", "seconds", "ns/sample-eval", "ns/(eval k j)");
  struct Axis {
    const char* name;
    std::vector<int> values;
  };
  const std::vector<Axis> axes =
      quick ? std::vector<Axis>{{"samples", {8, 16}}, {"nfe", {8, 16}}, {"dim", {2, 4}}, {"K", {2, 4}}}
            : std::vector<Axis>{{"samples", {64, 128, 256, 512, 1024}},
                                {"nfe", {16, 32, 64, 128, 256}},
                                {"dim", {2, 4, 8, 16, 32, 64, 128, 256}},
                                {"K", {1, 2, 4, 8, 16, 32, 64}}};
  for (const auto& axis : axes) {
    std::vector<double> x, y;
    for (int v : axis.values) {
      const std::string a = axis.name;
      const int n = a == "samples" ? v : samples, e = a == "nfe" ? v : nfe, d = a == "dim" ? v : dim,
                k = a == "K" ? v : components;
      const auto t = bench::time_solver(bench::random_problem(d, k, n), "rk4", e, repeats);
      const double per_eval = t.seconds / (n * t.nfe) * 1e9;
      std::printf("%-8s %8d %10.4f %14.1f %12.3f\n", axis.name, v, t.seconds, per_eval,
                  per_eval / (static_cast<double>(d) * k));
      x.push_back(v);
      y.push_back(t.seconds);
    }
    const size_t skip = x.size() > 4 ? 2 : 0;  // the exponent over the larger sizes, past fixed overheads
    std::printf("%-8s time ~ %s^%.2f (fit over %s >= %d)\n\n", axis.name, axis.name,
                slope(std::vector<double>(x.begin() + skip, x.end()), std::vector<double>(y.begin() + skip, y.end())),
                axis.name, static_cast<int>(x[skip]));
  }
}

}  // namespace

int bench_command(int argc, char** argv) {
  po::options_description opts("bench options");
  bool quick = false, no_sizes = false, no_layouts = false, no_scaling = false, force = false;
  std::string problem_file, network_file, out_file, solvers_text = "rk4,heun,ddim", schedule_name = "edm";
  int samples = 256, nfe = 64, repeats = 3, dim = 16, components = 8, ref_samples = 64;
  double tol = 1e-10, tight_tol = 1e-13;
  opts.add_options()("help,h", "show this help")("quick", po::bool_switch(&quick),
                                                  "tiny sizes, one repeat (a smoke test, seconds)")(
      "problem", po::value(&problem_file), "HDF5 file: weights, means, stds, x_T (else a random mixture)")(
      "network", po::value(&network_file),
      "a trained network file (kind = network): time it instead of a mixture, start states from its exact mixture")(
      "schedule", po::value(&schedule_name)->default_value(schedule_name),
      "noise schedule of --problem (x_T is x at its t_max)")(
      "dim", po::value(&dim)->default_value(dim), "dimension of the random mixture")(
      "components", po::value(&components)->default_value(components), "components of the random mixture")(
      "samples", po::value(&samples)->default_value(samples), "samples (batch size)")(
      "nfe", po::value(&nfe)->default_value(nfe), "NFE budget of the fixed-grid solvers")(
      "solvers", po::value(&solvers_text)->default_value(solvers_text),
      "comma-separated solver labels (Karras grid) or presets (their own grid)")(
      "tolerance", po::value(&tol)->default_value(tol), "DOP853 rtol = atol being timed")(
      "tight-tolerance", po::value(&tight_tol)->default_value(tight_tol), "tolerance of the accuracy reference")(
      "ref-samples", po::value(&ref_samples)->default_value(ref_samples), "samples of the per-size DOP853 runs")(
      "repeats", po::value(&repeats)->default_value(repeats), "timings keep the best of this many runs")(
      "no-sizes", po::bool_switch(&no_sizes), "skip the table over model sizes")(
      "no-layouts", po::bool_switch(&no_layouts), "skip the packs-vs-teams kernel layout table")(
      "no-scaling", po::bool_switch(&no_scaling), "skip the cost-growth tables")(
      "out", po::value(&out_file), "write final states and timings to this HDF5 file (for bench/compare.py)")(
      "force", po::bool_switch(&force), "replace an existing --out file");
  po::variables_map vm;
  po::store(po::command_line_parser(argc - 1, argv + 1).options(opts).run(), vm);
  po::notify(vm);
  if (vm.count("help")) {
    std::cout << "usage: pfode bench [options]\n\n" << opts;
    return exit_ok;
  }
  if (quick) {
    if (!vm.count("samples") || vm["samples"].defaulted()) samples = 16;
    if (vm["nfe"].defaulted()) nfe = 16;
    if (vm["ref-samples"].defaulted()) ref_samples = 4;
    if (vm["repeats"].defaulted()) repeats = 1;
    if (vm["dim"].defaulted()) dim = 4;
    if (vm["components"].defaulted()) components = 3;
  }
  if (samples < 1 || nfe < 1 || repeats < 1 || dim < 1 || components < 1 || ref_samples < 1)
    throw po::error("bench: sizes and repeats must be positive");
  // DOP853 below 1e-14 works at round-off; the accuracy reference must be tighter than the timed one.
  if (!(tol >= 1e-14 && tol <= 1e-2)) throw po::error("bench: --tolerance must be in [1e-14, 1e-2]");
  if (!(tight_tol >= 1e-14 && tight_tol <= tol)) throw po::error("bench: --tight-tolerance must be in [1e-14, --tolerance]");
  // Every input is checked before the timings, not after: output path, solver labels, problem file.
  if (!out_file.empty()) io::check_output_path(out_file, force);
  const auto labels = split(solvers_text);
  for (const auto& label : labels)
    if (label.find(':') != std::string::npos) solver::find_preset(label);
    else solver::parse_solver(label);
  if (problem_file.empty() && !vm["schedule"].defaulted()) throw po::error("bench: --schedule needs --problem");
  if (!problem_file.empty() && !network_file.empty()) throw po::error("bench: --problem and --network exclude each other");
  const auto p = !network_file.empty() ? bench::network_problem(network_file, samples)
                 : problem_file.empty() ? bench::random_problem(dim, components, samples)
                                        : bench::load_problem(problem_file, samples, schedule_name);

  const auto machine = bench::describe_machine(quick ? 0.02 : 0.3);
  print_machine(machine);

  // The headline problem: timings of every solver and the reference, with their accuracy against
  // a tight DOP853 solution (whose own error is estimated by a 10x looser solve).
  const int d = p.model.dim;
  if (p.model.network)
    std::printf("Problem: %d-D network %s (%s), %d samples, %s schedule s = %g -> %g\n", d, network_file.c_str(),
                network_shape(*p.model.network).c_str(), p.samples, schedule_name.c_str(),
                p.schedule.s(p.schedule.t_max), p.schedule.s(p.schedule.t_min));
  else
    std::printf("Problem: %d-D, %d-component %s (%s), %d samples, %s schedule s = %g -> %g\n", d,
                p.model.components, p.model.kind().c_str(), problem_file.empty() ? "random" : problem_file.c_str(),
                p.samples, schedule_name.c_str(), p.schedule.s(p.schedule.t_max), p.schedule.s(p.schedule.t_min));
  const auto tight = bench::time_dop853(p, tight_tol, 1);
  const auto check = bench::time_dop853(p, 10 * tight_tol, 1);
  const double tight_error = bench::rms_error(tight.final_state, check.final_state, d);
  std::printf("accuracy reference: DOP853 tol %.0e, NFE %.0f/sample, error estimate (vs tol %.0e) %.2e\n\n",
              tight_tol, tight.nfe, 10 * tight_tol, tight_error);
  std::printf("%-22s %6s %8s %10s %14s %12s\n", "kernel", "steps", "NFE", "seconds", "sample-eval/s", "error");
  std::vector<bench::Timing> runs;
  for (const auto& label : labels) runs.push_back(bench::time_solver(p, label, nfe, repeats));
  for (const auto steps : {bench::Dop853Steps::own, bench::Dop853Steps::shared_per_pack})
    runs.push_back(bench::time_dop853(p, tol, repeats, steps));
  const auto sweep_ref = bench::time_solve_reference(p, tol, 65, repeats);
  for (const auto& r : runs)  // the DOP853 runs (steps 0) at the timed tolerance
    std::printf("%-22s %6d %8.1f %10.4f %14.4g %12.3e\n",
                (r.steps > 0 ? r.name : r.name + " tol " + tolerance_text(tol)).c_str(), r.steps, r.nfe, r.seconds,
                r.evals_per_second(p.samples), bench::rms_error(r.final_state, tight.final_state, d));
  std::printf("%-22s %6s %8.1f %10.4f %14s %12.3e  (65 outputs + error-estimate solve)\n\n",
              "solve_reference", "-", sweep_ref.nfe, sweep_ref.seconds, "-",
              bench::rms_error(sweep_ref.final_state, tight.final_state, d));

  // The network's evaluation alone: the batch in packs, s sweeping the EDM range.
  double model_seconds = 0;
  int model_evals = 0;
  if (p.model.network) {
    const auto cost = model::network_cost(*p.model.network, lane::pack_width);
    model_evals = std::max(4, static_cast<int>((quick ? 1e6 : 2e9) / (cost.flops * p.samples)));
    model_seconds = bench::time_model(p, model_evals, repeats);
    const double ns = model_seconds / (static_cast<double>(p.samples) * model_evals) * 1e9;
    std::printf("network evaluation (%d samples in packs of %d, %d evaluations each, one core):\n", p.samples,
                lane::pack_width, model_evals);
    std::printf("%12s %8s %10s %10s %8s %14s\n", "FLOP/eval", "exp", "ns/eval", "GFLOP/s", "%peak", "sample-eval/s");
    std::printf("%12.0f %8.0f %10.1f %10.2f %7.1f%% %14.4g\n\n", cost.flops, cost.exps, ns, cost.flops / ns,
                100 * cost.flops / ns / machine.peak.gflops, 1e9 / ns);
  }

  if (!out_file.empty()) {
    io::write_file_atomically(out_file, [&](const io::Group& root) {
      if (p.model.network) {
        const auto g = root.create_group("model");
        g.write_attribute("seconds", model_seconds);
        g.write_attribute("evals", static_cast<long>(model_evals));
        g.write_attribute("flops_per_eval", model::network_cost(*p.model.network, lane::pack_width).flops);
        g.write_dataset("y_start", p.y_start, {static_cast<hsize_t>(p.samples), static_cast<hsize_t>(d)});
        // D(y_start, s) through the timed kernel at s spanning the timed range, for a baseline to
        // check that it computes the same function before comparing times.
        const std::vector<double> check_s = {80.0, 10.0, 1.0, 0.1, 0.002};
        std::vector<double> denoised;
        for (const double s : check_s) {
          const auto d_s = bench::denoise_at(p, s);
          denoised.insert(denoised.end(), d_s.begin(), d_s.end());
        }
        g.write_dataset("check_s", check_s, {check_s.size()});
        g.write_dataset("denoised", denoised,
                        {check_s.size(), static_cast<hsize_t>(p.samples), static_cast<hsize_t>(d)});
      }
      root.write_dataset("tight", tight.final_state, {static_cast<hsize_t>(p.samples), static_cast<hsize_t>(d)});
      root.write_attribute("tight_error", tight_error);
      root.write_attribute("tight_tolerance", tight_tol);
      root.write_attribute("tolerance", tol);
      root.write_attribute("cpu", machine.cpu_model);
      root.write_attribute("peak_gflops", machine.peak.gflops);
      for (size_t i = 0; i < runs.size(); ++i) {
        const auto g = root.create_group(runs[i].name);  // rk4, ..., dop853, dop853_pack
        g.write_dataset("final", runs[i].final_state, {static_cast<hsize_t>(p.samples), static_cast<hsize_t>(d)});
        if (!runs[i].times.empty()) g.write_dataset("t", runs[i].times, {runs[i].times.size()});
        g.write_attribute("seconds", runs[i].seconds);
        g.write_attribute("nfe", runs[i].nfe);
        g.write_attribute("steps", static_cast<long>(runs[i].steps));
      }
    });
  }

  if (p.model.network) return exit_ok;  // the tables below are over mixtures

  // The reference as a sweep solves it (solve_reference, tolerance of the accuracy reference) through
  // more and more requested times: dense output keeps its evaluations per sample the same.
  std::printf("Reference cost over requested times (solve_reference at tol %.0e on a Karras grid of N times, "
              "error-estimate solve included)\n%8s %12s %10s %14s\n", tight_tol, "times", "NFE/sample", "seconds",
              "NFE vs first");
  double first_nfe = 0;
  for (int points : quick ? std::vector<int>{3, 10} : std::vector<int>{10, 100, 1000}) {
    const auto r = bench::time_solve_reference(p, tight_tol, points, repeats);
    if (first_nfe == 0) first_nfe = r.nfe;
    std::printf("%8d %12.1f %10.4f %13.3fx\n", points, r.nfe, r.seconds, r.nfe / first_nfe);
  }
  std::printf("\n");

  const double work = quick ? 2e4 : 3e7;  // (k, j) pairs per model-kernel timing
  if (!no_sizes) {
    const std::vector<Size> sizes =
        quick ? std::vector<Size>{{2, 1}, {4, 3}}
              : std::vector<Size>{{2, 1}, {2, 8}, {16, 1}, {16, 8}, {16, 64}, {64, 8}, {256, 8}, {256, 64}};
    sizes_table(machine, sizes, samples, ref_samples, nfe, tol, work, repeats);
    full_covariance_table(machine,
                          quick ? std::vector<Size>{{4, 3}}
                                : std::vector<Size>{{2, 8}, {16, 1}, {16, 8}, {64, 8}, {256, 8}},
                          samples, nfe, work, repeats);
  }
  if (!no_layouts)
    layouts_table(quick ? std::vector<Size>{{4, 3}} : std::vector<Size>{{16, 8}, {64, 8}, {256, 8}, {1024, 8}},
                  samples, ref_samples, nfe, tol, repeats);
  if (!no_scaling) scaling_table(samples, nfe, dim, components, repeats, quick);
  return exit_ok;
}

}  // namespace pfode::app
