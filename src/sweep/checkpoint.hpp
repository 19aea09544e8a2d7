// Resumable output: while a sweep runs, every finished cell and reference solve is written as
// its own small HDF5 file into <out>.partial/ (written to a temporary name, then renamed, so a
// kill at any moment leaves either the whole file or none). Each file carries a checksum of all
// its bytes (io::write_file_atomically), checked before anything in it is read; each record in it
// is then checked to be the one its name and the plan say (read_cell_record,
// read_reference_record). `pfode run --resume` first validates every file so, sets aside what is
// damaged or foreign into <out>.partial/damaged/, and computes only what is missing. The results
// file is assembled from these files only when every planned record is present and valid, so a
// resumed run and an uninterrupted one produce the same content. MPI ranks share the directory.
#pragma once

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

// Validates one stored record against the plan and returns it: `parent` (the root of a file whose
// checksum holds) must hold exactly one record, the plan's cell `id` (reference of group
// `group`), whose identity (labels, options, budget, steps, seed, samples, grid; model, schedule,
// seed, tolerance, times) and array lengths are the plan's. Throws DamagedRecord otherwise.
results::CellResult read_cell_record(const io::Group& parent, int id, const Experiment& e, const Plan& plan);
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

  std::set<int> finished_cells() const;       // ids with a file (validated by validate())
  std::set<int> finished_references() const;  // group indices with a file
  void save_cell(const results::CellResult& cell) const;
  // `states` empty: the record only (a resume then solves the reference again).
  void save_reference(int group, const results::ReferenceRecord& ref, const ReferenceStates& states = {}) const;
  // The record and states of `group`'s reference into `states` (samples x times x dim doubles)
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
};

}  // namespace pfode::sweep
