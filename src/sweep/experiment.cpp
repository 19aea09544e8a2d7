#include "sweep/experiment.hpp"

#include <boost/program_options.hpp>
#include <algorithm>
#include <climits>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <stdexcept>

#include "brownian/brownian_path.hpp"
#include "common/fingerprint.hpp"
#include "common/named_options.hpp"
#include "model/network_file.hpp"
#include "schedule/registry.hpp"
#include "solver/presets.hpp"

namespace pfode::sweep {

namespace {

namespace po = boost::program_options;
using Settings = std::map<std::string, std::string>;  // "section.key" -> value

Settings read_ini(const std::string& path) {
  std::ifstream file(path);
  if (!file || std::filesystem::is_directory(path)) throw std::invalid_argument("cannot read config file '" + path + "'");
  std::stringstream text;
  text << file.rdbuf();
  // A NUL byte would cut every message that quotes its line short: a binary file, not a config.
  const std::string content = text.str();
  if (const auto nul = content.find('\0'); nul != std::string::npos)
    throw std::invalid_argument("config " + path + ": line " +
                                std::to_string(1 + std::count(content.begin(), content.begin() + nul, '\n')) +
                                " holds a NUL byte (not a text file?)");
  std::istringstream in(content);
  po::options_description none;
  po::parsed_options parsed(nullptr);
  try {
    parsed = po::parse_config_file(in, none, /*allow_unregistered=*/true);
  } catch (const po::error& e) {
    throw std::invalid_argument("config " + path + ": " + e.what());
  }
  Settings settings;
  for (const auto& opt : parsed.options) {
    if (opt.string_key.find('.') == std::string::npos)
      throw std::invalid_argument("config " + path + ": '" + opt.string_key + "' must be inside a [section]");
    if (!settings.emplace(opt.string_key, opt.value.empty() ? "" : opt.value.front()).second)
      throw std::invalid_argument("config " + path + ": '" + opt.string_key + "' is given twice");
  }
  return settings;
}

std::vector<std::string> split_list(const std::string& text) {
  std::vector<std::string> items;
  std::string item;
  int depth = 0;  // commas inside name[...] belong to the options
  auto flush = [&] {
    if (!item.empty()) items.push_back(item);
    item.clear();
  };
  for (char ch : text) {
    if (ch == '[') ++depth;
    if (ch == ']') --depth;
    if ((ch == ',' && depth == 0) || ch == ' ' || ch == '\t') flush();
    else item += ch;
  }
  flush();
  return items;
}

// Reads settings and records which keys were consumed, so leftovers can be reported as unknown.
class Reader {
 public:
  explicit Reader(Settings s) : settings_(std::move(s)) {}

