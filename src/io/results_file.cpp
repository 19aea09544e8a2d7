#include "io/results_file.hpp"

#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <map>
#include <stdexcept>

#include "model/network_file.hpp"
#include "schedule/registry.hpp"

namespace pfode::io {

namespace {

std::vector<hsize_t> shape1(size_t n) { return {static_cast<hsize_t>(n)}; }
std::string cell_name(int id) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "%06d", id);
  return buf;
}

void write_summary(const Group& g, const std::string& prefix, const metrics::SampleSummary& s) {
  g.write_attribute(prefix + "_rms", s.rms);
  g.write_attribute(prefix + "_max", s.max);
  g.write_attribute(prefix + "_median", s.median);
  g.write_attribute(prefix + "_p90", s.p90);
}
metrics::SampleSummary read_summary(const Group& g, const std::string& prefix) {
  metrics::SampleSummary s;
  s.rms = g.read_double_attribute(prefix + "_rms");
  s.max = g.read_double_attribute(prefix + "_max");
  s.median = g.read_double_attribute(prefix + "_median");
  s.p90 = g.read_double_attribute(prefix + "_p90");
  s.finite = std::isfinite(s.rms);
  return s;
}

void write_weak(const Group& g, const std::string& prefix, const metrics::WeakEstimate& w) {
  g.write_attribute(prefix, w.value);
  g.write_attribute(prefix + "_low", w.low);
  g.write_attribute(prefix + "_high", w.high);
  g.write_attribute(prefix + "_noise", w.noise);
  g.write_attribute(prefix + "_significant", static_cast<long>(w.significant));
}
metrics::WeakEstimate read_weak(const Group& g, const std::string& prefix) {
  metrics::WeakEstimate w;
  w.value = g.read_double_attribute(prefix);
  w.low = g.read_double_attribute(prefix + "_low");
  w.high = g.read_double_attribute(prefix + "_high");
  w.noise = g.read_double_attribute(prefix + "_noise");
  w.significant = g.read_long_attribute(prefix + "_significant") != 0;
  return w;
}

void write_fit(const Group& g, const std::string& prefix, const metrics::OrderFit& f, const std::vector<double>& nfe) {
  g.write_attribute(prefix + "_order", f.valid ? f.order : NAN);
  g.write_attribute(prefix + "_order_stderr", f.valid ? f.standard_error : NAN);
  g.write_attribute(prefix + "_fit_nfe_min", f.valid ? nfe[f.first] : NAN);
  g.write_attribute(prefix + "_fit_nfe_max", f.valid ? nfe[f.last] : NAN);
  g.write_dataset(prefix + "_local_order", f.local_order, shape1(f.local_order.size()));
}

}  // namespace

