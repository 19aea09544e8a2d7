#include "sweep/checkpoint.hpp"

#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include "io/hdf5.hpp"
#include "io/results_file.hpp"

namespace pfode::sweep {

namespace fs = std::filesystem;

namespace {

const char* kConfigFile = "config.ini";

std::string read_text(const fs::path& p) {
  std::ifstream in(p);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::vector<std::pair<int, fs::path>> numbered_files(const std::string& dir, const std::string& prefix) {
  std::vector<std::pair<int, fs::path>> out;
  for (const auto& entry : fs::directory_iterator(dir)) {
    const std::string name = entry.path().filename().string();
    if (name.rfind(prefix, 0) != 0 || entry.path().extension() != ".h5") continue;
    // prefix<number>.h5 only: a file someone else put there is not a checkpointed cell.
    const std::string number = entry.path().stem().string().substr(prefix.size());
    if (number.empty() || number.size() > 9 || number.find_first_not_of("0123456789") != std::string::npos) continue;
    out.emplace_back(std::stoi(number), entry.path());
  }
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace

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
    if (!resume)
      throw std::invalid_argument("an interrupted run left '" + dir_ + "'; pass --resume to continue it or --force to start over");
    if (read_text(fs::path(dir_) / kConfigFile) != identity)
      throw std::invalid_argument("'" + dir_ + "' was made from a different config, different input files or another pfode build; pass --force to start over");
    for (const auto& entry : fs::directory_iterator(dir_))  // temporaries of a killed run
      if (entry.path().filename().string().rfind(".", 0) == 0) fs::remove(entry.path());
    return;
  }
  // Set up under a temporary name and rename, so the directory never exists without its config.
  const fs::path parent = fs::absolute(dir_).parent_path();
  const std::string stale_prefix = fs::path(dir_).filename().string() + ".tmp.";
  for (const auto& entry : fs::directory_iterator(parent))  // left by a run killed while setting up
    if (entry.path().filename().string().rfind(stale_prefix, 0) == 0) fs::remove_all(entry.path());
  const std::string tmp = dir_ + ".tmp." + std::to_string(getpid());
  fs::create_directory(tmp);
  std::ofstream(tmp + "/" + kConfigFile) << identity;
  fs::rename(tmp, dir_);
}

std::set<int> Checkpoint::finished_cells() const {
  std::set<int> ids;
  for (const auto& [id, path] : numbered_files(dir_, "cell_")) ids.insert(id);
  return ids;
}

void Checkpoint::save_cell(const results::CellResult& cell) const {
  io::write_file_atomically(dir_ + "/cell_" + std::to_string(cell.id) + ".h5",
                            [&](const io::Group& root) { io::write_cell(root, cell); });
}

void Checkpoint::save_reference(int group, const results::ReferenceRecord& ref) const {
  io::write_file_atomically(dir_ + "/reference_" + std::to_string(group) + ".h5",
                            [&](const io::Group& root) { io::write_reference(root, ref); });
}

std::vector<results::CellResult> Checkpoint::load_cells() const {
  std::vector<results::CellResult> cells;
  for (const auto& [id, path] : numbered_files(dir_, "cell_")) {
    const auto root = io::File::open_read(path.string()).root();
    cells.push_back(io::read_cell(root.open_group(root.children().front())));
  }
  return cells;
}

std::vector<results::ReferenceRecord> Checkpoint::load_references() const {
  std::vector<results::ReferenceRecord> refs;
  for (const auto& [group, path] : numbered_files(dir_, "reference_")) {
    const auto root = io::File::open_read(path.string()).root();
    refs.push_back(io::read_reference(root.open_group(root.children().front())));
  }
  return refs;
}

void Checkpoint::remove() const {
  // Moved out of the way first (one rename), so a kill during the deletion never leaves a
  // checkpoint without its config; the next set-up in this directory deletes the leftover.
  const std::string doomed = dir_ + ".tmp." + std::to_string(getpid());
  fs::rename(dir_, doomed);
  fs::remove_all(doomed);
}

void Checkpoint::discard(const std::string& out) { fs::remove_all(directory_for(out)); }

}  // namespace pfode::sweep