  bool has(const std::string& key) const { return settings_.count(key) > 0; }
  std::string text(const std::string& key, const std::string& fallback) {
    used_.insert(key);
    auto it = settings_.find(key);
    const std::string value = it == settings_.end() ? fallback : it->second;
    resolved_[key] = value;
    return value;
  }
  std::string required(const std::string& key) {
    if (!has(key) || settings_.at(key).empty()) throw std::invalid_argument("config: missing value for '" + key + "'");
    return text(key, "");
  }
  // An integer in [min_value, max_value] (by default what an int holds: counts are ints).
  long integer(const std::string& key, long fallback, long min_value, long max_value = INT_MAX) {
    const long v = parse_long(text(key, std::to_string(fallback)), key);
    if (v < min_value) throw std::invalid_argument(key + " = " + std::to_string(v) + " is below " + std::to_string(min_value));
    if (v > max_value) throw std::invalid_argument(key + " = " + std::to_string(v) + " is above " + std::to_string(max_value));
    return v;
  }
  double real(const std::string& key, const std::string& fallback) { return parse_double(text(key, fallback), key); }
  std::vector<double> reals(const std::string& key) {
    std::vector<double> out;
    for (const auto& item : split_list(required(key))) out.push_back(parse_double(item, key));
    return out;
  }
  std::vector<std::string> keys_in(const std::string& section) const {
    std::vector<std::string> out;
    for (const auto& [key, value] : settings_)
      if (key.rfind(section + ".", 0) == 0) out.push_back(key);
    return out;
  }
  void check_all_used() const {
    for (const auto& [key, value] : settings_)
      if (!used_.count(key) && key.rfind("likelihood.", 0) != 0) {  // [likelihood]: pfode likelihood reads it
        // A [model.X] or [schedule.X] section is read only for the X the sweep lists.
        const auto dot = key.find('.'), second = key.find('.', dot + 1);
        const std::string kind = key.substr(0, dot);
        if ((kind == "model" || kind == "schedule") && second != std::string::npos)
          throw std::invalid_argument("config: '" + key + "' is set but sweep." + kind + "s does not list '" +
                                      key.substr(dot + 1, second - dot - 1) + "'");
        throw std::invalid_argument("config: unknown setting '" + key + "'");
      }
  }
  // Every resolved setting as INI text, leaving out `skip` if given.
  std::string resolved_text(const std::string& skip = "") const {
    std::ostringstream out;
    std::string section;
    for (const auto& [key, value] : resolved_) {
      if (key == skip) continue;
      const auto dot = key.rfind('.');
      if (key.substr(0, dot) != section) {
        section = key.substr(0, dot);
        out << (out.tellp() > 0 ? "\n" : "") << "[" << section << "]\n";
      }
      out << key.substr(dot + 1) << " = " << value << "\n";
    }
    return out.str();
  }

