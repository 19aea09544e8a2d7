// Resumable output: while a sweep runs, finished cells are written in batches, each batch as one
// small HDF5 file in <out>.partial/ (cells_<id of its first cell>.h5), and every reference solve as
// its own file; each written to a temporary name, then renamed, so a kill at any moment leaves
// either the whole file or none. `pfode run --resume` computes only the cells missing there; the
// final file is always assembled from these files, so a resumed run and an uninterrupted one
// produce the same content. MPI ranks share the directory.
//
// A batch is written once the compute since the last write has taken at least 20 times as long as
// that write did (the first cell at once): checkpointing then costs at most ~5 % of the run
// whatever the cell size (one file per cell was 37-57 % of small sweeps), and a kill loses at most
// that much compute, which --resume recomputes, bit for bit.
#pragma once

#include <chrono>
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
  // Queues a finished cell; writes the queue when it is due (above). flush() writes what is left.
  void save_cell(const results::CellResult& cell);
  void flush();
  void save_reference(int group, const results::ReferenceRecord& ref) const;
  std::vector<results::CellResult> load_cells() const;            // by id
  std::vector<results::ReferenceRecord> load_references() const;  // by group index
  void remove() const;

  // Removes the checkpoint of `out` if there is one (a fresh start with --force).
  static void discard(const std::string& out);

 private:
  std::string dir_;
  bool existed_ = false;
  std::vector<results::CellResult> queue_;
  std::chrono::steady_clock::time_point last_write_end_ = std::chrono::steady_clock::now();
  double last_write_seconds_ = 0.0;
};

}  // namespace pfode::sweep
