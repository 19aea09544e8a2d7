// Spreading a sweep's cells over MPI ranks (when pfode is built with MPI): cells are assigned by
// estimated cost, largest first to the least-loaded rank (deterministic, so every rank computes
// the same assignment without communication). Each rank writes its finished cells into the
// shared checkpoint directory; the first rank assembles the file. Without MPI there is one rank.
#pragma once

#include <set>

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

 private:
  int rank_ = 0, size_ = 1;
  bool initialised_ = false;
};

// Model evaluations x coordinates x components: proportional to a cell's compute time.
double estimated_cost(const Experiment& e, const Cell& cell);

// The cells rank `rank` of `size` computes, out of those not yet finished.
std::set<int> cells_for_rank(const Experiment& e, const Plan& plan, const std::set<int>& finished, int rank, int size);

}  // namespace pfode::sweep
