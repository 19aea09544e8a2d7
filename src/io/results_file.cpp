#include "io/results_file.hpp"

#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <map>
#include <stdexcept>

#include "model/network_file.hpp"
#include "schedule/registry.hpp"

namespace pfode::io {

namespace {

std::vector<hsize_t> shape1(size_t n) { return {static_cast<hsize_t>(n)}; }

// A record's fields are listed once (cell_fields, reference_fields) and visited by a writer or a
// reader, so that what is written and what is read back cannot drift apart.
class FieldWriter {
 public:
  explicit FieldWriter(const Group& g) : g_(g) {}
  template <class T>
  void attribute(const std::string& name, const T& value) const { g_.write_attribute(name, value); }
  void attribute(const std::string& name, int value) const { g_.write_attribute(name, static_cast<long>(value)); }
  void attribute(const std::string& name, bool value) const { g_.write_attribute(name, static_cast<long>(value)); }
  void dataset(const std::string& name, const std::vector<double>& v) const { g_.write_dataset(name, v, shape1(v.size())); }
  void dataset(const std::string& name, const std::vector<int>& v) const {
    g_.write_dataset(name, std::vector<long>(v.begin(), v.end()));
  }

 private:
  const Group& g_;
};

class FieldReader {
 public:
  explicit FieldReader(const Group& g) : g_(g) {}
  void attribute(const std::string& name, std::string& value) const { value = g_.read_string_attribute(name); }
  void attribute(const std::string& name, double& value) const { value = g_.read_double_attribute(name); }
  void attribute(const std::string& name, long& value) const { value = g_.read_long_attribute(name); }
  void attribute(const std::string& name, int& value) const { value = static_cast<int>(g_.read_long_attribute(name)); }
  void attribute(const std::string& name, bool& value) const { value = g_.read_long_attribute(name) != 0; }
  void dataset(const std::string& name, std::vector<double>& v) const { v = g_.read_dataset(name); }
  void dataset(const std::string& name, std::vector<int>& v) const {
    v.clear();
    for (long x : g_.read_long_dataset(name)) v.push_back(static_cast<int>(x));
  }

 private:
  const Group& g_;
};

// The same fields as one byte string, in the list's order (names are not stored): the checkpoint's
// compact cell record, one HDF5 dataset instead of ~50 attributes and datasets per cell, which
// cost a third of a small sweep's time. Numbers keep their bits (native byte order: a checkpoint
// is resumed on the machine kind that wrote it).
class ByteWriter {
 public:
  explicit ByteWriter(std::vector<unsigned char>& out) : out_(out) {}
  void attribute(const std::string&, const std::string& value) const {
    put(static_cast<long>(value.size()));
    out_.insert(out_.end(), value.begin(), value.end());
  }
  void attribute(const std::string&, double value) const { put(value); }
  void attribute(const std::string&, long value) const { put(value); }
  void attribute(const std::string&, int value) const { put(static_cast<long>(value)); }
  void attribute(const std::string&, bool value) const { put(static_cast<long>(value)); }
  void dataset(const std::string&, const std::vector<double>& v) const {
    put(static_cast<long>(v.size()));
    for (double x : v) put(x);
  }
  void dataset(const std::string&, const std::vector<int>& v) const {
    put(static_cast<long>(v.size()));
    for (int x : v) put(static_cast<long>(x));
  }

 private:
  template <class T>
  void put(T value) const {
    const auto* bytes = reinterpret_cast<const unsigned char*>(&value);
    out_.insert(out_.end(), bytes, bytes + sizeof value);
  }
  std::vector<unsigned char>& out_;
};

class ByteReader {
 public:
  ByteReader(const unsigned char* data, size_t size) : at_(data), end_(data + size) {}
  void attribute(const std::string& name, std::string& value) const {
    const size_t n = count(name, 1);
    value.assign(reinterpret_cast<const char*>(at_), n);
    at_ += n;
  }
  void attribute(const std::string& name, double& value) const { value = take<double>(name); }
  void attribute(const std::string& name, long& value) const { value = take<long>(name); }
  void attribute(const std::string& name, int& value) const { value = static_cast<int>(take<long>(name)); }
  void attribute(const std::string& name, bool& value) const { value = take<long>(name) != 0; }
  void dataset(const std::string& name, std::vector<double>& v) const {
    v.resize(count(name, sizeof(double)));
    for (double& x : v) x = take<double>(name);
  }
  void dataset(const std::string& name, std::vector<int>& v) const {
    v.resize(count(name, sizeof(long)));
    for (int& x : v) x = static_cast<int>(take<long>(name));
  }
  bool done() const { return at_ == end_; }