// The kind of model the parameters describe: the Python module (analysis/pfode_exact.py)
// dispatches on it.
void write_model(const Group& parent, const model::ModelSpec& m, int samples, const std::vector<long>& seeds) {
  const Group g = parent.create_group(m.name);
  g.write_attribute("kind", m.kind());
  g.write_attribute("source", m.source);
  g.write_attribute("dim", static_cast<long>(m.dim));
  g.write_attribute("components", static_cast<long>(m.components));
  g.write_dataset("weights", m.weights, shape1(m.weights.size()));
  g.write_dataset("means", m.means, {static_cast<hsize_t>(m.components), static_cast<hsize_t>(m.dim)});
  g.write_dataset("stds", m.stds, {static_cast<hsize_t>(m.components), static_cast<hsize_t>(m.dim)});
  if (m.network) {  // the mixture above: its exact model
    model::write_network(g.create_group("network"), *m.network);
    return;
  }
  if (m.full_covariance())
    g.write_dataset("rotations", m.rotations,
                    {static_cast<hsize_t>(m.components), static_cast<hsize_t>(m.dim), static_cast<hsize_t>(m.dim)});
  if (m.is_guided()) {
    // A guided model (model/guided.hpp): (1 + w) D(y | c) - w D(y) for s in [guidance_s_lo,
    // guidance_s_hi], D(y | c) elsewhere; component k in class component_classes[k]; sample p of
    // run seed sample_class_seeds[i] in class sample_classes[i * samples + p] (given, or drawn
    // with that seed and class_seed).
    const auto& gd = m.guidance;
    const auto as_long = [](const std::vector<int>& v) { return std::vector<long>(v.begin(), v.end()); };
    g.write_attribute("conditional", gd.conditional);
    g.write_attribute("guidance_weight", gd.weight);
    g.write_attribute("guidance_s_lo", gd.s_lo);
    g.write_attribute("guidance_s_hi", gd.s_hi);
    g.write_attribute("classes", static_cast<long>(gd.classes));
    g.write_attribute("class_seed", static_cast<long>(gd.class_seed));
    g.write_attribute("sample_classes_given", static_cast<long>(!gd.given.empty()));
    g.write_dataset("component_classes", as_long(gd.component_class));
    g.write_dataset("class_weights", gd.class_weights, shape1(gd.class_weights.size()));
    std::vector<long> classes;
    for (long seed : seeds) {
      const auto seeded = model::for_run_seed(m, static_cast<std::uint64_t>(seed));
      for (int p = 0; p < samples; ++p) classes.push_back(model::sample_class(seeded, p));
    }
    if (!classes.empty()) {
      g.write_dataset("sample_class_seeds", seeds);
      g.write_dataset("sample_classes", classes);
    }
    return;
  }
  if (m.is_exact()) return;
  // A perturbed model (model/perturbed.hpp): D + eps(s) e(u), u = y / sqrt(1 + s^2), e(u) =
  // error_bias + sum_f error_amplitudes[f] cos(error_frequencies[f] . u + error_phases[f]).
  const auto& e = m.error;
  g.write_attribute("exact", e.exact);
  g.write_attribute("error_field", e.field);
  g.write_attribute("error_profile", e.profile);
  g.write_attribute("error_size", e.size);
  g.write_attribute("error_exponent", e.exponent);
  g.write_attribute("error_scale", e.scale);
  g.write_dataset("error_bias", e.bias, shape1(e.bias.size()));
  if (!e.phases.empty()) {
    g.write_dataset("error_phases", e.phases, shape1(e.phases.size()));
    g.write_dataset("error_frequencies", e.frequencies, {e.phases.size(), static_cast<hsize_t>(m.dim)});
    g.write_dataset("error_amplitudes", e.amplitudes, {e.phases.size(), static_cast<hsize_t>(m.dim)});
  }
}

model::ModelSpec read_model(const Group& parent, const std::string& name) {
  std::vector<double> weights, means, stds, rotations;
  std::vector<hsize_t> shape, stds_shape, rotations_shape;
  std::string source, kind;
  std::shared_ptr<const model::NetworkSpec> network;
  model::ModelSpec::Error error;
  try {
    const Group g = parent.open_group(name);
    kind = g.read_string_attribute("kind");
    source = g.read_string_attribute("source");
    weights = g.read_dataset("weights");
    means = g.read_dataset("means", &shape);
    stds = g.read_dataset("stds", &stds_shape);
    if (kind == "network")
      network = std::make_shared<const model::NetworkSpec>(
          model::read_network(g.open_group("network"), "model " + name + ": network"));
    if (kind.rfind("perturbed-", 0) == 0) {
      kind = kind.substr(10);
      error.exact = g.read_string_attribute("exact");
      error.field = g.read_string_attribute("error_field");
      error.profile = g.read_string_attribute("error_profile");
      error.size = g.read_double_attribute("error_size");
      error.exponent = g.read_double_attribute("error_exponent");
      error.scale = g.read_double_attribute("error_scale");
      error.bias = g.read_dataset("error_bias");
      if (g.has("error_phases")) {
        error.phases = g.read_dataset("error_phases");
        error.frequencies = g.read_dataset("error_frequencies");
        error.amplitudes = g.read_dataset("error_amplitudes");
      }
    }
    if (kind == "full-covariance-mixture") rotations = g.read_dataset("rotations", &rotations_shape);
  } catch (const std::runtime_error& e) {
    throw std::invalid_argument("model " + name + ": " + e.what());
  }
  if (kind != "diagonal-mixture" && kind != "full-covariance-mixture" && kind != "network")
    throw std::invalid_argument("model " + name + ": unknown kind '" + kind + "'");
  if (shape.size() != 2 || stds_shape != shape || shape[0] != weights.size())
    throw std::invalid_argument("model " + name + ": needs weights (K), means and stds (K x dim)");
  auto spec = model::make_model(name, static_cast<int>(shape[1]), weights, means, stds, source);
  spec.weights = weights;  // as recorded (normalised when written): normalising again may move the last bit
  if (network) {  // the mixture above is the exact one it was trained on
    if (network->dim != spec.dim) throw std::invalid_argument("model " + name + ": the network's dim differs from its mixture's");
    spec.network = network;
    return spec;
  }
  if (kind == "full-covariance-mixture") {
    if (rotations_shape != std::vector<hsize_t>{shape[0], shape[1], shape[1]})
      throw std::invalid_argument("model " + name + ": rotations must be K x dim x dim");
    model::set_rotations(spec, rotations);
  }
  if (error.field == "none") return spec;
  spec.name = error.exact;
  return model::with_error(name, spec, error);
}

