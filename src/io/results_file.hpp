// The HDF5 results file (layout in README.md, "Output"): provenance and resolved config at the
// root, then /models, /references, /cells and /series. Written to a temporary file and renamed
// into place, so a reader never sees a half-written result and a failed run leaves nothing.
#pragma once

#include <string>
#include <vector>

#include "io/hdf5.hpp"
#include "io/provenance.hpp"
#include "sweep/experiment.hpp"
#include "sweep/results.hpp"

namespace pfode::io {

struct RunRecord {
  Provenance provenance;
  std::string resolved_config;
  std::vector<model::ModelSpec> models;
  std::vector<sweep::ScheduleEntry> schedules;
  std::vector<sweep::ReferenceRecord> references;
  std::vector<sweep::CellResult> cells;  // by id
  std::vector<sweep::SeriesFit> series;
};

void write_cell(const Group& parent, const sweep::CellResult& cell);
sweep::CellResult read_cell(const Group& group);
void write_reference(const Group& parent, const sweep::ReferenceRecord& ref);
sweep::ReferenceRecord read_reference(const Group& group);

// Writes the whole file atomically (temporary next to `path`, then rename).
void write_results_file(const std::string& path, const RunRecord& record);

// Fails with std::invalid_argument when `path` exists (unless overwrite) or its directory is not
// writable, before any compute is spent.
void check_output_path(const std::string& path, bool overwrite);

}  // namespace pfode::io
