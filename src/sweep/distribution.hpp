// Spreading a sweep over MPI ranks (when pfode is built with MPI): cells are assigned by
// estimated cost, largest first to the least-loaded rank (deterministic, so every rank computes
// the same assignment without communication). Each reference is solved once, by all ranks
// together, each integrating an even share of its samples (reference::SampleSplit, through
// Ranks::broadcast). Each rank writes its finished cells into the shared checkpoint directory;
// the first rank assembles the file. Without MPI there is one rank.
#pragma once

#include <set>
#include <stdexcept>
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
  bool all(bool ok) const;
  // buffer (the same size on every rank) <- root's buffer.
  void broadcast(std::vector<double>& buffer, int root) const;

 private:
  int rank_ = 0, size_ = 1;
  bool initialised_ = false;
};

// Thrown on a rank that stops because another rank failed: that rank reports the error (and has
// already taken part in the one Ranks::all that tells the others).
struct OtherRankFailed : std::runtime_error {
  OtherRankFailed() : std::runtime_error("another rank failed") {}
};

// Model evaluations x coordinates x components: proportional to a cell's compute time.
double estimated_cost(const Experiment& e, const Cell& cell);

// The cells rank `rank` of `size` computes, out of those not yet finished.
std::set<int> cells_for_rank(const Experiment& e, const Plan& plan, const std::set<int>& finished, int rank, int size);

}  // namespace pfode::sweep
