// The results schema: what a sweep measures per cell (errors, NFE, grid, status, timing), per
// reference solve and per series of NFE budgets (fitted orders), and the schedules it ran. Plain
// host data: the sweep fills it (sweep/), io/ writes and reads it; neither owns it.
#pragma once

#include <limits>
#include <string>
#include <vector>

#include "metrics/order_fit.hpp"
#include "metrics/statistics.hpp"
#include "metrics/weak_error.hpp"
#include "schedule/schedule.hpp"

namespace pfode::results {

struct CellResult {
  int id = 0;
  std::string model, schedule, spacing, solver;
  std::string options;       // the solver options in effect, "key=value,..." (defaults included)
  long nfe_budget = 0, steps = 0, seed = 0, samples = 0;
  long order_theory = 0;      // GTE order the options in effect should give
  long lte_order_theory = 0;  // LTE order of a typical step (local order + 1)
  long nfe = 0;              // model evaluations per sample, as counted by the model (max over samples)
  double nfe_mean = 0;       // mean over samples (differs from nfe only for adaptive solvers)
  bool nfe_uniform = true;   // every sample spent the same NFE
  double steps_accepted_mean = 0, steps_rejected_mean = 0;  // adaptive solvers (steps = 1 for them)
  std::string status;        // "ok", "diverged" (fixed grid), "step_control_failed" (adaptive)
  double reference_error = 0;  // the reference's error estimate for this cell's group
  bool near_floor = false;     // GTE RMS within 10x of reference_error
  std::string layout;  // how the kernel ran: "packs" or "teams" ("samples": an adaptive solver in an older file)
  double wall_time = 0;      // seconds: trajectory kernel
  double lte_wall_time = 0;  // seconds: the LTE kernel
  std::vector<double> t, lambda;           // grid, N + 1
  std::vector<double> gte;                 // per sample: RMS over coordinates of x_N - x*(t_N)
  std::vector<double> gte_relative;        // per sample: gte / RMS of x*(t_N)
  metrics::SampleSummary gte_summary, gte_relative_summary;
  std::vector<double> error_rms, error_max, error_median;  // global error along the grid, N + 1
  std::vector<double> lte_rms, lte_max, lte_median;        // per step, N (empty when not measured)
  // Median over steps of lte_rms: the LTE summary the order fit uses (NaN where no LTE was
  // measured: adaptive solvers, run.lte = false).
  double lte_step_median = std::numeric_limits<double>::quiet_NaN();
  // What the GTE measures against: "grid_end" (x*(t_N)) or "zero" (x*(0): a final=denoise cell
  // under run.denoise_target = zero, its final state D at alpha = 1).
  std::string gte_target = "grid_end";
  // run.save_states: the saved samples (indices), their final states and targets (rows of
  // state_dim values), and with `grid` x and x* at every grid point (sample, point, coordinate).
  std::vector<int> saved_samples;
  int state_dim = 0;
  std::vector<double> final_state, exact_final_state, states, exact_states;

