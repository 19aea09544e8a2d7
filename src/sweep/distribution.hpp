// Spreading a sweep over MPI ranks (when pfode is built with MPI). Each reference is solved once,
// by all ranks together, each integrating an even share of its samples (reference::SampleSplit):
// into memory the ranks of its node share (SharedStates), sent once to each other node, or where
// there is none exchanged through Ranks::broadcast. The ranks meet at every group's reference, so
// each group's cells are balanced by themselves. Ranks on one node take a group's cells one at a
// time, largest estimated cost first, from a counter in shared memory (CellClaims): a rank that
// finishes early takes more, whatever the estimate got wrong. Across nodes the cells are assigned
// beforehand by estimated cost, largest first to the rank least loaded in the group
// (cells_for_rank: deterministic, so every rank computes the same assignment without
// communication). Each rank writes its finished cells into the shared checkpoint directory; the
// first rank assembles the file. A cell's numbers do not depend on the rank that computes it.
// Without MPI there is one rank.
#pragma once

#include <cstddef>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "reference/reference.hpp"
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
  // Whether every rank runs on this node (MPI_COMM_TYPE_SHARED): they can then share memory.
  bool one_node() const { return one_node_; }
  void barrier() const;
  // Logical AND over ranks: whether every rank succeeded.
  bool all(bool ok) const { return minimum(ok ? 1 : 0) == 1; }
  // The smallest of `value` over the ranks (all() is this too: the calls match each other).
  int minimum(int value) const;
  // The lowest rank where `failed` holds, or size() where it holds on none (a minimum() too).
  int first_failing(bool failed) const { return minimum(failed ? rank_ : size_); }
  // data[0, count) <- root's, on every rank.
  void broadcast(double* data, size_t count, int root) const;
  // buffer <- root's buffer (resized to its size) on every rank.
  void broadcast(std::vector<double>& buffer, int root) const;

 private:
  int rank_ = 0, size_ = 1;
  bool initialised_ = false, one_node_ = true;
  friend class CellClaims;
  friend class SharedStates;
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

// Memory for the references' states that every rank of a node reads: an MPI shared-memory window
// per node. Each rank integrates its share of a reference's samples straight into it and reads the
// others' shares there, so a node holds one copy of the states instead of one per rank. On several
// nodes the first rank of each (fills_node) sends its node's shares to the others' and writes
// theirs into its node's window (broadcast_between_nodes): one message per share and node. Only
// where some node runs several ranks and the MPI library gives the windows on every node;
// elsewhere rows() is null, and each rank keeps its own copy, filled by Ranks::broadcast. Created
// and destroyed by all ranks together (the destructor meets the others first, as CellClaims's
// does).
class SharedStates {
 public:
  SharedStates(const Ranks& ranks, size_t doubles);
  ~SharedStates();
  SharedStates(const SharedStates&) = delete;
  SharedStates& operator=(const SharedStates&) = delete;

  // The next `count` doubles of the window, or null where it has no room (or there is none). Every
  // rank makes the same calls, so each gets the same memory.
  double* rows(size_t count);
  // The whole window free again, for the next group's references: call once no rank reads the
  // previous group's states (every rank has met at the next group).
  void reuse() { used_ = 0; }
  // Makes this rank's writes to the window visible to the other ranks, and theirs to it, when
  // called on both sides of a meeting of the ranks (Ranks::minimum).
  void sync() const;
  // Doubles of shared memory (0: none, the states are broadcast).
  size_t capacity() const { return capacity_; }
  // On the first rank, why there is none although ranks share a node: a node's shared memory
  // (shared_memory_dir) has too little room. Empty otherwise.
  const std::string& no_room() const { return no_room_; }
  static constexpr const char* shared_memory_dir = "/dev/shm";
  // The nodes the ranks run on (1 without MPI).
  int nodes() const { return nodes_; }
  // With shared memory on several nodes: what this rank does with rank root's share of a
  // reference's states (reference::SampleSplit::node_role), and the broadcast of a share among the
  // first ranks of the nodes, from root's node's (a no-op on the other ranks).
  reference::SampleSplit::NodeRole node_role(int root) const;
  void broadcast_between_nodes(double* data, size_t count, int root) const;

 private:
  const Ranks& ranks_;
  std::string no_room_;
  bool fills_node_ = true;
  int nodes_ = 1;
  std::vector<int> node_of_;  // per rank: its node, numbered by the nodes' first ranks
  double* base_ = nullptr;
  size_t capacity_ = 0, used_ = 0;
  struct Window;
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
