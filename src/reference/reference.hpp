// The high-accuracy reference: exact PF-ODE states through each sample's start state at any set
// of requested s = sigma/alpha, by DOP853 in log s (dense output between the ends), with the NFE
// it spent and an estimate of its own error (from a second solve at a looser tolerance for a fixed
// subset of the samples, see reference.cpp).
#pragma once

#include <functional>
#include <utility>
#include <vector>

#include "model/kinds.hpp"
#include "reference/dop853.hpp"
#include "reference/states.hpp"

namespace pfode::reference {

struct ReferenceSolution {
  std::vector<double> s;                // requested s, strictly decreasing; s[0] is the start
  States y;                             // (sample, m, coord) canonical states y = x / alpha
  double nfe_mean = 0.0;                // model evaluations per sample (tight solve)
  long nfe_max = 0;
  // Per sample, of the tight solve: model evaluations, 1 + 12 x (accepted + rejected) steps.
  std::vector<long> nfe, accepted_steps, rejected_steps;
  double error_estimate = 0.0;          // RMS over samples of each sample's largest RMS-over-coords error, in x
  std::vector<int> estimate_samples;    // the samples the estimate solves again (error_estimate_samples)
  double tolerance = 0.0;
  int failed_samples = 0;
};

// The samples, of `samples`, whose second solve gives the error estimate: min(samples, 32) of them,
// evenly spread by index (floor(i samples / n)).
inline constexpr int estimate_sample_count = 32;
std::vector<int> error_estimate_samples(int samples);

// One reference solved by several processes (MPI ranks) together: process `part` of `parts`
// integrates only its share of the samples (sample_share), into memory the processes of its node
// read (shared_rows) or its own copy, whose every share is then sent to all processes; shared
// rows on several nodes get the other nodes' shares, one process per node. So each ends up
// with the whole solution, bit for bit what one process computes: a sample's solution depends on
// no sample outside its pack of pack_step_width, and shares are whole packs. The error estimate's
// small second solve (estimate_sample_count samples) is done by every process. Every process makes
// the same calls in the same order.
struct SampleSplit {
  int part = 0, parts = 1;
  // data[0, count) <- process root's, on every process.
  std::function<void(double* data, size_t count, int root)> broadcast;
  // Called when this process has solved its share, before the first broadcast: throws to stop
  // when another process has failed (and will not broadcast). May be empty without shared_rows.
  std::function<void()> meet;
  // Where set: `count` doubles that every process reads and writes (the processes of one node
  // share them), or null where there are none. Each process then integrates its share into its
  // rows there, meet() makes them visible to all, and no state is broadcast within a node. Only on
  // backends whose states are time-major host memory; the same calls on every process.
  std::function<double*(size_t count)> shared_rows;
  // Where shared_rows are shared by the processes of each of several nodes: what this process does
  // with process root's share of the states, and the broadcast of a share among the processes that
  // fill their node's rows (one per node), from the one on root's node. Then meet() again makes
  // their writes visible to their nodes.
  enum class NodeRole { none, send, receive };
  std::function<NodeRole(int root)> node_role;
  std::function<void(double* data, size_t count, int root)> broadcast_between_nodes;
};

// The samples [first, last) of `samples` that process `part` of `parts` integrates: whole packs of
// pack_step_width, as even as they divide.
std::pair<int, int> sample_share(int samples, int part, int parts);

// x_scale: alpha at each requested time, so that the error estimate is in the schedule's scale
// x = alpha y, as the solvers' errors are (empty: in y).
ReferenceSolution solve_reference(const model::DeviceModel& model, Kokkos::View<const double**> y_start,
                                  const std::vector<double>& s_out, const Dop853Settings& settings = {},
                                  const std::vector<double>& x_scale = {}, const SampleSplit& split = {});

}  // namespace pfode::reference
