// The HDF5 results file (layout in README.md, "Output"): provenance and resolved config at the
// root, then /models, /references, /cells and /series. Written to a temporary file and renamed
// into place, so a reader never sees a half-written result and a failed run leaves nothing.
#pragma once

#include <string>
#include <vector>

#include "io/hdf5.hpp"
#include "io/provenance.hpp"
#include "model/model_spec.hpp"
#include "results/records.hpp"

namespace pfode::io {

struct RunRecord {
  Provenance provenance;
  // pfode score: the runs file scored and the problem file (with its id) its runs were sampled on;
  // empty for pfode run. Written as root attributes only when set.
  std::string external_runs, problem_file, problem_id;
  std::string resolved_config;
  std::vector<model::ModelSpec> models;
  std::vector<results::ScheduleEntry> schedules;
  std::vector<results::ReferenceRecord> references;
  std::vector<results::CellResult> cells;  // by id
  std::vector<results::SeriesFit> series;
};

// /models/<name> and /schedules/<name>: the model's parameters and the schedule's kind, range and
// parameters, as the results and problem files both record them. The readers validate what they
// read (model::make_model, schedule::make_schedule) and throw std::invalid_argument naming it.
// A guided model also records the class of each of the run's `samples` samples for each run seed.
void write_model(const Group& parent, const model::ModelSpec& model, int samples = 0,
                 const std::vector<long>& seeds = {});
model::ModelSpec read_model(const Group& parent, const std::string& name);
void write_schedule(const Group& parent, const results::ScheduleEntry& entry);
results::ScheduleEntry read_schedule(const Group& parent, const std::string& name);

// A cell's record name, "%06d" of its id: in the results file and in a checkpoint batch.
std::string cell_name(int id);
void write_cell(const Group& parent, const results::CellResult& cell);
results::CellResult read_cell(const Group& group);
// A cell as one byte string and back (the checkpoint's compact record; the same fields as
// write_cell). decode_cell throws std::runtime_error for bytes that are not one whole record.
std::vector<unsigned char> encode_cell(const results::CellResult& cell);
results::CellResult decode_cell(const unsigned char* bytes, size_t size);
void write_reference(const Group& parent, const results::ReferenceRecord& ref);
results::ReferenceRecord read_reference(const Group& group);

// Writes the whole file atomically (temporary next to `path`, then rename).
void write_results_file(const std::string& path, const RunRecord& record);

// Fails with std::invalid_argument when `path` exists (unless overwrite) or its directory is not
// writable, before any compute is spent.
void check_output_path(const std::string& path, bool overwrite);

}  // namespace pfode::io