 private:
  // A length, checked against the bytes left (each element `size` bytes).
  size_t count(const std::string& name, size_t size) const {
    const long n = take<long>(name);
    if (n < 0 || static_cast<size_t>(n) > static_cast<size_t>(end_ - at_) / size)
      throw std::runtime_error("the record's " + name + " runs past its end");
    return static_cast<size_t>(n);
  }
  template <class T>
  T take(const std::string& name) const {
    if (static_cast<size_t>(end_ - at_) < sizeof(T)) throw std::runtime_error("the record ends before its " + name);
    T value;
    std::memcpy(&value, at_, sizeof value);
    at_ += sizeof value;
    return value;
  }
  mutable const unsigned char* at_;
  const unsigned char* end_;
};

template <class Summary, class Io>  // Summary: metrics::SampleSummary, const or not
void summary_fields(Summary& s, const std::string& prefix, const Io& io) {
  io.attribute(prefix + "_rms", s.rms);
  io.attribute(prefix + "_max", s.max);
  io.attribute(prefix + "_median", s.median);
  io.attribute(prefix + "_p90", s.p90);
}

template <class Weak, class Io>  // Weak: metrics::WeakEstimate, const or not
void weak_fields(Weak& w, const std::string& prefix, const Io& io) {
  io.attribute(prefix, w.value);
  io.attribute(prefix + "_low", w.low);
  io.attribute(prefix + "_high", w.high);
  io.attribute(prefix + "_noise", w.noise);
  io.attribute(prefix + "_significant", w.significant);
}

// Every field of a cell but the optional parts (error split, saved states) and worst_samples.
template <class Cell, class Io>  // Cell: results::CellResult, const or not
void cell_fields(Cell& c, const Io& io) {
  io.attribute("id", c.id);
  io.attribute("model", c.model);
  io.attribute("schedule", c.schedule);
  io.attribute("spacing", c.spacing);
  io.attribute("solver", c.solver);
  io.attribute("options", c.options);
  io.attribute("nfe_budget", c.nfe_budget);
  io.attribute("steps", c.steps);
  io.attribute("seed", c.seed);
  io.attribute("samples", c.samples);
  io.attribute("order_theory", c.order_theory);
  io.attribute("lte_order_theory", c.lte_order_theory);
  io.attribute("nfe", c.nfe);
  io.attribute("nfe_uniform", c.nfe_uniform);
  io.attribute("nfe_mean", c.nfe_mean);
  io.attribute("steps_accepted_mean", c.steps_accepted_mean);
  io.attribute("steps_rejected_mean", c.steps_rejected_mean);
  io.attribute("status", c.status);
  io.attribute("reference_error", c.reference_error);
  io.attribute("near_floor", c.near_floor);
  io.attribute("layout", c.layout);
  io.attribute("wall_time", c.wall_time);
  io.attribute("lte_wall_time", c.lte_wall_time);
  summary_fields(c.gte_summary, "gte", io);
  summary_fields(c.gte_relative_summary, "gte_relative", io);
  io.attribute("lte_step_median", c.lte_step_median);
  io.dataset("t", c.t);
  io.dataset("lambda", c.lambda);
  io.dataset("gte", c.gte);
  io.dataset("gte_relative", c.gte_relative);
  io.dataset("error_rms", c.error_rms);
  io.dataset("error_max", c.error_max);
  io.dataset("error_median", c.error_median);
  io.dataset("lte_rms", c.lte_rms);
  io.dataset("lte_max", c.lte_max);
  io.dataset("lte_median", c.lte_median);
  io.attribute("gte_target", c.gte_target);
  io.attribute("strong_order_theory", c.strong_order_theory);
  io.attribute("weak_order_theory", c.weak_order_theory);
  io.attribute("refinement", c.refinement);
  io.attribute("brownian_depth", c.brownian_depth);
  io.attribute("reference_wall_time", c.reference_wall_time);
  io.attribute("weak_samples", c.weak_samples);
  io.attribute("mmd_samples", c.mmd_samples);
  io.attribute("mmd_block", c.mmd_block);
  io.attribute("weak_target_s", c.weak_target_s);
  io.attribute("weak_target_alpha", c.weak_target_alpha);
  io.attribute("mmd_bandwidth", c.mmd_bandwidth);
  io.attribute("weak_wall_time", c.weak_wall_time);
  weak_fields(c.weak_mean, "weak_mean", io);
  weak_fields(c.weak_covariance, "weak_covariance", io);
  weak_fields(c.weak_mmd, "weak_mmd", io);
  io.dataset("step_order", c.step_order);
  io.dataset("step_corrected", c.step_corrected);
  io.dataset("eval_s", c.eval_s);
  io.dataset("eval_t", c.eval_t);
}

// An imperfect model's error split (DESIGN.md section 4), present only for one.
template <class Cell, class Io>
void split_fields(Cell& c, const Io& io) {
  summary_fields(c.total_summary, "total", io);
  io.dataset("total_error", c.total_error);
  io.dataset("model_error_rms", c.model_error_rms);
  io.dataset("denoiser_error_rms", c.denoiser_error_rms);
}

template <class Record, class Io>  // Record: results::ReferenceRecord, const or not
void reference_fields(Record& r, const Io& io) {
  io.attribute("model", r.model);
  io.attribute("schedule", r.schedule);
  io.attribute("seed", r.seed);
  io.attribute("times", r.times);
  io.attribute("tolerance", r.tolerance);
  io.attribute("step_control", r.step_control);
  io.attribute("layout", r.layout);
  io.attribute("nfe_mean", r.nfe_mean);
  io.attribute("nfe_max", r.nfe_max);
  io.attribute("steps_accepted_mean", r.steps_accepted_mean);
  io.attribute("steps_rejected_mean", r.steps_rejected_mean);
  io.attribute("error_estimate", r.error_estimate);
  io.attribute("exact_error", r.exact_error);
  io.attribute("s_zero", r.s_zero);
  io.attribute("failed_samples", r.failed_samples);
  io.attribute("error_estimate_samples", r.error_estimate_samples);
  io.attribute("wall_time", r.wall_time);
}

// An imperfect model's reference also records its exact model's reference.
template <class Record, class Io>
void exact_model_fields(Record& r, const Io& io) {
  io.attribute("exact_model_error_estimate", r.exact_model_error_estimate);
  io.attribute("exact_model_nfe_mean", r.exact_model_nfe_mean);
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

std::string cell_name(int id) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "%06d", id);
  return buf;
}

void write_cell(const Group& parent, const results::CellResult& c) {
  const Group g = parent.create_group(cell_name(c.id));
  const FieldWriter io(g);
  cell_fields(c, io);
  g.write_attribute("worst_samples", std::vector<long>(c.gte_summary.worst.begin(), c.gte_summary.worst.end()));
  if (c.split()) split_fields(c, io);
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

namespace {
const std::string kCellBytesTag = "pfode-cell-1";

// What a read cell gets from its stored fields rather than from the record.
void derive_fields(results::CellResult& c) {
  for (auto* summary : {&c.gte_summary, &c.gte_relative_summary, &c.total_summary})
    summary->finite = std::isfinite(summary->rms);
}

// The parts of a cell beyond cell_fields, in the order encode_cell writes them.
template <class Cell, class Io>
void cell_extra_fields(Cell& c, const Io& io, bool& split, bool& saved) {
  io.dataset("worst_samples", c.gte_summary.worst);
  io.attribute("split", split);
  if (split) split_fields(c, io);
  io.attribute("saved", saved);
  if (!saved) return;
  io.dataset("saved_samples", c.saved_samples);
  io.attribute("state_dim", c.state_dim);
  io.dataset("final_state", c.final_state);
  io.dataset("exact_final_state", c.exact_final_state);
  io.dataset("states", c.states);
  io.dataset("exact_states", c.exact_states);
}
}  // namespace

std::vector<unsigned char> encode_cell(const results::CellResult& c) {
  std::vector<unsigned char> out;
  const ByteWriter io(out);
  io.attribute("tag", kCellBytesTag);
  cell_fields(c, io);
  bool split = c.split(), saved = !c.saved_samples.empty();
  cell_extra_fields(c, io, split, saved);
  return out;
}

results::CellResult decode_cell(const unsigned char* bytes, size_t size) {
  results::CellResult c;
  const ByteReader io(bytes, size);
  std::string tag;
  io.attribute("tag", tag);
  if (tag != kCellBytesTag) throw std::runtime_error("the record is not a pfode cell");
  cell_fields(c, io);
  bool split = false, saved = false;
  cell_extra_fields(c, io, split, saved);
  if (!io.done()) throw std::runtime_error("the record has bytes after its last field");
  derive_fields(c);
  return c;
}

results::CellResult read_cell(const Group& g) {
  results::CellResult c;
  const FieldReader io(g);
  cell_fields(c, io);
  for (long w : g.read_long_vector_attribute("worst_samples")) c.gte_summary.worst.push_back(static_cast<int>(w));
  if (g.has("total_error")) split_fields(c, io);
  derive_fields(c);
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
  const FieldWriter io(g);
  reference_fields(r, io);
  if (r.exact_model_error_estimate >= 0) exact_model_fields(r, io);  // an imperfect model
}

results::ReferenceRecord read_reference(const Group& g) {
  results::ReferenceRecord r;
  const FieldReader io(g);
  reference_fields(r, io);
  if (g.has_attribute("exact_model_error_estimate")) exact_model_fields(r, io);
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
      g.write_attribute("lambda_step_order", f.lambda_step_order);
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
  }, false, true);
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
