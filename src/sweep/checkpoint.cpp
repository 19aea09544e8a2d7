#include "sweep/checkpoint.hpp"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <stdexcept>

#include "io/results_file.hpp"
#include "sweep/runner.hpp"

namespace pfode::sweep {

namespace fs = std::filesystem;

namespace {

const char* kConfigFile = "config.ini";
const char* kDamaged = "damaged";  // where validate() sets aside what it cannot use
const char* kStates = "states";    // dataset of a reference file: y (time, sample, coordinate)

std::string read_text(const fs::path& p) {
  std::ifstream in(p);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// `digits` as a number when std::to_string writes it so (at most 9 digits); nullopt otherwise.
std::optional<int> number(const std::string& digits) {
  if (digits.empty() || digits.size() > 9 || digits.find_first_not_of("0123456789") != std::string::npos) return std::nullopt;
  const int n = std::stoi(digits);
  if (std::to_string(n) != digits) return std::nullopt;
  return n;
}

bool has_suffix(const std::string& name, const std::string& suffix) {
  return name.size() >= suffix.size() && name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// The number in "<prefix><number>.h5"; nullopt for any other name (a stray or hand-made file is
// not a checkpointed record).
std::optional<int> record_number(const std::string& name, const std::string& prefix) {
  if (name.rfind(prefix, 0) != 0 || !has_suffix(name, ".h5")) return std::nullopt;
  return number(name.substr(prefix.size(), name.size() - prefix.size() - 3));
}

// A batch file's name: "cells_<first>+<count>.h5", `first` the smallest cell id it holds.
struct Batch {
  int first = 0, count = 0;
};
const std::string kBatchPrefix = "cells_";
std::string batch_file(int first, size_t count) {
  return kBatchPrefix + std::to_string(first) + "+" + std::to_string(count) + ".h5";
}
std::optional<Batch> batch_named(const std::string& name) {
  const size_t plus = name.find('+');
  if (name.rfind(kBatchPrefix, 0) != 0 || plus == std::string::npos || !has_suffix(name, ".h5") || plus + 4 > name.size())
    return std::nullopt;
  const auto first = number(name.substr(kBatchPrefix.size(), plus - kBatchPrefix.size()));
  const auto count = number(name.substr(plus + 1, name.size() - plus - 4));
  if (!first || !count || *count == 0) return std::nullopt;
  return Batch{*first, *count};
}

// The id of a cell record in a batch file (the dataset io::cell_name(id), holding io::encode_cell's
// bytes); nullopt for another name.
std::optional<int> cell_record_id(const std::string& name) {
  const auto id = name.size() <= 9 && name.find_first_not_of("0123456789") == std::string::npos && !name.empty()
                      ? std::optional<int>(std::stoi(name))
                      : std::nullopt;
  return id && name == io::cell_name(*id) ? id : std::nullopt;
}
std::string reference_file(int group) { return "reference_" + std::to_string(group) + ".h5"; }
// The states of a reference, with its record again, apart from the record file: assembling the
// results file reads every record file, and never the states.
std::string states_file(int group) { return "states_" + std::to_string(group) + ".h5"; }

// The one record a checkpoint file holds.
io::Group only_record(const io::Group& parent) {
  const auto names = parent.children();
  if (names.size() != 1) throw DamagedRecord("holds " + std::to_string(names.size()) + " records, not one");
  return parent.open_group(names.front());
}

// A checkpoint file whose checksum (io::write_file_atomically) holds, open for reading (`in_memory`:
// read whole, for a batch of cells).
io::File open_record_file(const std::string& path, bool in_memory = false) {
  if (!io::checksum_holds(path)) throw DamagedRecord("does not match its checksum (truncated, zeroed, edited or overwritten)");
  try {
    return io::File::open_read(path, in_memory);
  } catch (const std::exception&) {
    throw DamagedRecord("is not a readable HDF5 file");
  }
}

// Turns anything the HDF5 layer throws while reading a record into DamagedRecord.
template <class F>
auto reading(const F& read) -> decltype(read()) {
  try {
    return read();
  } catch (const DamagedRecord&) {
    throw;
  } catch (const std::exception& err) {
    throw DamagedRecord(std::string("cannot be read (") + err.what() + ")");
  }
}

// The record in the file `path`, as read(root) reads it: a missing or damaged file fails with a
// message naming it (`what`: the record it should hold).
template <class Read>
auto load_record(const std::string& path, const std::string& what, const Read& read, bool in_memory = false) {
  if (!fs::exists(path)) throw std::runtime_error("the checkpoint lacks " + what + " (" + path + ")");
  try {
    const auto file = open_record_file(path, in_memory);
    return read(file.root());
  } catch (const DamagedRecord& damage) {
    throw std::runtime_error(path + " " + damage.what());
  }
}

// The ids in the names "<prefix><id>.h5" of the files in `dir`.
std::set<int> numbered_files(const std::string& dir, const std::string& prefix) {
  std::set<int> ids;
  for (const auto& entry : fs::directory_iterator(dir))
    if (const auto id = record_number(entry.path().filename().string(), prefix)) ids.insert(*id);
  return ids;
}

// The batch files in `dir`, by path.
std::vector<std::pair<std::string, Batch>> batch_files(const std::string& dir) {
  std::vector<std::pair<std::string, Batch>> batches;
  for (const auto& entry : fs::directory_iterator(dir))
    if (const auto batch = batch_named(entry.path().filename().string())) batches.emplace_back(entry.path().string(), *batch);
  std::sort(batches.begin(), batches.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  return batches;
}

std::string cell_identity(const results::CellResult& c) {
  std::ostringstream out;
  out << c.model << "/" << c.schedule << "/" << c.spacing << "/" << c.solver << "/nfe=" << c.nfe_budget
      << "/seed=" << c.seed << " (" << c.options << ", " << c.steps << " steps, " << c.samples << " samples, orders "
      << c.order_theory << "/" << c.lte_order_theory << ")";
  return out.str();
}

double directory_bytes(const fs::path& dir) {
  double bytes = 0;
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(dir, ec); !ec && it != fs::recursive_directory_iterator(); it.increment(ec))
    if (std::error_code file_ec; it->is_regular_file(file_ec)) bytes += static_cast<double>(it->file_size(file_ec));
  return bytes;
}

// Moved out of the way first (one rename), so a kill during the deletion never leaves a
// checkpoint without its config; Checkpoint::remove_stale deletes what such a kill leaves.
void remove_directory(const std::string& dir) {
  const std::string doomed = dir + ".tmp." + std::to_string(getpid());
  fs::rename(dir, doomed);
  fs::remove_all(doomed);
}

}  // namespace

results::CellResult read_cell_record(const io::Group& batch, const std::string& name, int id, const Experiment& e,
                                     const Plan& plan) {
  if (id < 0 || id >= static_cast<int>(plan.cells.size()))
    throw DamagedRecord("is not a cell of this plan (it has " + std::to_string(plan.cells.size()) + " cells)");
  const results::CellResult c = reading([&] {
    const auto bytes = batch.read_bytes_dataset(name);
    return io::decode_cell(bytes.data(), bytes.size());
  });
  if (c.id != id) throw DamagedRecord("holds cell " + std::to_string(c.id) + ", not cell " + std::to_string(id));
  const results::CellResult want = make_cell_result(e, plan.cells[id]);
  if (cell_identity(c) != cell_identity(want) || c.t != want.t || c.lambda != want.lambda)
    throw DamagedRecord("holds " + cell_identity(c) + ", which is not this plan's cell " + std::to_string(id) + ", " +
                        cell_identity(want));
  // The shapes the runner writes: per sample, per grid point, per step (or none: no LTE measured).
  const size_t samples = static_cast<size_t>(c.samples), points = c.t.size();
  const bool shapes = c.gte.size() == samples && c.gte_relative.size() == samples && c.error_rms.size() == points &&
                      c.error_max.size() == points && c.error_median.size() == points &&
                      c.lte_max.size() == c.lte_rms.size() && c.lte_median.size() == c.lte_rms.size() &&
                      (c.lte_rms.empty() || c.lte_rms.size() + 1 == points);
  if (!shapes) throw DamagedRecord("holds arrays of the wrong length");
  return c;
}

namespace {

// The cells of a batch file (`root`, its checksum checked), each validated: `batch.count` records,
// each the cell its name says (read_cell_record), the smallest of them `batch.first`.
std::vector<results::CellResult> read_cell_batch(const io::Group& root, const Batch& batch, const Experiment& e,
                                                 const Plan& plan) {
  const auto names = reading([&] { return root.children(); });
  if (names.size() != static_cast<size_t>(batch.count))
    throw DamagedRecord("holds " + std::to_string(names.size()) + " records, not the " + std::to_string(batch.count) +
                        " its name says");
  std::vector<results::CellResult> cells;
  for (const auto& name : names) {
    const auto id = cell_record_id(name);
    if (!id) throw DamagedRecord("holds a record named '" + name + "', which is not a cell");
    cells.push_back(read_cell_record(root, name, *id, e, plan));
  }
  const int first = std::min_element(cells.begin(), cells.end(), [](const auto& a, const auto& b) { return a.id < b.id; })->id;
  if (first != batch.first)
    throw DamagedRecord("starts at cell " + std::to_string(first) + ", not at cell " + std::to_string(batch.first));
  return cells;
}

}  // namespace

results::ReferenceRecord read_reference_record(const io::Group& parent, int group, const Experiment& e, const Plan& plan) {
  if (group < 0 || group >= static_cast<int>(plan.groups.size()))
    throw DamagedRecord("is not a reference of this plan (it has " + std::to_string(plan.groups.size()) + ")");
  const results::ReferenceRecord r = reading([&] { return io::read_reference(only_record(parent)); });
  const CellGroup& g = plan.groups[group];
  const long times = reference_outputs(e, plan, g);
  const std::string step_control = e.reference_pack_step ? "pack" : "sample";
  if (r.model != e.models[g.model].name || r.schedule != e.schedules[g.schedule].name ||
      r.seed != static_cast<long>(e.seeds[g.seed]) || r.times != times || r.tolerance != e.reference_tolerance ||
      r.step_control != step_control)
    throw DamagedRecord("holds the reference " + r.model + "/" + r.schedule + "/seed=" + std::to_string(r.seed) +
                        " at " + std::to_string(r.times) + " times, which is not this plan's reference " +
                        std::to_string(group) + " (" + describe(e, g) + " at " + std::to_string(times) + " times)");
  return r;
}

Checkpoint::Checkpoint(const std::string& out, const std::string& identity, bool resume, bool create)
    : dir_(directory_for(out)) {
  existed_ = fs::is_directory(dir_);
  if (!create) {
    if (!existed_) throw std::runtime_error("checkpoint directory '" + dir_ + "' is missing");
    return;
  }
  if (!existed_ && fs::exists(dir_))
    throw std::invalid_argument("'" + dir_ + "' exists and is not a checkpoint directory; move it away");
  if (existed_) {
    if (read_text(fs::path(dir_) / kConfigFile) != identity)
      throw std::invalid_argument("'" + dir_ + "' holds an interrupted run of a different config, different input "
                                  "files or another pfode build; pass --force to discard it and start over");
    if (!resume)
      throw std::invalid_argument("an interrupted run of this config left '" + dir_ +
                                  "'; pass --resume to continue it or --force to start over");
    for (const auto& entry : fs::directory_iterator(dir_))  // temporaries of a killed run
      if (entry.path().filename().string().rfind(".", 0) == 0) fs::remove(entry.path());
    return;
  }
  // Set up under a temporary name and rename, so the directory never exists without its config.
  const std::string tmp = dir_ + ".tmp." + std::to_string(getpid());
  fs::create_directory(tmp);
  {
    std::ofstream config(tmp + "/" + kConfigFile);
    config << identity;
    config.close();
    if (!config) {
      std::error_code ignored;
      fs::remove_all(tmp, ignored);
      throw std::runtime_error("cannot write '" + tmp + "/" + kConfigFile + "' (disk full?)");
    }
  }
  fs::rename(tmp, dir_);
}

std::vector<std::string> Checkpoint::validate(const Experiment& e, const Plan& plan) const {
  std::vector<fs::path> entries;
  for (const auto& entry : fs::directory_iterator(dir_)) entries.push_back(entry.path());
  std::sort(entries.begin(), entries.end());
  std::vector<std::string> set_aside;
  std::set<int> kept;  // the cells of the batch files kept so far: each cell in one file only
  for (const auto& path : entries) {
    const std::string name = path.filename().string();
    if (name == kConfigFile || name == kDamaged) continue;
    try {
      const auto batch = batch_named(name);
      const auto group = record_number(name, "reference_");
      const auto states = record_number(name, "states_");
      if (!batch && !group && !states) throw DamagedRecord("is not a checkpoint file");
      // Out-of-plan numbers first: no need to open what cannot belong to this plan.
      if (batch && batch->first >= static_cast<int>(plan.cells.size()))
        throw DamagedRecord("is not a cell of this plan (it has " + std::to_string(plan.cells.size()) + " cells)");
      if (states) {  // large: checked when read (load_reference_states), if ever
        if (*states >= static_cast<int>(plan.groups.size())) throw DamagedRecord("is not a reference of this plan");
        continue;
      }
      const auto file = open_record_file(path.string(), batch.has_value());
      if (batch) {
        std::set<int> ids;
        for (const auto& c : read_cell_batch(file.root(), *batch, e, plan)) {
          if (kept.count(c.id)) throw DamagedRecord("holds cell " + std::to_string(c.id) + ", which another file holds");
          ids.insert(c.id);
        }
        kept.insert(ids.begin(), ids.end());
      } else {
        read_reference_record(file.root(), *group, e, plan);
      }
    } catch (const DamagedRecord& damage) {
      const fs::path damaged = fs::path(dir_) / kDamaged;
      fs::create_directories(damaged);
      fs::path target = damaged / name;
      for (int k = 1; fs::exists(target); ++k) target = damaged / (name + "." + std::to_string(k));
      fs::rename(path, target);
      set_aside.push_back(name + " " + damage.what());
    }
  }
  return set_aside;
}

std::set<int> Checkpoint::finished_cells() const {
  std::set<int> ids;
  for (const auto& [path, batch] : batch_files(dir_)) {
    const auto file = io::File::open_read(path, true);
    for (const auto& name : file.root().children())
      if (const auto id = cell_record_id(name)) ids.insert(*id);
  }
  return ids;
}

std::set<int> Checkpoint::finished_references() const { return numbered_files(dir_, "reference_"); }

long Checkpoint::cells_on_disk() const {
  long cells = 0;
  for (const auto& [path, batch] : batch_files(dir_)) cells += batch.count;
  return cells;
}

void Checkpoint::save_cell(const results::CellResult& cell) {
  queue_.push_back(cell);
  const std::chrono::duration<double> since_write = std::chrono::steady_clock::now() - last_write_end_;
  if (since_write.count() >= compute_per_write * last_write_seconds_) flush();
}

void Checkpoint::flush() {
  if (queue_.empty()) return;
  const auto start = std::chrono::steady_clock::now();
  const int first = std::min_element(queue_.begin(), queue_.end(), [](const auto& a, const auto& b) { return a.id < b.id; })->id;
  const std::string path = dir_ + "/" + batch_file(first, queue_.size());
  io::write_file_atomically(
      path,
      [&](const io::Group& root) {
        for (const auto& cell : queue_) root.write_bytes_dataset(io::cell_name(cell.id), io::encode_cell(cell));
      },
      true, true);
  queue_.clear();
  last_write_end_ = std::chrono::steady_clock::now();
  last_write_seconds_ = std::chrono::duration<double>(last_write_end_ - start).count();
  count_write(path, start);
}

void Checkpoint::count_write(const std::string& path, std::chrono::steady_clock::time_point start) {
  writing_seconds_ += std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  written_bytes_ += static_cast<double>(fs::file_size(path));
}

bool Checkpoint::worth_keeping(double solve_seconds, double bytes) const {
  return written_bytes_ == 0 || solve_seconds >= compute_per_write * bytes * (writing_seconds_ / written_bytes_);
}

void Checkpoint::save_reference(int group, const results::ReferenceRecord& ref, const ReferenceStates& states) {
  double bytes = sizeof(double);
  for (auto extent : states.shape) bytes *= static_cast<double>(extent);
  if (states.data && worth_keeping(ref.wall_time, bytes)) {
    const auto start = std::chrono::steady_clock::now();
    const std::string path = dir_ + "/" + states_file(group);
    io::write_file_atomically(
        path,
        [&](const io::Group& root) {
          io::write_reference(root, ref);
          only_record(root).write_dataset(kStates, states.data,
                                          std::vector<hsize_t>(states.shape.begin(), states.shape.end()));
        },
        true);
    count_write(path, start);
  }
  io::write_file_atomically(
      dir_ + "/" + reference_file(group), [&](const io::Group& root) { io::write_reference(root, ref); }, true);
}

bool Checkpoint::load_reference_states(int group, const Experiment& e, const Plan& plan, results::ReferenceRecord& record,
                                       double* states, size_t count) const {
  const std::string path = dir_ + "/" + states_file(group);
  if (!fs::exists(path)) return false;
  const auto file = open_record_file(path);
  return reading([&] {
    record = read_reference_record(file.root(), group, e, plan);
    const io::Group g = only_record(file.root());
    const std::vector<hsize_t> shape{static_cast<hsize_t>(record.times), static_cast<hsize_t>(e.samples),
                                     static_cast<hsize_t>(e.models[plan.groups[group].model].dim)};
    if (g.dataset_shape(kStates) != shape || shape[0] * shape[1] * shape[2] != count)
      throw DamagedRecord("holds states of the wrong shape");
    g.read_dataset(kStates, states, count);
    return true;
  });
}

std::vector<results::CellResult> Checkpoint::load_cells(const Experiment& e, const Plan& plan) const {
  std::vector<std::optional<results::CellResult>> by_id(plan.cells.size());
  for (const auto& [path, batch] : batch_files(dir_))
    for (auto& c : load_record(
             path, path, [&](const io::Group& root) { return read_cell_batch(root, batch, e, plan); }, true)) {
      if (by_id[c.id]) throw std::runtime_error(path + " holds cell " + std::to_string(c.id) + ", which another file holds");
      by_id[c.id] = std::move(c);
    }
  std::vector<results::CellResult> cells;
  for (const auto& c : plan.cells) {
    if (!by_id[c.id])
      throw std::runtime_error("the checkpoint lacks cell " + std::to_string(c.id) + " (" + describe(e, c) + ") in " + dir_);
    cells.push_back(std::move(*by_id[c.id]));
  }
  return cells;
}

std::vector<results::ReferenceRecord> Checkpoint::load_references(const Experiment& e, const Plan& plan) const {
  std::vector<results::ReferenceRecord> refs;
  for (int g = 0; g < static_cast<int>(plan.groups.size()); ++g)
    refs.push_back(load_record(dir_ + "/" + reference_file(g), "the reference of " + describe(e, plan.groups[g]),
                               [&](const io::Group& root) { return read_reference_record(root, g, e, plan); }));
  return refs;
}

double Checkpoint::bytes_on_disk(const std::string& out) { return directory_bytes(directory_for(out)); }

void Checkpoint::remove() const { remove_directory(dir_); }

void Checkpoint::discard(const std::string& out) {
  if (fs::exists(directory_for(out))) remove_directory(directory_for(out));
}

void Checkpoint::remove_stale(const std::string& out) {
  const fs::path dir = fs::absolute(directory_for(out));
  const std::string stale_prefix = dir.filename().string() + ".tmp.";
  for (const auto& entry : fs::directory_iterator(dir.parent_path()))
    if (entry.path().filename().string().rfind(stale_prefix, 0) == 0) fs::remove_all(entry.path());
}

}  // namespace pfode::sweep