void write_schedule(const Group& parent, const results::ScheduleEntry& entry) {
  const Group g = parent.create_group(entry.name);
  const auto& info = schedule::find_schedule(entry.name);
  g.write_attribute("kind", info.name);
  g.write_attribute("description", info.description);
  g.write_attribute("t_min", entry.schedule.t_min);
  g.write_attribute("t_max", entry.schedule.t_max);
  const double params[2] = {entry.schedule.p0, entry.schedule.p1};
  for (size_t k = 0; k < info.parameter_names.size(); ++k) g.write_attribute(info.parameter_names[k], params[k]);
}

results::ScheduleEntry read_schedule(const Group& parent, const std::string& name) {
  std::map<std::string, double> values;
  std::string kind;
  try {
    const Group g = parent.open_group(name);
    kind = g.read_string_attribute("kind");
    const auto& info = schedule::find_schedule(kind);
    for (const std::string& key : {std::string("t_min"), std::string("t_max")}) values[key] = g.read_double_attribute(key);
    for (const auto& key : info.parameter_names) values[key] = g.read_double_attribute(key);
  } catch (const std::runtime_error& e) {
    throw std::invalid_argument("schedule " + name + ": " + e.what());
  }
  return {name, schedule::make_schedule(kind, values)};
}

void write_cell(const Group& parent, const results::CellResult& c) {
  const Group g = parent.create_group(cell_name(c.id));
  g.write_attribute("id", static_cast<long>(c.id));
  g.write_attribute("model", c.model);
  g.write_attribute("schedule", c.schedule);
  g.write_attribute("spacing", c.spacing);
  g.write_attribute("solver", c.solver);
  g.write_attribute("options", c.options);
  g.write_attribute("nfe_budget", c.nfe_budget);
  g.write_attribute("steps", c.steps);
  g.write_attribute("seed", c.seed);
  g.write_attribute("samples", c.samples);
  g.write_attribute("order_theory", c.order_theory);
  g.write_attribute("lte_order_theory", c.lte_order_theory);
  g.write_attribute("nfe", c.nfe);
  g.write_attribute("nfe_uniform", static_cast<long>(c.nfe_uniform));
  g.write_attribute("nfe_mean", c.nfe_mean);
  g.write_attribute("steps_accepted_mean", c.steps_accepted_mean);
  g.write_attribute("steps_rejected_mean", c.steps_rejected_mean);
  g.write_attribute("status", c.status);
  g.write_attribute("reference_error", c.reference_error);
  g.write_attribute("near_floor", static_cast<long>(c.near_floor));
  g.write_attribute("layout", c.layout);
  g.write_attribute("wall_time", c.wall_time);
  g.write_attribute("lte_wall_time", c.lte_wall_time);
  write_summary(g, "gte", c.gte_summary);
  write_summary(g, "gte_relative", c.gte_relative_summary);
  g.write_attribute("worst_samples", std::vector<long>(c.gte_summary.worst.begin(), c.gte_summary.worst.end()));
  g.write_attribute("lte_step_median", c.lte_step_median);
  g.write_dataset("t", c.t, shape1(c.t.size()));
  g.write_dataset("lambda", c.lambda, shape1(c.lambda.size()));
  g.write_dataset("gte", c.gte, shape1(c.gte.size()));
  g.write_dataset("gte_relative", c.gte_relative, shape1(c.gte_relative.size()));
  g.write_dataset("error_rms", c.error_rms, shape1(c.error_rms.size()));
  g.write_dataset("error_max", c.error_max, shape1(c.error_max.size()));
  g.write_dataset("error_median", c.error_median, shape1(c.error_median.size()));
  g.write_dataset("lte_rms", c.lte_rms, shape1(c.lte_rms.size()));
  g.write_dataset("lte_max", c.lte_max, shape1(c.lte_max.size()));
  g.write_dataset("lte_median", c.lte_median, shape1(c.lte_median.size()));
  g.write_attribute("gte_target", c.gte_target);
  g.write_attribute("strong_order_theory", c.strong_order_theory);
  g.write_attribute("weak_order_theory", c.weak_order_theory);
  g.write_attribute("refinement", c.refinement);
  g.write_attribute("brownian_depth", c.brownian_depth);
  g.write_attribute("reference_wall_time", c.reference_wall_time);
  g.write_attribute("weak_samples", c.weak_samples);
  g.write_attribute("mmd_samples", c.mmd_samples);
  g.write_attribute("mmd_block", c.mmd_block);
  g.write_attribute("weak_target_s", c.weak_target_s);
  g.write_attribute("weak_target_alpha", c.weak_target_alpha);
  g.write_attribute("mmd_bandwidth", c.mmd_bandwidth);
  g.write_attribute("weak_wall_time", c.weak_wall_time);
  write_weak(g, "weak_mean", c.weak_mean);
  write_weak(g, "weak_covariance", c.weak_covariance);
  write_weak(g, "weak_mmd", c.weak_mmd);
  g.write_dataset("step_order", std::vector<long>(c.step_order.begin(), c.step_order.end()));
  g.write_dataset("step_corrected", std::vector<long>(c.step_corrected.begin(), c.step_corrected.end()));
  g.write_dataset("eval_s", c.eval_s, shape1(c.eval_s.size()));
  g.write_dataset("eval_t", c.eval_t, shape1(c.eval_t.size()));
  if (c.split()) {  // an imperfect model's error split
    write_summary(g, "total", c.total_summary);
    g.write_dataset("total_error", c.total_error, shape1(c.total_error.size()));
    g.write_dataset("model_error_rms", c.model_error_rms, shape1(c.model_error_rms.size()));
    g.write_dataset("denoiser_error_rms", c.denoiser_error_rms, shape1(c.denoiser_error_rms.size()));
  }
  if (!c.saved_samples.empty()) {
    const hsize_t saved = c.saved_samples.size(), dim = static_cast<hsize_t>(c.state_dim);
    g.write_dataset("saved_samples", std::vector<long>(c.saved_samples.begin(), c.saved_samples.end()));
    g.write_dataset("final_state", c.final_state, {saved, dim});
    g.write_dataset("exact_final_state", c.exact_final_state, {saved, dim});
    if (!c.states.empty()) {
      const hsize_t points = c.t.size();
      g.write_dataset("states", c.states, {saved, points, dim});
      g.write_dataset("exact_states", c.exact_states, {saved, points, dim});
    }
  }
}