  // Stochastic samplers (gte_target = "sde_reference"): the GTE fields hold the strong error, x_N
  // against the same SDE on the same Brownian path solved by the same sampler with every step split
  // into `refinement` steps (reference_error: its own error, estimated from a second solve at half
  // the refinement); samplers without a strong order have no reference (gte_target = "none").
  long strong_order_theory = 0, weak_order_theory = 0;
  long refinement = 0;
  long brownian_depth = 0;      // the path's tree depth (0: deterministic solver)
  double reference_wall_time = 0;
  // Weak error (run.weak_samples > 0; metrics/weak_error.hpp): the law of weak_samples final states
  // against the exact p(x) at weak_target_s (with alpha weak_target_alpha).
  long weak_samples = 0, mmd_samples = 0, mmd_block = 0;
  double weak_target_s = std::numeric_limits<double>::quiet_NaN();
  double weak_target_alpha = std::numeric_limits<double>::quiet_NaN();
  double mmd_bandwidth = std::numeric_limits<double>::quiet_NaN();
  metrics::WeakEstimate weak_mean, weak_covariance, weak_mmd;
  double weak_wall_time = 0;
  // The trace of sample 0: each step's order and corrector flag (fixed-grid solvers; N each), and
  // the s and t of each of its model evaluations, in the order they were made.
  std::vector<int> step_order, step_corrected;
  std::vector<double> eval_s, eval_t;
  // An imperfect model (DESIGN.md section 4): gte above is the discretisation error, against the
  // model's own PF-ODE; the total error is against the exact PF-ODE from the same start; the model
  // error is the distance between the two references, the denoiser error |D_model - D_exact| on
  // the model's reference trajectory. Empty / NaN for an exact model.
  std::vector<double> total_error;  // per sample: RMS over coordinates of x_N - x*_exact(t_N)
  metrics::SampleSummary total_summary;
  std::vector<double> model_error_rms;     // along the grid (N + 1): RMS over samples, in x
  std::vector<double> denoiser_error_rms;  // along the grid (N + 1): RMS over samples, in x0 units
  bool split() const { return !total_error.empty(); }
};

struct ReferenceRecord {
  std::string model, schedule;
  long seed = 0, times = 0;
  double tolerance = 0, nfe_mean = 0, error_estimate = 0;
  long error_estimate_samples = 0;  // the samples solved again for it: reference::error_estimate_samples
  std::string step_control = "sample";  // DOP853 steps per sample, or shared by packs of 16 ("pack")
  std::string layout = "packs";         // how the kernel ran: "packs" or "teams" (own steps only)
  double exact_error = -1;  // RMS error against the closed form (Gaussian models; -1 otherwise)
  double s_zero = 0;        // continued to s = 0: the s (~1e-8 min std) whose state is y*(0); else 0
  long nfe_max = 0, failed_samples = 0;
  double steps_accepted_mean = 0, steps_rejected_mean = 0;  // DOP853 steps per sample (tight solve)
  double wall_time = 0;
  // An imperfect model: the exact model's reference from the same start states (else -1 and 0).
  double exact_model_error_estimate = -1, exact_model_nfe_mean = 0;
};

// A convergence series: one (model, schedule, spacing, solver, seed) over the NFE budgets that
// give the same theoretical order.
struct SeriesFit {
  std::string model, schedule, spacing, solver;
  long seed = 0, order_theory = 0, lte_order_theory = 0;
  std::vector<int> cells;     // ids, by increasing NFE
  std::vector<double> nfe;    // mean NFE per sample of each cell
  metrics::OrderFit gte, gte_median, lte;
  // How the grid's largest step in lambda shrinks over the GTE fit's cells: -slope of its log
  // against log NFE. 1 where every step shrinks like 1/NFE; well below 1 where a step stays long
  // (uniform-t's last step on VP), and the fitted orders are then pre-asymptotic. NaN without a
  // GTE fit or where the grid does not refine with the NFE (adaptive solvers step on their own).
  double lambda_step_order = std::numeric_limits<double>::quiet_NaN();
  // Weak orders (cells with a weak error): fitted over the cells whose bias is resolved
  // (WeakEstimate::significant).
  long weak_order_theory = 0;
  metrics::OrderFit weak_mean, weak_covariance, weak_mmd;
  // An imperfect model: the total error's fit, the model error at t_N (the largest NFE's) and the
  // NFE from which on the discretisation error (gte RMS) stays below the model error: more steps
  // no longer pay (NaN where it never does, or for an exact model).
  metrics::OrderFit total;
  double model_error = std::numeric_limits<double>::quiet_NaN();
  double crossover_nfe = std::numeric_limits<double>::quiet_NaN();
};

// A noise schedule as a run used it: its name and the schedule with its parameters and t range.
struct ScheduleEntry {
  std::string name;
  schedule::Schedule schedule;
};

}  // namespace pfode::results
