// Spreading a sweep over MPI ranks (when pfode is built with MPI). Each reference is solved once,
// by all ranks together, each integrating an even share of its samples (reference::SampleSplit,
// through Ranks::broadcast). The cells are assigned by estimated cost, group by group, largest
// first to the rank least loaded in that group (deterministic, so every rank computes the same
// assignment without communication): the ranks meet at every group's reference, so each group's
// cells are balanced by themselves. Each rank writes its finished cells into the shared checkpoint
// directory; the first rank assembles the file. Without MPI there is one rank.
#pragma once

#include <cstddef>
#include <set>
#include <vector>

#include "sweep/plan.hpp"

namespace pfode::sweep {

class Ranks {
 public:
  Ranks(int* argc, char*** argv);  // MPI_Init when built with MPI and started by an MPI launcher
  ~Ranks();                        // MPI_Finalize
  Ranks(const Ranks&) = delete;
  Ranks& operator=(const Ranks&) = delete;

  int rank() const { return rank_; }
  int size() const { return size_; }
  bool first() const { return rank_ == 0; }
  void barrier() const;
  // Logical AND over ranks: whether every rank succeeded.
  bool all(bool ok) const { return minimum(ok ? 1 : 0) == 1; }
  // The smallest of `value` over the ranks (all() is this too: the calls match each other).
  int minimum(int value) const;
  // data[0, count) <- root's, on every rank.
  void broadcast(double* data, size_t count, int root) const;
  // buffer <- root's buffer (resized to its size) on every rank.
  void broadcast(std::vector<double>& buffer, int root) const;

 private:
  int rank_ = 0, size_ = 1;
  bool initialised_ = false;
};

// Model evaluations x coordinates x components: proportional to a cell's compute time.
double estimated_cost(const Experiment& e, const Cell& cell);

// The cells rank `rank` of `size` computes, out of those not yet finished: in each group, largest
// first to the rank with the least of that group's cost so far (ties: the least in all groups).
std::set<int> cells_for_rank(const Experiment& e, const Plan& plan, const std::set<int>& finished, int rank, int size);

}  // namespace pfode::sweep