results::CellResult read_cell(const Group& g) {
  results::CellResult c;
  c.id = static_cast<int>(g.read_long_attribute("id"));
  c.model = g.read_string_attribute("model");
  c.schedule = g.read_string_attribute("schedule");
  c.spacing = g.read_string_attribute("spacing");
  c.solver = g.read_string_attribute("solver");
  c.options = g.read_string_attribute("options");
  c.layout = g.read_string_attribute("layout");
  c.nfe_budget = g.read_long_attribute("nfe_budget");
  c.steps = g.read_long_attribute("steps");
  c.seed = g.read_long_attribute("seed");
  c.samples = g.read_long_attribute("samples");
  c.order_theory = g.read_long_attribute("order_theory");
  c.lte_order_theory = g.read_long_attribute("lte_order_theory");
  c.nfe = g.read_long_attribute("nfe");
  c.nfe_uniform = g.read_long_attribute("nfe_uniform") != 0;
  c.nfe_mean = g.read_double_attribute("nfe_mean");
  c.steps_accepted_mean = g.read_double_attribute("steps_accepted_mean");
  c.steps_rejected_mean = g.read_double_attribute("steps_rejected_mean");
  c.status = g.read_string_attribute("status");
  c.reference_error = g.read_double_attribute("reference_error");
  c.near_floor = g.read_long_attribute("near_floor") != 0;
  c.wall_time = g.read_double_attribute("wall_time");
  c.lte_wall_time = g.read_double_attribute("lte_wall_time");
  c.gte_summary = read_summary(g, "gte");
  c.gte_relative_summary = read_summary(g, "gte_relative");
  for (long w : g.read_long_vector_attribute("worst_samples")) c.gte_summary.worst.push_back(static_cast<int>(w));
  c.lte_step_median = g.read_double_attribute("lte_step_median");
  c.t = g.read_dataset("t");
  c.lambda = g.read_dataset("lambda");
  c.gte = g.read_dataset("gte");
  c.gte_relative = g.read_dataset("gte_relative");
  c.error_rms = g.read_dataset("error_rms");
  c.error_max = g.read_dataset("error_max");
  c.error_median = g.read_dataset("error_median");
  c.lte_rms = g.read_dataset("lte_rms");
  c.lte_max = g.read_dataset("lte_max");
  c.lte_median = g.read_dataset("lte_median");
  c.gte_target = g.read_string_attribute("gte_target");
  c.strong_order_theory = g.read_long_attribute("strong_order_theory");
  c.weak_order_theory = g.read_long_attribute("weak_order_theory");
  c.refinement = g.read_long_attribute("refinement");
  c.brownian_depth = g.read_long_attribute("brownian_depth");
  c.reference_wall_time = g.read_double_attribute("reference_wall_time");
  c.weak_samples = g.read_long_attribute("weak_samples");
  c.mmd_samples = g.read_long_attribute("mmd_samples");
  c.mmd_block = g.read_long_attribute("mmd_block");
  c.weak_target_s = g.read_double_attribute("weak_target_s");
  c.weak_target_alpha = g.read_double_attribute("weak_target_alpha");
  c.mmd_bandwidth = g.read_double_attribute("mmd_bandwidth");
  c.weak_wall_time = g.read_double_attribute("weak_wall_time");
  c.weak_mean = read_weak(g, "weak_mean");
  c.weak_covariance = read_weak(g, "weak_covariance");
  c.weak_mmd = read_weak(g, "weak_mmd");
  for (long v : g.read_long_dataset("step_order")) c.step_order.push_back(static_cast<int>(v));
  for (long v : g.read_long_dataset("step_corrected")) c.step_corrected.push_back(static_cast<int>(v));
  c.eval_s = g.read_dataset("eval_s");
  c.eval_t = g.read_dataset("eval_t");
  if (g.has("total_error")) {
    c.total_summary = read_summary(g, "total");
    c.total_error = g.read_dataset("total_error");
    c.model_error_rms = g.read_dataset("model_error_rms");
    c.denoiser_error_rms = g.read_dataset("denoiser_error_rms");
  }
  if (g.has("saved_samples")) {
    for (long p : g.read_long_dataset("saved_samples")) c.saved_samples.push_back(static_cast<int>(p));
    std::vector<hsize_t> shape;
    c.final_state = g.read_dataset("final_state", &shape);
    c.state_dim = static_cast<int>(shape.at(1));
    c.exact_final_state = g.read_dataset("exact_final_state");
    if (g.has("states")) {
      c.states = g.read_dataset("states");
      c.exact_states = g.read_dataset("exact_states");
    }
  }
  return c;
}

