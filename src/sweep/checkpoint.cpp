#include "sweep/checkpoint.hpp"

#include <unistd.h>

#include <algorithm>
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
const char* kStates = "states";    // dataset of a reference file: y (sample, time, coordinate)

std::string read_text(const fs::path& p) {
  std::ifstream in(p);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// The number in "<prefix><number>.h5", written as std::to_string writes it; nullopt for any other
// name (a stray or hand-made file is not a checkpointed record).
std::optional<int> record_number(const std::string& name, const std::string& prefix) {
  if (name.rfind(prefix, 0) != 0 || name.size() < prefix.size() + 4 || name.compare(name.size() - 3, 3, ".h5") != 0)
    return std::nullopt;
  const std::string digits = name.substr(prefix.size(), name.size() - prefix.size() - 3);
  if (digits.empty() || digits.size() > 9 || digits.find_first_not_of("0123456789") != std::string::npos) return std::nullopt;
  const int number = std::stoi(digits);
  if (std::to_string(number) != digits) return std::nullopt;
  return number;
}

std::string cell_file(int id) { return "cell_" + std::to_string(id) + ".h5"; }
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

// A checkpoint file whose checksum (io::write_file_atomically) holds, open for reading.
io::File open_record_file(const std::string& path) {
  if (!io::checksum_holds(path)) throw DamagedRecord("does not match its checksum (truncated, zeroed, edited or overwritten)");
  try {
    return io::File::open_read(path);
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
auto load_record(const std::string& path, const std::string& what, const Read& read) {
  if (!fs::exists(path)) throw std::runtime_error("the checkpoint lacks " + what + " (" + path + ")");
  try {
    const auto file = open_record_file(path);
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

results::CellResult read_cell_record(const io::Group& parent, int id, const Experiment& e, const Plan& plan) {
  if (id < 0 || id >= static_cast<int>(plan.cells.size()))
    throw DamagedRecord("is not a cell of this plan (it has " + std::to_string(plan.cells.size()) + " cells)");
  const results::CellResult c = reading([&] { return io::read_cell(only_record(parent)); });
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
  for (const auto& path : entries) {
    const std::string name = path.filename().string();
    if (name == kConfigFile || name == kDamaged) continue;
    try {
      const auto cell = record_number(name, "cell_");
      const auto group = record_number(name, "reference_");
      const auto states = record_number(name, "states_");
      if (!cell && !group && !states) throw DamagedRecord("is not a checkpoint file");
      // Out-of-plan numbers first: no need to open what cannot belong to this plan.
      if (cell && *cell >= static_cast<int>(plan.cells.size()))
        throw DamagedRecord("is not a cell of this plan (it has " + std::to_string(plan.cells.size()) + " cells)");
      if (states) {  // large: checked when read (load_reference_states), if ever
        if (*states >= static_cast<int>(plan.groups.size())) throw DamagedRecord("is not a reference of this plan");
        continue;
      }
      const auto file = open_record_file(path.string());
      if (cell) read_cell_record(file.root(), *cell, e, plan);
      else read_reference_record(file.root(), *group, e, plan);
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

std::set<int> Checkpoint::finished_cells() const { return numbered_files(dir_, "cell_"); }
std::set<int> Checkpoint::finished_references() const { return numbered_files(dir_, "reference_"); }

void Checkpoint::save_cell(const results::CellResult& cell) const {
  io::write_file_atomically(
      dir_ + "/" + cell_file(cell.id), [&](const io::Group& root) { io::write_cell(root, cell); }, true);
}

void Checkpoint::save_reference(int group, const results::ReferenceRecord& ref, const ReferenceStates& states) const {
  if (states.data)
    io::write_file_atomically(
        dir_ + "/" + states_file(group),
        [&](const io::Group& root) {
          io::write_reference(root, ref);
          only_record(root).write_dataset(kStates, states.data,
                                          std::vector<hsize_t>(states.shape.begin(), states.shape.end()));
        },
        true);
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
    const std::vector<hsize_t> shape{static_cast<hsize_t>(e.samples), static_cast<hsize_t>(record.times),
                                     static_cast<hsize_t>(e.models[plan.groups[group].model].dim)};
    if (g.dataset_shape(kStates) != shape || shape[0] * shape[1] * shape[2] != count)
      throw DamagedRecord("holds states of the wrong shape");
    g.read_dataset(kStates, states, count);
    return true;
  });
}

std::vector<results::CellResult> Checkpoint::load_cells(const Experiment& e, const Plan& plan) const {
  std::vector<results::CellResult> cells;
  for (const auto& c : plan.cells)
    cells.push_back(load_record(dir_ + "/" + cell_file(c.id), "cell " + std::to_string(c.id) + " (" + describe(e, c) + ")",
                                [&](const io::Group& root) { return read_cell_record(root, c.id, e, plan); }));
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
