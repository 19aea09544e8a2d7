// Resumable output: while a sweep runs, every finished cell and reference solve is written as
// its own small HDF5 file into <out>.partial/ (written to a temporary name, then renamed, so a
// kill at any moment leaves either the whole file or none). `pfode run --resume` computes only
// the cells missing there; the final file is always assembled from these files, so a resumed
// run and an uninterrupted one produce the same content. MPI ranks share the directory.
#pragma once

#include <set>
#include <string>
#include <vector>

#include "results/records.hpp"

namespace pfode::sweep {

class Checkpoint {
 public:
  static std::string directory_for(const std::string& out) { return out + ".partial"; }

  // Opens the directory of `out`'s checkpoint. A fresh run creates it; an existing one is used
  // only with `resume` and only if it was made with the same `identity` (Experiment's
  // checkpoint_identity; else std::invalid_argument). `create` false only opens (ranks other
  // than the first).
  Checkpoint(const std::string& out, const std::string& identity, bool resume, bool create = true);

  bool existed() const { return existed_; }
  std::set<int> finished_cells() const;
  void save_cell(const results::CellResult& cell) const;
  void save_reference(int group, const results::ReferenceRecord& ref) const;
  std::vector<results::CellResult> load_cells() const;            // by id
  std::vector<results::ReferenceRecord> load_references() const;  // by group index
  void remove() const;

  // Removes the checkpoint of `out` if there is one (a fresh start with --force).
  static void discard(const std::string& out);

 private:
  std::string dir_;
  bool existed_ = false;
};

}  // namespace pfode::sweep