 private:
  Settings settings_;
  std::set<std::string> used_;
  std::map<std::string, std::string> resolved_;
};

// Rows separated by ';', values by spaces or commas.
std::vector<double> matrix(Reader& r, const std::string& key, int rows, int cols) {
  const std::string text = r.required(key);
  std::vector<double> out;
  std::stringstream ss(text);
  std::string row;
  int n_rows = 0;
  while (std::getline(ss, row, ';')) {
    const auto items = split_list(row);
    if (items.empty()) continue;
    if (static_cast<int>(items.size()) != cols && !(cols > 0 && items.size() == 1))
      throw std::invalid_argument(key + ": row " + std::to_string(n_rows + 1) + " has " + std::to_string(items.size()) +
                                  " values, expected " + std::to_string(cols));
    for (int j = 0; j < cols; ++j) out.push_back(parse_double(items.size() == 1 ? items[0] : items[j], key));
    ++n_rows;
  }
  if (n_rows == 1 && rows > 1) {  // one row applies to every component
    for (int k = 1; k < rows; ++k) out.insert(out.end(), out.begin(), out.begin() + cols);
    n_rows = rows;
  }
  if (n_rows != rows)
    throw std::invalid_argument(key + ": " + std::to_string(n_rows) + " rows, expected " + std::to_string(rows));
  return out;
}

// rotations = identity | random | the matrices (rows separated by ';'): K x dim rows, or dim rows
// for one rotation shared by every component; random ones are drawn with rotation_seed.
void read_rotations(Reader& r, const std::string& p, model::ModelSpec& spec, long default_seed) {
  if (!r.has(p + "rotations")) return;
  const std::string text = r.required(p + "rotations");
  if (text == "identity") return model::set_rotations(spec, model::identity_rotations(spec.components, spec.dim));
  if (text == "random") {
    const auto seed = static_cast<std::uint64_t>(r.integer(p + "rotation_seed", default_seed, 0));
    return model::set_rotations(spec, model::random_rotations(spec.components, spec.dim, seed));
  }
  const auto rows = static_cast<int>(std::count(text.begin(), text.end(), ';')) + 1;
  const int blocks = rows == spec.dim ? 1 : spec.components;
  model::set_rotations(spec, matrix(r, p + "rotations", blocks * spec.dim, spec.dim));
}

// A list axis names each value once: a repeated value would run the same cells twice and put
// duplicate points into a series (or, for models, schedules and seeds, clash in the results file).
template <class T>
void require_unique(const std::vector<T>& values, const std::string& key) {
  std::set<T> seen;
  for (const auto& v : values)
    if (!seen.insert(v).second) {
      std::ostringstream msg;
      msg << key << ": '" << v << "' is listed twice";
      throw std::invalid_argument(msg.str());
    }
}

// The settings each model kind takes.
const std::map<std::string, std::vector<std::string>>& model_keys() {
  static const std::map<std::string, std::vector<std::string>> keys = {
      {"gaussian", {"kind", "dim", "means", "stds", "rotations", "rotation_seed"}},
      {"mixture", {"kind", "dim", "weights", "means", "stds", "rotations", "rotation_seed"}},
      {"random-mixture", {"kind", "dim", "components", "seed", "spread", "std_min", "std_max", "rank", "std_floor",
                          "rotations", "rotation_seed"}},
      {"file", {"kind", "file", "rotations", "rotation_seed"}},
      {"network", {"kind", "file", "dim"}},
      {"perturbed", {"kind", "exact", "error", "features", "length", "error_seed", "error_profile", "error_size",
                     "error_exponent", "error_scale"}},
      {"guided", {"kind", "mixture", "classes", "w", "interval", "sample_classes", "class_seed"}},
  };
  return keys;
}

std::string model_kind(Reader& r, const std::string& name);
model::ModelSpec read_model(Reader& r, const std::string& name);

// A guided model (model/guided.hpp) per value of its w list, named NAME[w=VALUE] (as written), all
// on the same mixture, classes, interval and samples' classes; at w = 0 each is compared with
// NAME[w=0], the class-conditional mixtures (the exact reference of the error split).
std::vector<model::ModelSpec> read_guided(Reader& r, const std::string& name) {
  const std::string p = "model." + name + ".";
  model_kind(r, name);
  const std::string base = r.required(p + "mixture");
  if (base == name) throw std::invalid_argument("model " + name + ": mixture names the model itself");
  const auto mixture = read_model(r, base);
  const auto integers = [&](const std::string& key) {
    std::vector<int> out;
    for (const auto& item : split_list(r.required(key))) {
      const long v = parse_long(item, key);
      if (v < INT_MIN || v > INT_MAX) throw std::invalid_argument(key + ": " + item + " is out of range");
      out.push_back(static_cast<int>(v));
    }
    return out;
  };
  const auto component_class = integers(p + "classes");
  double s_lo = 0, s_hi = INFINITY;
  if (r.has(p + "interval")) {
    const auto bounds = r.reals(p + "interval");
    if (bounds.size() != 2) throw std::invalid_argument(p + "interval: give two values, s_lo s_hi");
    s_lo = bounds[0];
    s_hi = bounds[1];
  }
  std::vector<int> given;
  if (r.text(p + "sample_classes", "random") != "random") given = integers(p + "sample_classes");
  const auto class_seed = static_cast<std::uint64_t>(r.integer(p + "class_seed", 0, 0));
  const auto weights = split_list(r.required(p + "w"));
  require_unique(weights, p + "w");
  std::vector<model::ModelSpec> out;
  for (const auto& w : weights)
    out.push_back(model::guide(name + "[w=" + w + "]", mixture, component_class, parse_double(w, p + "w"), s_lo, s_hi,
                               given, class_seed, name + "[w=0]"));
  return out;
}

// The models a name of sweep.models stands for: one, or a guided model's one per w.
std::vector<model::ModelSpec> read_models(Reader& r, const std::string& name) {
  const std::string kind = "model." + name + ".kind";
  if (r.has(kind) && r.text(kind, "") == "guided") return read_guided(r, name);
  return {read_model(r, name)};
}

// The kind of [model.NAME], its settings checked against the kind's.
std::string model_kind(Reader& r, const std::string& name) {
  const std::string p = "model." + name + ".";
  if (r.keys_in("model." + name).empty()) throw std::invalid_argument("model '" + name + "' has no [model." + name + "] section");
  const std::string kind = r.required(p + "kind");
  const auto known = model_keys().find(kind);
  if (known == model_keys().end())
    throw std::invalid_argument("model " + name + ": unknown kind '" + kind +
                                "' (known: gaussian, mixture, random-mixture, file, network, perturbed, guided)");
  for (const auto& key : r.keys_in("model." + name)) {
    const std::string setting = key.substr(p.size());
    if (std::find(known->second.begin(), known->second.end(), setting) == known->second.end()) {
      std::string list;
      for (const auto& k : known->second) list += (list.empty() ? "" : ", ") + k;
      throw std::invalid_argument("model " + name + ": unknown setting '" + setting + "' for kind = " + kind +
                                  " (it takes " + list + ")" +
                                  (kind == "gaussian" && setting == "weights" ? "; several components: kind = mixture" : ""));
    }
  }
  return kind;
}

model::ModelSpec read_model(Reader& r, const std::string& name) {
  const std::string p = "model." + name + ".";
  const std::string kind = model_kind(r, name);
  model::ModelSpec spec;
  long seed = 0;
  if (kind == "gaussian" || kind == "mixture") {
    const int dim = static_cast<int>(r.integer(p + "dim", 1, 1));
    std::vector<double> weights = kind == "gaussian" ? std::vector<double>{1.0} : r.reals(p + "weights");
    const int k = static_cast<int>(weights.size());
    spec = model::make_model(name, dim, weights, matrix(r, p + "means", k, dim), matrix(r, p + "stds", k, dim), "config");
    model::require_unit_sum(name, weights);
  } else if (kind == "random-mixture") {
    const int dim = static_cast<int>(r.integer(p + "dim", 2, 1));
    const int k = static_cast<int>(r.integer(p + "components", 4, 1));
    seed = r.integer(p + "seed", 0, 0);
    spec = model::random_mixture(name, dim, k, static_cast<std::uint64_t>(seed), r.real(p + "spread", "2.0"),
                                 r.real(p + "std_min", "0.3"), r.real(p + "std_max", "0.6"));
    // Data near a subspace: every component's coordinates from `rank` on get std_floor.
    const int rank = static_cast<int>(r.integer(p + "rank", dim, 0, dim));
    const double floor = r.real(p + "std_floor", "0");
    if (!(floor == 0 || (floor >= 1.0 / model::max_model_scale && floor <= model::max_model_scale)))
      throw std::invalid_argument(p + "std_floor must be 0 or within [1e-100, 1e100]");
    for (int c = 0; c < k; ++c)
      for (int j = rank; j < dim; ++j) spec.stds[static_cast<size_t>(c) * dim + j] = floor;
  } else if (kind == "file") {
    spec = model::load_model_file(name, r.required(p + "file"));
  } else if (kind == "network") {  // a trained denoiser (training/train_denoiser.py); its file holds the mixture it learned
    const int dim = r.has(p + "dim") ? static_cast<int>(r.integer(p + "dim", 1, 1)) : 0;  // optional: checked
    return model::load_network_model(name, r.required(p + "file"), dim);
  } else if (kind == "guided") {  // where one model is read (a perturbed or guided model's base): refused there
    return read_guided(r, name).front();
  } else {  // perturbed (model_keys() knows no other kind): an exact model (another [model.NAME])
            // with a controlled denoiser error (model/perturbed.hpp)
    const std::string exact = r.required(p + "exact");
    if (exact == name) throw std::invalid_argument("model " + name + ": exact names the model itself");
    return model::perturb(name, read_model(r, exact), r.text(p + "error", "fourier"),
                          static_cast<int>(r.integer(p + "features", 16, 1)), r.real(p + "length", "1.0"),
                          static_cast<std::uint64_t>(r.integer(p + "error_seed", 0, 0)),
                          r.text(p + "error_profile", "constant"), r.real(p + "error_size", "0.01"),
                          r.real(p + "error_exponent", "1"), r.real(p + "error_scale", "1"));
  }
  read_rotations(r, p, spec, seed);
  return spec;
}

// Every setting belongs to a known section: a misspelled one ([swep]) is named as such rather
// than reported as the settings it fails to give.
void check_sections(const Settings& settings) {
  for (const auto& [key, value] : settings) {
    const std::string section = key.substr(0, key.rfind('.'));
    const std::string kind = section.substr(0, section.find('.'));
    const bool named = section.find('.') != std::string::npos;
    const bool named_kind = kind == "model" || kind == "schedule" || kind == "plan";
    // [likelihood] is read by pfode likelihood (app/likelihood_command.cpp).
    if (((section == "run" || section == "sweep" || section == "likelihood") && !named) || (named_kind && named)) continue;
    if (named_kind) throw std::invalid_argument("config: section [" + section + "] needs a name: [" + kind + ".NAME]");
    throw std::invalid_argument("config: unknown section [" + section +
                                "] (known: [run], [sweep], [plan.NAME], [model.NAME], [schedule.NAME])");
  }
}

// Narrows every schedule's [t_min, t_max] to the common interval of s = exp(-lambda).
void align_s_intervals(std::vector<results::ScheduleEntry>& schedules) {
  double s_low = 0, s_high = INFINITY;
  for (const auto& entry : schedules) {
    s_low = std::max(s_low, entry.schedule.s(entry.schedule.t_min));
    s_high = std::min(s_high, entry.schedule.s(entry.schedule.t_max));
  }
  if (!(s_low < s_high)) throw std::invalid_argument("run.common_s_interval: the schedules' s ranges do not overlap");
  for (auto& entry : schedules) {
    auto& sc = entry.schedule;
    sc.t_min = std::max(sc.t_min, sc.t_of_lambda(-std::log(s_low)));
    sc.t_max = std::min(sc.t_max, sc.t_of_lambda(-std::log(s_high)));
  }
}

}  // namespace

Experiment load_experiment(const std::string& path, const std::vector<std::string>& overrides) {
  Settings settings = read_ini(path);
  for (const auto& item : overrides) {
    const auto eq = item.find('=');
    if (eq == std::string::npos || item.substr(0, eq).find('.') == std::string::npos)
      throw std::invalid_argument("--set '" + item + "': expected section.key=value");
    settings[item.substr(0, eq)] = item.substr(eq + 1);
  }
  check_sections(settings);
  Reader r(settings);
  Experiment e;
  e.config_path = path;
  e.out = r.text("run.out", "results/out.h5");
  e.samples = static_cast<int>(r.integer("run.samples", 64, 1));
  e.seeds.clear();
  for (const auto& s : split_list(r.text("run.seeds", "0"))) {
    const long seed = parse_long(s, "run.seeds");
    if (seed < 0) throw std::invalid_argument("run.seeds: " + s + " must be >= 0");
    e.seeds.push_back(static_cast<std::uint64_t>(seed));
  }
  require_unique(e.seeds, "run.seeds");
  if (e.seeds.empty()) throw std::invalid_argument("run.seeds: give at least one seed");
  e.start.mode = model::parse_start_mode(r.text("run.start", "marginal"));
  if (e.start.mode == model::StartMode::file) {
    e.start.file = r.required("run.start_file");
    e.start.dataset = r.text("run.start_dataset", "x_T");
  }
  e.reference_tolerance = r.real("run.reference_tolerance", "1e-13");
  if (!(e.reference_tolerance >= 1e-14 && e.reference_tolerance <= 1e-6))
    throw std::invalid_argument("run.reference_tolerance must be in [1e-14, 1e-6]");
  const std::string reference_step = r.text("run.reference_step", "sample");
  if (reference_step != "sample" && reference_step != "pack")
    throw std::invalid_argument("run.reference_step: unknown '" + reference_step + "' (sample | pack)");
  e.reference_pack_step = reference_step == "pack";
  e.measure_local_error = parse_bool(r.text("run.lte", "true"), "run.lte");
  e.layout = lane::parse_layout(r.text("run.layout", "auto"));
  const std::string target = r.text("run.denoise_target", "grid_end");
  if (target != "grid_end" && target != "zero")
    throw std::invalid_argument("run.denoise_target: unknown '" + target + "' (grid_end | zero)");
  e.denoise_to_zero = target == "zero";
  const std::string save = r.text("run.save_states", "none");
  if (save == "none") e.save_states = Experiment::SaveStates::none;
  else if (save == "final") e.save_states = Experiment::SaveStates::final;
  else if (save == "grid") e.save_states = Experiment::SaveStates::grid;
  else throw std::invalid_argument("run.save_states: unknown '" + save + "' (none | final | grid)");
  const auto saved = split_list(r.text("run.save_samples", "all"));
  if (saved == std::vector<std::string>{"all"}) {
    // Listed only where states are saved: a plan of 1e9 samples would otherwise hold 4 GB of
    // indices before its memory check refuses it.
    if (e.save_states != Experiment::SaveStates::none)
      for (int p = 0; p < e.samples; ++p) e.save_samples.push_back(p);
  } else {
    if (saved.empty()) throw std::invalid_argument("run.save_samples: give sample indices or all");
    for (const auto& item : saved) {
      const long p = parse_long(item, "run.save_samples");
      if (p < 0 || p >= e.samples)
        throw std::invalid_argument("run.save_samples: " + item + " is not a sample (0.." + std::to_string(e.samples - 1) +
                                    ")");
      e.save_samples.push_back(static_cast<int>(p));
    }
    require_unique(e.save_samples, "run.save_samples");
  }

  e.sde_refinement = static_cast<int>(r.integer("run.sde_refinement", 64, 2, 4096));
  if (e.sde_refinement % 2 != 0)
    throw std::invalid_argument("run.sde_refinement = " + std::to_string(e.sde_refinement) +
                                " must be even (the reference's error comes from half the refinement)");
  e.brownian_depth = static_cast<int>(r.integer("run.brownian_depth", 26, 8, brownian::BrownianPath::max_depth));
  e.weak_samples = r.integer("run.weak_samples", 0, 0, 100000000);
  e.mmd_block = static_cast<int>(r.integer("run.mmd_block", 1024, 2, 65536));
  // The MMD's interval comes from the spread of its blocks' estimates: two whole blocks at least.
  if (e.weak_samples > 0 && e.weak_samples < std::max<long>(64, 2L * e.mmd_block))
    throw std::invalid_argument("run.weak_samples = " + std::to_string(e.weak_samples) +
                                " is below 64 or two MMD blocks (2 x run.mmd_block = " +
                                std::to_string(2L * e.mmd_block) + ")");
  // The weak error's target p(x; t_N) is the law of the samples only when they start from the
  // exact p(x; t_0).
  if (e.weak_samples > 0 && e.start.mode != model::StartMode::marginal)
    throw std::invalid_argument(std::string("run.weak_samples needs run.start = marginal (the exact law at the "
                                            "grid's start), not ") + model::start_mode_name(e.start.mode));
  const std::string bandwidth = r.text("run.mmd_bandwidth", "auto");
  if (bandwidth != "auto") {
    e.mmd_bandwidth = parse_double(bandwidth, "run.mmd_bandwidth");
    if (!(e.mmd_bandwidth > 0) || !std::isfinite(e.mmd_bandwidth))
      throw std::invalid_argument("run.mmd_bandwidth: '" + bandwidth + "' must be auto or a positive number");
  }

  // The plan's blocks: [sweep] alone, or every [plan.NAME] section, each its own cartesian product
  // with the axes it does not set taken from [sweep]. The experiment's lists hold each model,
  // schedule, spacing, solver and budget once; the blocks index them.
  std::vector<std::string> block_names;
  for (const auto& key : r.keys_in("plan")) {
    const auto second = key.find('.', 5);
    if (second == std::string::npos) throw std::invalid_argument("config: '" + key + "' must be inside a [plan.NAME] section");
    const std::string name = key.substr(5, second - 5);
    if (std::find(block_names.begin(), block_names.end(), name) == block_names.end()) block_names.push_back(name);
  }
  struct Axes {
    std::string where;  // the section that names the block, for messages
    std::vector<std::string> models, schedules, spacings, solvers, presets, nfe;
  };
  // An axis of a block: its own key, else [sweep]'s, else the fallback (recorded as the block's or
  // [sweep]'s setting); an empty fallback means required (solvers: unless there are presets).
  auto axis = [&](const std::string& block, const std::string& key, const std::string& fallback) {
    const std::string own = "plan." + block + "." + key, shared = "sweep." + key;
    std::string name = shared, value;
    if (block.empty()) {
      value = r.text(shared, fallback);
    } else if (r.has(own) || !r.has(shared)) {
      name = own;
      value = r.text(own, fallback);
    } else {
      value = r.text(shared, "");
    }
    if (value.empty() && fallback.empty() && key != "presets" && key != "solvers")
      throw std::invalid_argument("config: missing value for '" + name + "'" +
                                  (block.empty() ? "" : " (set it there or in [sweep])"));
    const auto items = split_list(value);
    require_unique(items, name);
    return items;
  };
  std::vector<Axes> axes;
  for (const std::string& block : block_names.empty() ? std::vector<std::string>{""} : block_names) {
    Axes a;
    a.where = block.empty() ? "sweep" : "plan." + block;
    a.models = axis(block, "models", "");
    a.schedules = axis(block, "schedules", "");
    a.spacings = axis(block, "spacings", "uniform-lambda");
    a.presets = axis(block, "presets", "");
    a.solvers = axis(block, "solvers", "");
    if (a.solvers.empty() && a.presets.empty())
      throw std::invalid_argument("config: missing value for '" + a.where + ".solvers' (or give " + a.where +
                                  ".presets)");
    a.nfe = axis(block, "nfe", "");
    axes.push_back(std::move(a));
  }

  // Each value once in the experiment's lists, by its name or label.
  auto index_of = [](auto& list, const std::string& key, auto key_of, auto make) {
    for (size_t i = 0; i < list.size(); ++i)
      if (key_of(list[i]) == key) return static_cast<int>(i);
    list.push_back(make());
    return static_cast<int>(list.size() - 1);
  };
  auto by_name = [](const auto& v) { return v.name; };
  auto by_label = [](const auto& v) { return v.label; };
  for (const auto& a : axes) {
    Experiment::PlanBlock block;
    block.name = a.where;
    for (const auto& name : a.models)
      for (auto& m : read_models(r, name)) block.models.push_back(index_of(e.models, m.name, by_name, [&] { return m; }));
    for (const auto& name : a.schedules)
      block.schedules.push_back(index_of(e.schedules, name, by_name, [&] {
        std::map<std::string, double> params;
        for (const auto& key : r.keys_in("schedule." + name))
          params[key.substr(key.rfind('.') + 1)] = parse_double(r.text(key, ""), key);
        return results::ScheduleEntry{name, schedule::make_schedule(name, params)};
      }));
    std::vector<int> spacings, solvers;
    for (const auto& label : a.spacings)
      spacings.push_back(index_of(e.spacings, label, by_label, [&] { return SpacingEntry{label, spacing::parse_spacing(label)}; }));
    for (const auto& label : a.solvers)
      solvers.push_back(index_of(e.solvers, label, by_label, [&] { return SolverEntry{label, solver::parse_solver(label)}; }));
    for (int sp : spacings)
      for (int so : solvers) block.spacing_solver_pairs.emplace_back(sp, so);
    // A preset's spacing and solver are a pair, crossed with the block's other axes only.
    for (const auto& name : a.presets) {
      const auto& preset = solver::find_preset(name);
      const int sp = index_of(e.spacings, preset.spacing, by_label,
                              [&] { return SpacingEntry{preset.spacing, spacing::parse_spacing(preset.spacing)}; });
      const int so = index_of(e.solvers, preset.name, by_label,
                              [&] { return SolverEntry{preset.name, solver::parse_solver(preset.solver)}; });
      block.spacing_solver_pairs.emplace_back(sp, so);
    }
    for (const auto& n : a.nfe) {
      const long v = parse_long(n, a.where + ".nfe");
      if (v < 1 || v > max_nfe)
        throw std::invalid_argument(a.where + ".nfe: " + n + " must be in [1, " + std::to_string(max_nfe) + "]");
      block.nfe.push_back(index_of(e.nfe, n, [](int x) { return std::to_string(x); }, [&] { return static_cast<int>(v); }));
    }
    e.blocks.push_back(std::move(block));
  }
  // [sweep] alone is the experiment's own product (spacing_solver_pairs, every budget); blocks
  // otherwise.
  if (block_names.empty()) {
    e.spacing_solver_pairs = e.blocks.front().spacing_solver_pairs;
    e.blocks.clear();
  }

  // x*(0) is the reference continued to s = 0, which is regular only where every variance is > 0.
  if (e.denoise_to_zero)
    for (const auto& m : e.models)
      if (*std::min_element(m.stds.begin(), m.stds.end()) == 0 || !m.is_exact())
        throw std::invalid_argument("run.denoise_target = zero: model " + m.name +
                                    (m.is_exact()    ? " has a zero std"
                                     : m.network     ? " is a network"
                                     : m.is_guided() ? " is guided"
                                                     : " is perturbed") +
                                    " (its flow to s = 0 is singular; use grid_end)");

  // The weak error's target is the mixture's law: that of a guided model's class-conditional flows
  // only when the classes are drawn with the class weights.
  if (e.weak_samples > 0)
    for (const auto& m : e.models)
      if (m.is_guided() && !m.guidance.given.empty())
        throw std::invalid_argument("run.weak_samples: model " + m.name +
                                    " has given sample_classes (the mixture is their law only for drawn classes)");

  // A start-state file is read now (readable, shape, finite values), not after the first reference.
  // What model, start-state and grid files hold enters the checkpoint identity below.
  Fingerprint inputs;
  for (const auto& m : e.models) {
    inputs.add(m.weights);
    inputs.add(m.means);
    inputs.add(m.stds);
    if (m.network) model::add_to(inputs, *m.network);
    if (m.full_covariance()) inputs.add(m.rotations);  // (only then: exact diagonal models keep their identity)
    if (!m.is_exact())
      for (const auto* v : {&m.error.bias, &m.error.frequencies, &m.error.amplitudes, &m.error.phases}) inputs.add(*v);
  }
  if (e.start.mode == model::StartMode::file) {  // each (model, schedule) the plan pairs
    std::set<std::pair<int, int>> pairs;
    for (const auto& block : e.blocks)
      for (int m : block.models)
        for (int sc : block.schedules) pairs.emplace(m, sc);
    for (int m = 0; e.blocks.empty() && m < static_cast<int>(e.models.size()); ++m)
      for (int sc = 0; sc < static_cast<int>(e.schedules.size()); ++sc) pairs.emplace(m, sc);
    for (const auto& [m, sc] : pairs)
      inputs.add(model::start_states(e.models[m], e.start, 0, e.samples, 1.0, 0.0, e.schedules[sc].name));
  }
  e.common_s_interval = parse_bool(r.text("run.common_s_interval", "false"), "run.common_s_interval");
  if (e.common_s_interval) align_s_intervals(e.schedules);
  // Schedules compared on a common s-interval start from the same canonical y_T = x_T/alpha_T; a
  // file's x_T would give each schedule a different y_T (alpha_T differs).
  if (e.common_s_interval && e.start.mode == model::StartMode::file && e.schedules.size() > 1)
    throw std::invalid_argument(
        "run.start = file with run.common_s_interval: the file's x_T gives each schedule a different start "
        "y_T = x_T/alpha(t_max); use start = marginal or prior (the same y_T on every schedule), or one schedule");
  r.check_all_used();
  for (const auto& sp : e.spacings) inputs.add(sp.spacing.custom_times);
  e.resolved_config = r.resolved_text();
  e.checkpoint_identity = r.resolved_text("run.out") + "\n# input data fingerprint " + inputs.hex() + "\n";
  return e;
}

}  // namespace pfode::sweep