void write_reference(const Group& parent, const results::ReferenceRecord& r) {
  const Group g = parent.create_group(r.model + "__" + r.schedule + "__seed" + std::to_string(r.seed));
  g.write_attribute("model", r.model);
  g.write_attribute("schedule", r.schedule);
  g.write_attribute("seed", r.seed);
  g.write_attribute("times", r.times);
  g.write_attribute("tolerance", r.tolerance);
  g.write_attribute("step_control", r.step_control);
  g.write_attribute("layout", r.layout);
  g.write_attribute("nfe_mean", r.nfe_mean);
  g.write_attribute("nfe_max", r.nfe_max);
  g.write_attribute("steps_accepted_mean", r.steps_accepted_mean);
  g.write_attribute("steps_rejected_mean", r.steps_rejected_mean);
  g.write_attribute("error_estimate", r.error_estimate);
  g.write_attribute("exact_error", r.exact_error);
  g.write_attribute("s_zero", r.s_zero);
  g.write_attribute("failed_samples", r.failed_samples);
  g.write_attribute("error_estimate_samples", r.error_estimate_samples);
  g.write_attribute("wall_time", r.wall_time);
  if (r.exact_model_error_estimate >= 0) {  // an imperfect model: its exact model's reference
    g.write_attribute("exact_model_error_estimate", r.exact_model_error_estimate);
    g.write_attribute("exact_model_nfe_mean", r.exact_model_nfe_mean);
  }
}

