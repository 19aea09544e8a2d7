// Resumable output: while a sweep runs, finished cells are written in batches, each batch one
// small HDF5 file in <out>.partial/ (cells_<its smallest cell id>+<its number of cells>.h5; each
// cell one dataset of bytes, io::encode_cell, rather than ~50 HDF5 objects), and
// every reference solve as its own file; each written to a temporary name, then renamed, so a kill
// at any moment leaves either the whole file or none. Each file carries a checksum of all its
// bytes (io::write_file_atomically), checked before anything in it is read; each record in it is
// then checked to be one its name and the plan say (read_cell_record, read_reference_record).
// `pfode run --resume` first validates every file so, sets aside what is damaged or foreign into
// <out>.partial/damaged/, and computes only what is missing. The results file is assembled from
// these files only when every planned record is present and valid, so a resumed run and an
// uninterrupted one produce the same content. MPI ranks share the directory, each writing its own
// batches.
//
// When a batch is written (save_cell): the first cell at once, then whenever the time since the
// last write has reached compute_per_write (20) times what that write took, and the rest by
// flush() at the end of the run or when it fails. Writing thus costs at most ~1/20 of the run
// whatever the cell size (one file per cell cost 37-57 % of sweeps of small cells), and a kill
// loses at most the cells finished in the last 20 write times, besides the cell in flight:
// --resume computes them again, bit for bit.
#pragma once

#include <chrono>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

#include "io/hdf5.hpp"
#include "results/records.hpp"
#include "sweep/plan.hpp"
#include "sweep/runner.hpp"

namespace pfode::sweep {

// A stored record that cannot be used: its file's checksum does not hold, it is not the record
// its name says, or not one of this plan. what() says which, to follow the file's name.
class DamagedRecord : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Validates one stored record against the plan and returns it: the record `name` of `batch` (the
// root of a batch file whose checksum holds; one dataset of io::encode_cell's bytes) must be the
// plan's cell `id`, and `parent` (the root of such a file) must hold exactly
// one record, the reference of group `group`; each with the plan's identity (labels, options,
// budget, steps, seed, samples, grid; model, schedule, seed, tolerance, times) and array lengths.
// Throws DamagedRecord otherwise.
results::CellResult read_cell_record(const io::Group& batch, const std::string& name, int id, const Experiment& e,
                                     const Plan& plan);
results::ReferenceRecord read_reference_record(const io::Group& parent, int group, const Experiment& e, const Plan& plan);

class Checkpoint {
 public:
  static std::string directory_for(const std::string& out) { return out + ".partial"; }

  // Opens the directory of `out`'s checkpoint. A fresh run creates it; an existing one is used
  // only with `resume` and only if it was made with the same `identity` (Experiment's
  // checkpoint_identity; else std::invalid_argument). `create` false only opens (ranks other
  // than the first).
  Checkpoint(const std::string& out, const std::string& identity, bool resume, bool create = true);

  bool existed() const { return existed_; }

  // Checks every file against the plan (first rank, before a resume computes anything). A
  // damaged or foreign file is moved into damaged/, so its record is computed again; the result
  // names each one with the reason, one line per file.
  std::vector<std::string> validate(const Experiment& e, const Plan& plan) const;

  std::set<int> finished_cells() const;       // ids in a batch file (validated by validate())
  std::set<int> finished_references() const;  // group indices with a file
  // Cells in batch files, from the files' names only: safe while another thread writes.
  long cells_on_disk() const;

  // Queues a finished cell and writes the queue as one batch when it is due (above).
  void save_cell(const results::CellResult& cell);
  // Queues a cell without writing anything (save_cell less its rule).
  void queue_cell(const results::CellResult& cell) { queue_.push_back(cell); }
  // Writes the queued cells as one batch file (none when nothing is queued). On failure they stay
  // queued.
  void flush();
  static constexpr double compute_per_write = 20;
  double last_write_seconds() const { return last_write_seconds_; }

  // Writes the record and, when worth_keeping, the states; `states` empty: the record only (a
  // resume then solves the reference again).
  void save_reference(int group, const results::ReferenceRecord& ref, const ReferenceStates& states = {});
  // Whether states of `bytes` that took `solve_seconds` to compute are worth writing: writing them is
  // expected to take at most 1/compute_per_write of that, at the rate (seconds per byte) of this
  // checkpoint's earlier writes. Before any write: yes (the first is written, as the first cell is).
  bool worth_keeping(double solve_seconds, double bytes) const;
  // The record and states of `group`'s reference into `states` (times x samples x dim doubles)
  // when the checkpoint holds them; false when it does not. Throws DamagedRecord when they are
  // stored but damaged (validate() does not read them: they can be large).
  bool load_reference_states(int group, const Experiment& e, const Plan& plan, results::ReferenceRecord& record,
                             double* states, size_t count) const;
  // Every planned record, validated: throws std::runtime_error naming the first that is missing
  // or damaged.
  std::vector<results::CellResult> load_cells(const Experiment& e, const Plan& plan) const;        // by id
  std::vector<results::ReferenceRecord> load_references(const Experiment& e, const Plan& plan) const;  // by group
  // Bytes the checkpoint of `out` holds on disk (0 when there is none).
  static double bytes_on_disk(const std::string& out);
  void remove() const;

  // Removes the checkpoint of `out` if there is one (a fresh start with --force).
  static void discard(const std::string& out);
  // Removes what runs killed while setting up or removing `out`'s checkpoint left beside it
  // (<out>.partial.tmp.<pid>/). Only with the output's lock held: no live run owns them then.
  static void remove_stale(const std::string& out);

 private:
  std::string dir_;
  bool existed_ = false;
  std::vector<results::CellResult> queue_;
  std::chrono::steady_clock::time_point last_write_end_;
  double last_write_seconds_ = 0;  // 0: no batch written yet, so the first is due at once
  double written_bytes_ = 0, writing_seconds_ = 0;  // all batch and states files written so far
  void count_write(const std::string& path, std::chrono::steady_clock::time_point start);
};

}  // namespace pfode::sweep
