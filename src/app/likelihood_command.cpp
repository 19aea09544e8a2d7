// `pfode likelihood CONFIG`: log-likelihoods through the PF-ODE and their error budget
// (likelihood/likelihood.hpp) for every model, schedule and seed of a config: the reference, every
// (spacing, solver) pair at every budget, and the [likelihood] presets.
#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstdio>
#include <iostream>
#include <fstream>
#include <map>
#include <sstream>
#include <stdexcept>
#include <tuple>

#include <boost/program_options.hpp>

#include "app/commands.hpp"
#include "app/likelihood_command.hpp"
#include "common/message.hpp"
#include "io/hdf5.hpp"
#include "io/provenance.hpp"
#include "io/results_file.hpp"
#include "likelihood/likelihood.hpp"
#include "metrics/order_fit.hpp"
#include "model/start_states.hpp"
#include "schedule/registry.hpp"
#include "solver/registry.hpp"
#include "spacing/spacing.hpp"
#include "sweep/experiment.hpp"

namespace pfode::app {

namespace {

struct Cell {
  std::string model, schedule, method, spacing;  // method: "reference", a solver label or a preset name
  std::uint64_t seed = 0;
  int nfe_budget = 0;    // 0: the reference or an adaptive preset
  int order_theory = 0;  // fixed-grid cells: the solver's theoretical order at this budget
  likelihood::Interval interval;
  likelihood::Divergence divergence;
  likelihood::Flow flow;
  likelihood::Budget budget;
};

void write_summary(const io::Group& g, const std::string& part, const std::vector<double>& errors, int dim) {
  const auto s = likelihood::summarise(errors);
  g.write_attribute(part + "_rms", s.rms);
  g.write_attribute(part + "_mean", s.mean);
  g.write_attribute(part + "_max", s.max_abs);
  g.write_attribute(part + "_rms_bits_per_dim", likelihood::bits_per_dim(s.rms, dim));
}

void write_cell(const io::Group& cells, int id, const Cell& c, int dim) {
  const io::Group g = cells.create_group(std::to_string(id));
  g.write_attribute("model", c.model);
  g.write_attribute("schedule", c.schedule);
  g.write_attribute("method", c.method);
  g.write_attribute("spacing", c.spacing);
  g.write_attribute("seed", static_cast<long>(c.seed));
  g.write_attribute("nfe_budget", static_cast<long>(c.nfe_budget));
  g.write_attribute("t_min", c.interval.t_min);
  g.write_attribute("t_max", c.interval.t_max);
  const auto& sc = c.interval.schedule;
  const double alpha_T = sc.alpha(c.interval.t_max), sigma_T = sc.sigma(c.interval.t_max);
  g.write_attribute("prior_variance",
                    c.interval.prior_variance > 0 ? c.interval.prior_variance : alpha_T * alpha_T + sigma_T * sigma_T);
  g.write_attribute("probes", static_cast<long>(c.divergence.probes));
  g.write_attribute("probe", std::string(c.divergence.probes == 0 ? "none" : likelihood::probe_name(c.divergence.probe)));
  g.write_attribute("failed_samples", static_cast<long>(c.flow.failed));
  g.write_dataset("nfe", c.flow.nfe);
  const auto& b = c.budget;
  const std::vector<std::pair<std::string, const std::vector<double>*>> parts = {
      {"total", &b.total}, {"integration", &b.integration}, {"estimator", &b.estimator},
      {"truncation", &b.truncation}, {"prior", &b.prior}};
  for (const auto& [name, values] : parts) {
    g.write_dataset(name, *values, {values->size()});
    write_summary(g, name, *values, dim);
  }
  g.write_dataset("estimate", b.estimate, {b.estimate.size()});
  g.write_dataset("exact_log_p0", b.exact_log_p0, {b.exact_log_p0.size()});
  g.write_dataset("exact_log_p_tmin", b.exact_log_p_tmin, {b.exact_log_p_tmin.size()});
  double nfe = 0;
  for (long n : c.flow.nfe) nfe += static_cast<double>(n) / c.flow.nfe.size();
  g.write_attribute("nfe_mean", nfe);
}

double mean_nfe(const Cell& c) {
  double nfe = 0;
  for (long n : c.flow.nfe) nfe += static_cast<double>(n) / c.flow.nfe.size();
  return nfe;
}

// The integration error's order against NFE for one series of fixed-grid cells (model, schedule,
// spacing, solver, seed and theoretical order), fitted as a sweep's GTE (metrics/order_fit): points
// within 10x of the reference's own integration error are flagged and left out.
struct OrderRecord {
  std::string model, schedule, spacing, solver;
  std::uint64_t seed = 0;
  int order_theory = 0;
  std::vector<double> nfe, integration_rms;  // NFE ascending
  std::vector<bool> flagged;
  metrics::OrderFit fit;
};

std::vector<OrderRecord> order_records(const std::vector<Cell>& cells) {
  std::map<std::string, double> floor;  // model + schedule + seed -> the reference's integration error
  const auto group_key = [](const std::string& model, const std::string& schedule, std::uint64_t seed) {
    return model + "\n" + schedule + "\n" + std::to_string(seed);
  };
  for (const auto& c : cells)
    if (c.method == "reference") floor[group_key(c.model, c.schedule, c.seed)] = likelihood::summarise(c.budget.integration).rms;
  std::map<std::tuple<std::string, std::string, std::string, std::string, std::uint64_t, int>,
           std::vector<std::pair<double, double>>>
      points;  // (NFE, integration error) per series
  for (const auto& c : cells)
    if (c.nfe_budget > 0)
      points[{c.model, c.schedule, c.spacing, c.method, c.seed, c.order_theory}].emplace_back(
          mean_nfe(c), likelihood::summarise(c.budget.integration).rms);
  std::vector<OrderRecord> records;
  for (auto& [key, series] : points) {
    OrderRecord r;
    std::tie(r.model, r.schedule, r.spacing, r.solver, r.seed, r.order_theory) = key;
    std::sort(series.begin(), series.end());
    const double ref = floor.at(group_key(r.model, r.schedule, r.seed));
    for (const auto& [nfe, error] : series) {
      r.nfe.push_back(nfe);
      r.integration_rms.push_back(error);
      r.flagged.push_back(error < 10.0 * ref);
    }
    r.fit = metrics::fit_order(r.nfe, r.integration_rms, r.flagged);
    records.push_back(std::move(r));
  }
  return records;
}

void write_order_record(const io::Group& records, int id, const OrderRecord& r) {
  const io::Group g = records.create_group(std::to_string(id));
  g.write_attribute("model", r.model);
  g.write_attribute("schedule", r.schedule);
  g.write_attribute("spacing", r.spacing);
  g.write_attribute("solver", r.solver);
  g.write_attribute("seed", static_cast<long>(r.seed));
  g.write_attribute("order_theory", static_cast<long>(r.order_theory));
  const double nan = std::nan("");
  g.write_attribute("order", r.fit.valid ? r.fit.order : nan);
  g.write_attribute("order_stderr", r.fit.valid ? r.fit.standard_error : nan);
  g.write_attribute("fit_nfe_min", r.fit.valid ? r.nfe[r.fit.first] : nan);
  g.write_attribute("fit_nfe_max", r.fit.valid ? r.nfe[r.fit.last] : nan);
  g.write_dataset("nfe", r.nfe, {r.nfe.size()});
  g.write_dataset("integration_rms", r.integration_rms, {r.integration_rms.size()});
  g.write_dataset("flagged", std::vector<long>(r.flagged.begin(), r.flagged.end()));
}

void print_cell(const Cell& c, int dim) {
  const auto s = [&](const std::vector<double>& v) { return likelihood::summarise(v); };
  std::printf("%-10s %-10s %-34s %6.0f  %9.2e %9.2e %10.3e %10.3e  %9.2e (%8.2e bits/dim)\n", c.model.c_str(),
              c.schedule.c_str(), (c.method + (c.spacing.empty() ? "" : " " + c.spacing)).c_str(), mean_nfe(c),
              s(c.budget.integration).rms, s(c.budget.estimator).rms, s(c.budget.truncation).mean,
              s(c.budget.prior).mean, s(c.budget.total).rms, likelihood::bits_per_dim(s(c.budget.total).rms, dim));
}

// A fixed-grid cell's solver at its NFE budget and its grid from t_min up; throws, naming the
// cell, where the budget buys no step or the spacing cannot make the grid.
struct SolverGrid {
  solver::SolverSpec bound;
  std::vector<double> times;
};
SolverGrid solver_grid(const sweep::Experiment& e, const results::ScheduleEntry& entry, int sp, int so,
                       int budget) {
  try {
    SolverGrid g{solver::with_budget(e.solvers[so].spec, budget), {}};
    g.times = spacing::make_grid(e.spacings[sp].spacing, entry.schedule, solver::steps_for_budget(g.bound, budget));
    std::reverse(g.times.begin(), g.times.end());
    return g;
  } catch (const std::invalid_argument& bad) {
    throw std::invalid_argument(entry.name + "/" + e.spacings[sp].label + "/" + e.solvers[so].label +
                                "/nfe=" + std::to_string(budget) + ": " + bad.what());
  }
}

std::vector<std::string> words(const std::string& text) {
  std::istringstream in(text);
  std::vector<std::string> out;
  for (std::string w; in >> w;) out.push_back(w);
  return out;
}

}  // namespace

LikelihoodSettings read_likelihood_settings(const std::string& config, const std::vector<std::string>& overrides) {
  std::ifstream in(config);
  if (!in) throw std::invalid_argument("cannot read config file '" + config + "'");
  std::map<std::string, std::string> keys;  // [likelihood] keys, then the overrides
  namespace po = boost::program_options;
  for (const auto& opt : po::parse_config_file(in, po::options_description(), true).options)
    if (opt.string_key.rfind("likelihood.", 0) == 0) keys[opt.string_key.substr(11)] = opt.value.empty() ? "" : opt.value.front();
  for (const auto& item : overrides)
    if (item.rfind("likelihood.", 0) == 0 && item.find('=') != std::string::npos)
      keys[item.substr(11, item.find('=') - 11)] = item.substr(item.find('=') + 1);
  if (keys.empty()) throw std::invalid_argument("config " + config + " has no [likelihood] section");
  LikelihoodSettings s;
  const auto take = [&](const std::string& key, const std::string& fallback) {
    const auto it = keys.find(key);
    const std::string value = it == keys.end() ? fallback : it->second;
    if (it != keys.end()) keys.erase(it);
    s.resolved += key + " = " + value + "\n";
    return value;
  };
  const std::string divergence = take("divergence", "exact");
  if (divergence != "exact") {
    s.divergence.probe = likelihood::parse_probe(divergence);  // names exact in its message below
    const std::string probes = take("probes", "1");
    char* end = nullptr;
    const long n = std::strtol(probes.c_str(), &end, 10);
    if (probes.empty() || *end != '\0' || n < 1 || n > 10000)
      throw std::invalid_argument("likelihood.probes: '" + probes + "' is not a count in [1, 10000]");
    s.divergence.probes = static_cast<int>(n);
  }
  const std::string prior = take("prior", "total");
  if (prior != "total" && prior != "sigma")
    throw std::invalid_argument("likelihood.prior: unknown '" + prior + "' (total | sigma)");
  s.prior_sigma = prior == "sigma";
  s.presets = words(take("presets", ""));
  for (size_t i = 0; i < s.presets.size(); ++i) {
    likelihood::find_preset(s.presets[i]);
    if (std::find(s.presets.begin(), s.presets.begin() + i, s.presets[i]) != s.presets.begin() + i)
      throw std::invalid_argument("likelihood.presets: '" + s.presets[i] + "' is listed twice");
  }
  if (!keys.empty()) throw std::invalid_argument("config: unknown setting 'likelihood." + keys.begin()->first + "'");
  return s;
}

int likelihood_command(const LikelihoodOptions& options, int argc, char** argv) {
  sweep::Experiment e;
  LikelihoodSettings settings;
  try {
    auto overrides = options.overrides;
    if (!options.out.empty()) overrides.push_back("run.out=" + options.out);
    e = sweep::load_experiment(options.config, overrides);
    settings = read_likelihood_settings(options.config, options.overrides);
    if (e.start.mode == model::StartMode::prior)
      throw std::invalid_argument("run.start = prior: the likelihood's data are draws from the model (marginal) or a file");
    if (!e.blocks.empty()) throw std::invalid_argument("pfode likelihood: [plan.NAME] blocks are not supported");
    io::check_output_path(e.out, options.force);
    for (const auto& m : e.models) likelihood::require_closed_forms(model::to_device(m));
    for (const auto& s : e.solvers) likelihood::require_ode_solver(s.spec);
    // Every cell's grid, before any compute: a budget too small for one step stops the command
    // here, not after the cells before it have run.
    for (const auto& entry : e.schedules)
      for (const auto& [sp, so] : e.spacing_solver_pairs)
        for (int budget : e.nfe) solver_grid(e, entry, sp, so, budget);
  } catch (const std::exception& ex) {
    std::cerr << "pfode: error: " << printable_message(ex.what()) << "\n";
    return exit_usage;
  }
  auto provenance = io::collect_provenance(argc, argv, options.config);
  std::vector<Cell> cells;
  std::vector<int> dims;
  std::vector<OrderRecord> records;
  try {
    if (!options.quiet)
      std::printf("%-10s %-10s %-34s %6s  %9s %9s %10s %10s  %9s\n", "model", "schedule", "method", "NFE",
                  "integr.", "estim.", "trunc.", "prior", "total rms");
    for (const auto& spec : e.models) {
      const auto m = model::to_device(spec);
      for (std::uint64_t seed : e.seeds) {
        const auto x0 = model::start_states(spec, e.start, seed, e.samples, 1.0, 0.0, "");
        const auto add = [&](Cell c) {
          c.model = spec.name;
          c.seed = seed;
          c.budget = likelihood::error_budget(m, c.interval, x0, c.flow);
          if (!options.quiet) print_cell(c, spec.dim);
          cells.push_back(std::move(c));
          dims.push_back(spec.dim);
        };
        for (const auto& entry : e.schedules) {
          likelihood::Interval interval{entry.schedule, entry.schedule.t_min, entry.schedule.t_max, 0.0};
          if (settings.prior_sigma) interval.prior_variance = std::pow(entry.schedule.sigma(interval.t_max), 2);
          Cell ref;
          ref.schedule = entry.name;
          ref.method = "reference";
          ref.interval = interval;
          ref.divergence = settings.divergence;
          ref.divergence.seed = seed;
          reference::Dop853Settings tight;
          tight.rtol = tight.atol = e.reference_tolerance;
          ref.flow = likelihood::integrate_reference(m, interval, x0, ref.divergence, tight);
          add(ref);
          for (const auto& [sp, so] : e.spacing_solver_pairs) {
            for (int budget : e.nfe) {
              const auto [bound, times] = solver_grid(e, entry, sp, so, budget);
              Cell c;
              c.schedule = entry.name;
              c.method = e.solvers[so].label;
              c.spacing = e.spacings[sp].label;
              c.nfe_budget = budget;
              c.order_theory = solver::theoretical_order(bound);
              c.interval = interval;
              c.divergence = ref.divergence;
              c.flow = likelihood::integrate_solver(m, interval, times, bound, x0, c.divergence);
              add(c);
            }
          }
        }
        for (const auto& name : settings.presets) {
          const auto& preset = likelihood::find_preset(name);
          // The published t_min (score-SDE: 1e-5) lies below what a sweep's vp-linear accepts.
          auto sc = schedule::make_schedule(preset.schedule);
          sc.t_min = preset.t_min;
          Cell c;
          c.schedule = preset.schedule;
          c.method = preset.name;
          c.interval = {sc, sc.t_min, sc.t_max, preset.prior_sigma ? std::pow(sc.sigma(sc.t_max), 2) : 0.0};
          c.divergence = {preset.probes, preset.probe, seed};
          c.flow = likelihood::integrate_solver(m, c.interval, {sc.t_min, sc.t_max}, solver::parse_solver(preset.solver),
                                                x0, c.divergence);
          add(c);
        }
      }
    }
    records = order_records(cells);
    provenance.utc_end = io::utc_now();
    io::write_file_atomically(e.out, [&](const io::Group& root) {
      root.write_attribute("pfode_version", provenance.pfode_version);
      root.write_attribute("git_commit", provenance.git_commit);
      root.write_attribute("kokkos_version", provenance.kokkos_version);
      root.write_attribute("execution_space", provenance.execution_space);
      root.write_attribute("host", provenance.host);
      root.write_attribute("utc_start", provenance.utc_start);
      root.write_attribute("utc_end", provenance.utc_end);
      root.write_attribute("command_line", provenance.command_line);
      root.write_attribute("config_path", provenance.config_path);
      root.write_string_dataset("config", e.resolved_config + "\n[likelihood]\n" + settings.resolved);
      const io::Group group = root.create_group("likelihood");
      for (size_t i = 0; i < cells.size(); ++i) write_cell(group, static_cast<int>(i), cells[i], dims[i]);
      const io::Group orders = root.create_group("likelihood_orders");
      for (size_t i = 0; i < records.size(); ++i) write_order_record(orders, static_cast<int>(i), records[i]);
    });
  } catch (const std::exception& ex) {
    std::cerr << "pfode: error: " << printable_message(ex.what()) << "\n";
    return exit_failure;
  }
  if (!options.quiet) {
    for (const auto& r : records)
      if (r.fit.valid)
        std::printf("order of the integration error vs NFE, %s %s %s %s seed %llu: %.2f (theory %d)\n", r.model.c_str(),
                    r.schedule.c_str(), r.spacing.c_str(), r.solver.c_str(), static_cast<unsigned long long>(r.seed),
                    r.fit.order, r.order_theory);
    std::printf("wrote %s (%zu cells)\n", e.out.c_str(), cells.size());
  }
  return exit_ok;
}

}  // namespace pfode::app