results::ReferenceRecord read_reference(const Group& g) {
  results::ReferenceRecord r;
  r.model = g.read_string_attribute("model");
  r.schedule = g.read_string_attribute("schedule");
  r.seed = g.read_long_attribute("seed");
  r.times = g.read_long_attribute("times");
  r.tolerance = g.read_double_attribute("tolerance");
  r.step_control = g.read_string_attribute("step_control");
  r.layout = g.read_string_attribute("layout");
  r.nfe_mean = g.read_double_attribute("nfe_mean");
  r.nfe_max = g.read_long_attribute("nfe_max");
  r.steps_accepted_mean = g.read_double_attribute("steps_accepted_mean");
  r.steps_rejected_mean = g.read_double_attribute("steps_rejected_mean");
  r.error_estimate = g.read_double_attribute("error_estimate");
  r.exact_error = g.read_double_attribute("exact_error");
  r.s_zero = g.read_double_attribute("s_zero");
  r.failed_samples = g.read_long_attribute("failed_samples");
  r.error_estimate_samples = g.read_long_attribute("error_estimate_samples");
  r.wall_time = g.read_double_attribute("wall_time");
  if (g.has_attribute("exact_model_error_estimate")) {
    r.exact_model_error_estimate = g.read_double_attribute("exact_model_error_estimate");
    r.exact_model_nfe_mean = g.read_double_attribute("exact_model_nfe_mean");
  }
  return r;
}

