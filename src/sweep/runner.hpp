// Runs a plan: per (model, schedule, seed) group the start states and one reference solve at the
// union of the group's grid times, then every cell's trajectory and LTE on the device. The group
// reference and the cell statistics are exposed: scoring external runs (src/external) uses them.
#pragma once

#include <functional>
#include <set>
#include <stdexcept>
#include <vector>

#include "reference/reference.hpp"
#include "results/records.hpp"
#include "sweep/plan.hpp"

namespace pfode::sweep {

// A reference's states y, time-major on the host: (time, sample, coordinate), row-major.
struct ReferenceStates {
  const double* data = nullptr;
  std::vector<unsigned long long> shape;
};

struct RunCallbacks {
  std::function<void(const results::CellResult&)> cell_done;  // after each cell (writing, progress)
  // After each reference solve; `states` is empty unless keep_reference_states and a later group
  // follows in this run.
  std::function<void(int group, const results::ReferenceRecord&, const ReferenceStates& states)> reference_done;
  bool keep_reference_states = false;
  // A group's reference kept by an earlier run: fills `record` and `states` (times x samples x dim
  // doubles, row-major) and returns true, or returns false to have it solved.
  std::function<bool(int group, results::ReferenceRecord& record, double* states, size_t count)> stored_reference;
};

// A reference solve that failed: the same config fails the same way, so only a changed config
// (model, schedule, tolerance) can go on.
class ReferenceFailed : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Thrown on a rank that stops because another rank failed: that rank reports its error.
class OtherRankFailed : public std::runtime_error {
 public:
  OtherRankFailed() : std::runtime_error("another rank failed") {}
};

// Several MPI ranks running one plan: each reference is solved once, by all ranks together
// (reference::SampleSplit), or read from the checkpoint, and all ranks take the same path. Every
// rank goes through the same groups (run_plan's solve_groups, the same on every rank) and makes
// the same calls in the same order.
struct SharedReferences {
  int rank = 0, ranks = 1;
  std::function<void(double* data, size_t count, int root)> broadcast;  // Ranks::broadcast
  // The smallest of `value` over the ranks (Ranks::minimum). A rank that fails leaves run_plan and
  // answers 0 from outside (its Ranks::all(false)); the others then throw OtherRankFailed.
  std::function<int(int value)> minimum;
  // Where set (CellClaims::shared), the ranks draw each group's cells in turn: claim(g) is this
  // rank's next position in the group's list of cells left, ordered by sort_by_cost, and the
  // rank computes cells until it draws past the end. Else each rank runs the cells not skipped.
  std::function<long(int group)> claim;
  // Where set (SharedStates): memory the ranks share for the states of a group's references
  // (reference::SampleSplit::shared_rows; minimum() then makes each rank's writes visible to all),
  // and reuse_rows(), called once every rank has come to the next group, frees it for that group's.
  std::function<double*(size_t count)> shared_rows;
  std::function<void()> reuse_rows;
  // Where that memory is per node, on several nodes: reference::SampleSplit's node_role and
  // broadcast_between_nodes.
  std::function<reference::SampleSplit::NodeRole(int root)> node_role;
  std::function<void(double* data, size_t count, int root)> broadcast_between_nodes;
};

// Runs the cells of `plan` whose ids are not in `skip` (already finished, e.g. on resume, or another
// rank's), each group's reference first: read through callbacks.stored_reference when it is kept
// (and every rank with cells in the group can read it), else solved. A group whose cells are all
// skipped is gone through only when listed in `solve_groups`: then its reference is solved (its
// record is missing) or, with `shared`, solved or read together with the other ranks.
void run_plan(const Experiment& e, const Plan& plan, const std::set<int>& skip, const RunCallbacks& callbacks,
              const std::set<int>& solve_groups = {}, const SharedReferences* shared = nullptr);

// Turns one solver run into a cell result (statistics, status, floor flag); exposed for tests.
results::CellResult make_cell_result(const Experiment& e, const Cell& cell);

// How the references are solved (run.reference_tolerance, run.reference_step, run.layout).
struct ReferenceSettings {
  double tolerance = 1e-13;
  bool pack_step = false;
  lane::KernelLayout::Kind layout = lane::auto_layout();
  // Continue the solve to s = 0 (run.denoise_target = zero): the reference's last state is y*(0).
  bool to_zero = false;
};
ReferenceSettings reference_settings(const Experiment& e);
// The settings of one group's reference (to_zero where it has final=denoise cells to measure at 0).
ReferenceSettings reference_settings(const Experiment& e, const Plan& plan, const CellGroup& group);
// How many states a group's reference holds per sample: its times, and y*(0) when continued.
long reference_outputs(const Experiment& e, const Plan& plan, const CellGroup& group);

// The reference of one (model, schedule, seed) group: one DOP853 solve through every time the
// group's runs need, from the group's start states. For an imperfect model (ModelSpec::is_exact()
// false) also the exact model's solve from the same start states through the same times, and the
// two references' difference: the model error and the denoiser error along the model's reference.
struct GroupReference {
  std::vector<double> times;              // the union, by decreasing t; times[0] is the start
  reference::ReferenceSolution solution;  // y at each of `times`: the model's own PF-ODE
  results::ReferenceRecord record;
  int zero = -1;  // the position of y*(0) in solution.y (after `times`), or -1 when not continued
  // Imperfect models only (else empty): the exact PF-ODE at `times`, and per (sample, time),
  // samples x times row-major, the RMS over coordinates of alpha (y_model - y_exact) (model error,
  // in x) and of D_model(y_model, s) - D_exact(y_model, s) (denoiser error).
  reference::ReferenceSolution exact;
  std::vector<double> model_error, denoiser_error;
  bool split() const { return !model_error.empty(); }
  // The position in `times` of each of run_times (each must be one of them).
  std::vector<int> indices(const std::vector<double>& run_times) const;
};

// y_start: samples x dim (row-major) canonical start states at the largest of `times`.
GroupReference solve_group_reference(const model::ModelSpec& spec, const results::ScheduleEntry& schedule, long seed,
                                     const std::vector<double>& y_start, std::vector<double> times,
                                     const ReferenceSettings& settings, const reference::SampleSplit& split = {});

// The error fields of a cell from each sample's RMS error at each of its points (global_error:
// samples x points, row-major; the last point is the final state) and the RMS of each sample's
// exact final state: the GTE and its summaries, the global error along the points, the status
// (a non-finite GTE: "diverged", or "step_control_failed" for an adaptive solver), the
// reference's error and near_floor.
void set_global_errors(results::CellResult& r, const std::vector<double>& global_error,
                       const std::vector<double>& exact_final_rms, int samples, int points, double reference_error,
                       bool adaptive);

// The error split of a cell of an imperfect model (DESIGN.md section 4), from the group reference
// (split()): final_state (samples x dim, x_N) against alpha_N y_exact at the cell's last time (the
// total error), and the group's model and denoiser errors at the cell's times (`index`, positions
// in reference.times). The cell's GTE, against the model's own reference, is the discretisation error.
void set_error_split(results::CellResult& r, const GroupReference& reference, const std::vector<int>& index,
                     const std::vector<double>& final_state, double alpha_final, int samples);

}  // namespace pfode::sweep
