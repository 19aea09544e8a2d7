// Spreading a sweep over MPI ranks (when pfode is built with MPI). Each reference is solved once,
// by all ranks together, each integrating an even share of its samples (reference::SampleSplit,
// through Ranks::broadcast). The ranks meet at every group's reference, so each group's cells are
// balanced by themselves. Ranks on one node take a group's cells one at a time, largest estimated
// cost first, from a counter in shared memory (CellClaims): a rank that finishes early takes more,
// whatever the estimate got wrong. Across nodes the cells are assigned beforehand by estimated
// cost, largest first to the rank least loaded in the group (cells_for_rank: deterministic, so
// every rank computes the same assignment without communication). Each rank writes its finished
// cells into the shared checkpoint directory; the first rank assembles the file. A cell's numbers
// do not depend on the rank that computes it. Without MPI there is one rank.
#pragma once

#include <cstddef>
#include <memory>
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
  friend class CellClaims;
};

// One counter per group of cells, on the first rank, that every rank draws from: next(g) gives
// each caller a different position in group g's list of cells, 0, 1, 2, ... over all ranks
// together. Only where every rank runs on one node (shared()): the counters then live in shared
// memory, and a draw waits for no other rank. Elsewhere (several nodes, one rank) next() counts
// for this rank alone, and cells_for_rank assigns the cells. Created and destroyed by all ranks
// together (the destructor meets the other ranks first, asleep, as Ranks::barrier does).
class CellClaims {
 public:
  CellClaims(const Ranks& ranks, int groups);
  ~CellClaims();
  CellClaims(const CellClaims&) = delete;
  CellClaims& operator=(const CellClaims&) = delete;

  bool shared() const { return shared_; }
  long next(int group);

 private:
  const Ranks& ranks_;
  bool shared_ = false;
  std::vector<long> local_;
  struct Window;  // the MPI window of the counters (distribution.cpp: this header needs no mpi.h)
  std::unique_ptr<Window> window_;
};

// Model evaluations x coordinates x components: proportional to a cell's compute time.
double estimated_cost(const Experiment& e, const Cell& cell);

// Largest estimated cost first (ties: by id): the order in which the cells of a group are drawn.
void sort_by_cost(const Experiment& e, const Plan& plan, std::vector<int>& ids);

// The cells rank `rank` of `size` computes, out of those not yet finished: in each group, largest
// first to the rank with the least of that group's cost so far (ties: the least in all groups).
std::set<int> cells_for_rank(const Experiment& e, const Plan& plan, const std::set<int>& finished, int rank, int size);

}  // namespace pfode::sweep