void write_results_file(const std::string& path, const RunRecord& rec) {
  write_file_atomically(path, [&](const Group& root) {
    const auto& p = rec.provenance;
    root.write_attribute("format", std::string("pfode-results-1"));
    root.write_attribute("pfode_version", p.pfode_version);
    root.write_attribute("git_commit", p.git_commit);
    root.write_attribute("kokkos_version", p.kokkos_version);
    root.write_attribute("execution_space", p.execution_space);
    root.write_attribute("host", p.host);
    root.write_attribute("utc_start", p.utc_start);
    root.write_attribute("utc_end", p.utc_end);
    root.write_attribute("command_line", p.command_line);
    root.write_attribute("config_path", p.config_path);
    root.write_attribute("mpi_ranks", p.mpi_ranks);
    if (!rec.external_runs.empty()) {
      root.write_attribute("external_runs", rec.external_runs);
      root.write_attribute("problem_file", rec.problem_file);
      root.write_attribute("problem_id", rec.problem_id);
    }
    root.write_string_dataset("config", rec.resolved_config);

    const Group models = root.create_group("models");
    const int samples = rec.cells.empty() ? 0 : static_cast<int>(rec.cells.front().samples);
    std::vector<long> seeds;  // the run seeds, as the cells first name them
    for (const auto& c : rec.cells)
      if (std::find(seeds.begin(), seeds.end(), c.seed) == seeds.end()) seeds.push_back(c.seed);
    for (const auto& m : rec.models) write_model(models, m, samples, seeds);
    const Group schedules = root.create_group("schedules");
    for (const auto& entry : rec.schedules) write_schedule(schedules, entry);
    const Group refs = root.create_group("references");
    for (const auto& r : rec.references) write_reference(refs, r);
    const Group cells = root.create_group("cells");
    for (const auto& c : rec.cells) write_cell(cells, c);

    const Group series = root.create_group("series");
    for (size_t k = 0; k < rec.series.size(); ++k) {
      const auto& f = rec.series[k];
      const Group g = series.create_group(cell_name(static_cast<int>(k)));
      g.write_attribute("model", f.model);
      g.write_attribute("schedule", f.schedule);
      g.write_attribute("spacing", f.spacing);
      g.write_attribute("solver", f.solver);
      g.write_attribute("seed", f.seed);
      g.write_attribute("order_theory", f.order_theory);
      g.write_attribute("lte_order_theory", f.lte_order_theory);
      g.write_dataset("cells", std::vector<long>(f.cells.begin(), f.cells.end()));
      g.write_dataset("nfe", f.nfe, shape1(f.nfe.size()));
      write_fit(g, "gte", f.gte, f.nfe);
      write_fit(g, "gte_median", f.gte_median, f.nfe);
      write_fit(g, "lte", f.lte, f.nfe);
      g.write_attribute("weak_order_theory", f.weak_order_theory);
      write_fit(g, "weak_mean", f.weak_mean, f.nfe);
      write_fit(g, "weak_covariance", f.weak_covariance, f.nfe);
      write_fit(g, "weak_mmd", f.weak_mmd, f.nfe);
      if (std::isfinite(f.model_error)) {  // an imperfect model's error split
        write_fit(g, "total", f.total, f.nfe);
        g.write_attribute("model_error", f.model_error);
        g.write_attribute("crossover_nfe", f.crossover_nfe);
      }
    }
  });
}

void check_output_path(const std::string& path, bool overwrite) {
  namespace fs = std::filesystem;
  if (path.empty()) throw std::invalid_argument("no output file given (run.out or --out)");
  // What --force cannot replace first, so that its advice is never given in vain: a directory, or
  // a device, pipe or socket (the rename would replace it).
  if (fs::is_directory(path))
    throw std::invalid_argument("output '" + path + "' is a directory; name a file (e.g. '" +
                                (fs::path(path) / "results.h5").string() + "')");
  if (fs::exists(path) && !fs::is_regular_file(path))
    throw std::invalid_argument("output '" + path + "' exists and is not a regular file");
  if (fs::exists(path) && !overwrite)
    throw std::invalid_argument("output '" + path + "' exists; pass --force to replace it");
  const fs::path dir = fs::path(path).has_parent_path() ? fs::path(path).parent_path() : fs::path(".");
  if (!fs::is_directory(dir)) throw std::invalid_argument("output directory '" + dir.string() + "' does not exist");
  if (access(dir.c_str(), W_OK) != 0) throw std::invalid_argument("output directory '" + dir.string() + "' is not writable");
}

}  // namespace pfode::io
