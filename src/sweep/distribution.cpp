#include "sweep/distribution.hpp"

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <numeric>
#include <thread>

#ifdef PFODE_HAVE_MPI
#include <mpi.h>
#endif

#include "sweep/resources.hpp"

namespace pfode::sweep {

namespace {
// Whether a process launcher (mpirun/mpiexec, srun) started us. Started directly, pfode runs as
// one rank without initialising MPI, which would otherwise spawn a singleton runtime per run.
bool launched_by_mpi() {
  for (const char* var : {"OMPI_COMM_WORLD_SIZE", "PMIX_RANK", "PMI_RANK", "PMI_SIZE", "MPI_LOCALNRANKS"})
    if (std::getenv(var)) return true;
  return false;
}

#ifdef PFODE_HAVE_MPI
// Waits for a non-blocking collective, sleeping between tests. A blocking MPI call spins on its
// core while it waits (Open MPI polls), and ranks wait for each other at every reference and at
// the end while rank 0 writes the results file: spinning, they would take the CPU from the ranks
// still computing on a shared or oversubscribed machine. This waits at ~1 ms resolution instead.
void wait_sleeping(MPI_Request& request) {
  int done = 0;
  for (long pause_us = 20;; pause_us = std::min(2 * pause_us, 1000L)) {
    MPI_Test(&request, &done, MPI_STATUS_IGNORE);
    if (done) return;
    std::this_thread::sleep_for(std::chrono::microseconds(pause_us));
  }
}
#endif

}  // namespace

Ranks::Ranks(int* argc, char*** argv) {
#ifdef PFODE_HAVE_MPI
  if (!launched_by_mpi()) return;
  MPI_Init(argc, argv);
  initialised_ = true;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank_);
  MPI_Comm_size(MPI_COMM_WORLD, &size_);
  MPI_Comm node;
  MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, 0, MPI_INFO_NULL, &node);
  int node_size = 0;
  MPI_Comm_size(node, &node_size);
  MPI_Comm_free(&node);
  one_node_ = node_size == size_;
#else
  (void)argc;
  (void)argv;
#endif
}

Ranks::~Ranks() {
#ifdef PFODE_HAVE_MPI
  if (!initialised_) return;
  barrier();  // asleep while rank 0 writes the results file, not spinning in MPI_Finalize
  MPI_Finalize();
#endif
}

void Ranks::barrier() const {
#ifdef PFODE_HAVE_MPI
  if (!initialised_) return;
  MPI_Request request;
  MPI_Ibarrier(MPI_COMM_WORLD, &request);
  wait_sleeping(request);
#endif
}

int Ranks::minimum(int value) const {
#ifdef PFODE_HAVE_MPI
  if (!initialised_) return value;
  int global = 0;
  MPI_Request request;
  MPI_Iallreduce(&value, &global, 1, MPI_INT, MPI_MIN, MPI_COMM_WORLD, &request);
  wait_sleeping(request);
  return global;
#else
  return value;
#endif
}

void Ranks::broadcast(double* data, size_t count, int root) const {
#ifdef PFODE_HAVE_MPI
  if (!initialised_) return;
  // Blocking: the ranks have met just before (minimum), so none waits long here, and a large
  // buffer moves at full speed. In pieces of at most 2^27 doubles (1 GiB): MPI counts are int.
  constexpr size_t piece = size_t{1} << 27;
  for (size_t from = 0; from < count; from += piece)
    MPI_Bcast(data + from, static_cast<int>(std::min(piece, count - from)), MPI_DOUBLE, root, MPI_COMM_WORLD);
#else
  (void)data;
  (void)count;
  (void)root;
#endif
}

void Ranks::broadcast(std::vector<double>& buffer, int root) const {
  double size = static_cast<double>(buffer.size());
  broadcast(&size, 1, root);
  buffer.resize(static_cast<size_t>(size));
  broadcast(buffer.data(), buffer.size(), root);
}

#ifdef PFODE_HAVE_MPI
struct CellClaims::Window {
  MPI_Win win = MPI_WIN_NULL;
};
#else
struct CellClaims::Window {};
#endif

CellClaims::CellClaims(const Ranks& ranks, int groups) : ranks_(ranks), local_(groups, 0) {
#ifdef PFODE_HAVE_MPI
  if (!ranks.initialised_ || ranks.size() == 1) return;
  shared_ = ranks.one_node();
  if (!shared_) return;
  window_ = std::make_unique<Window>();
  long* counters = nullptr;
  const MPI_Aint bytes = ranks.first() ? static_cast<MPI_Aint>(groups * sizeof(long)) : 0;
  MPI_Win_allocate(bytes, sizeof(long), MPI_INFO_NULL, MPI_COMM_WORLD, &counters, &window_->win);
  if (ranks.first()) std::fill(counters, counters + groups, 0L);
  ranks.barrier();  // zeroed before any rank draws
  MPI_Win_lock_all(0, window_->win);
#else
  (void)ranks;
#endif
}

CellClaims::~CellClaims() {
#ifdef PFODE_HAVE_MPI
  if (!window_) return;
  ranks_.barrier();  // MPI_Win_free waits for every rank, spinning
  MPI_Win_unlock_all(window_->win);
  MPI_Win_free(&window_->win);
#endif
}

long CellClaims::next(int group) {
#ifdef PFODE_HAVE_MPI
  if (window_) {
    const long one = 1;
    long drawn = 0;
    MPI_Fetch_and_op(&one, &drawn, MPI_LONG, 0, group, MPI_SUM, window_->win);
    MPI_Win_flush(0, window_->win);
    return drawn;
  }
#endif
  return local_.at(group)++;
}

#ifdef PFODE_HAVE_MPI
struct SharedStates::Window {
  MPI_Comm comm = MPI_COMM_NULL;     // every rank
  MPI_Comm node = MPI_COMM_NULL;     // the ranks of this node
  MPI_Comm fillers = MPI_COMM_NULL;  // the first rank of each node (MPI_COMM_NULL on the others)
  MPI_Win win = MPI_WIN_NULL;
};
#else
struct SharedStates::Window {};
#endif

SharedStates::SharedStates(const Ranks& ranks, size_t doubles) : ranks_(ranks) {
#ifdef PFODE_HAVE_MPI
  if (!ranks.initialised_ || ranks.size() == 1 || doubles == 0) return;
  window_ = std::make_unique<Window>();
  // On a communicator of its own that returns errors: a node that cannot give this much shared
  // memory (a small /dev/shm, an MPI without shared windows) leaves the states to the broadcast.
  MPI_Comm_dup(MPI_COMM_WORLD, &window_->comm);
  MPI_Comm_set_errhandler(window_->comm, MPI_ERRORS_RETURN);
  MPI_Comm_split_type(window_->comm, MPI_COMM_TYPE_SHARED, 0, MPI_INFO_NULL, &window_->node);
  int node_rank = 0;
  MPI_Comm_rank(window_->node, &node_rank);
  fills_node_ = node_rank == 0;  // the node's lowest rank: rank 0 on its node
  MPI_Comm_split(window_->comm, fills_node_ ? 0 : MPI_UNDEFINED, ranks.rank(), &window_->fillers);
  int node = 0;
  if (fills_node_) MPI_Comm_rank(window_->fillers, &node);
  MPI_Bcast(&node, 1, MPI_INT, 0, window_->node);
  node_of_.resize(ranks.size());
  MPI_Allgather(&node, 1, MPI_INT, node_of_.data(), 1, MPI_INT, window_->comm);
  nodes_ = 1 + *std::max_element(node_of_.begin(), node_of_.end());
  if (nodes_ == ranks.size()) return;  // a rank per node: nothing to share
  // MPI libraries back a node's shared windows with a file in /dev/shm. Where it lacks room, Open
  // MPI 4.1 warns and then hangs the ranks instead of failing the call, so the window is asked for
  // only where every node's /dev/shm has room for it with a quarter to spare (as the node's first
  // rank sees it; a container's /dev/shm is often 64 MB).
  const double bytes_needed = static_cast<double>(doubles) * sizeof(double);
  const double available = fills_node_ ? free_bytes(shared_memory_dir).value_or(0.0) : 0.0;
  const bool room = !fills_node_ || available >= 1.25 * bytes_needed;
  if (!ranks.all(room)) {
    if (ranks.first())
      no_room_ = room ? "another node's " + std::string(shared_memory_dir) + " has too little room to share the "
                            "reference states (" + format_bytes(bytes_needed) + ") between its ranks: each rank "
                            "keeps its own copy"
                      : std::string(shared_memory_dir) + " has " + format_bytes(available) +
                            " free, too little to share the reference states (" + format_bytes(bytes_needed) +
                            ") between the ranks: each keeps its own copy";
    return;
  }
  double* mine = nullptr;
  const MPI_Aint bytes = fills_node_ ? static_cast<MPI_Aint>(doubles * sizeof(double)) : 0;
  const int status = MPI_Win_allocate_shared(bytes, sizeof(double), MPI_INFO_NULL, window_->node, &mine, &window_->win);
  if (!ranks.all(status == MPI_SUCCESS)) {  // a rank without the window: none is used (or freed)
    window_->win = MPI_WIN_NULL;
    return;
  }
  MPI_Aint size = 0;
  int unit = 0;
  MPI_Win_shared_query(window_->win, 0, &size, &unit, &base_);  // the node's first rank's part: all of it
  capacity_ = doubles;
  MPI_Win_lock_all(MPI_MODE_NOCHECK, window_->win);
#else
  (void)ranks;
  (void)doubles;
#endif
}

SharedStates::~SharedStates() {
#ifdef PFODE_HAVE_MPI
  if (!window_) return;
  if (window_->win != MPI_WIN_NULL) {
    ranks_.barrier();  // MPI_Win_free waits for every rank, spinning
    if (base_) MPI_Win_unlock_all(window_->win);
    MPI_Win_free(&window_->win);
  }
  for (MPI_Comm* comm : {&window_->fillers, &window_->node, &window_->comm})
    if (*comm != MPI_COMM_NULL) MPI_Comm_free(comm);
#endif
}

double* SharedStates::rows(size_t count) {
  if (!base_ || count > capacity_ - used_) return nullptr;
  double* at = base_ + used_;
  used_ += count;
  return at;
}

void SharedStates::sync() const {
#ifdef PFODE_HAVE_MPI
  if (base_) MPI_Win_sync(window_->win);
#endif
}

reference::SampleSplit::NodeRole SharedStates::node_role(int root) const {
  using Role = reference::SampleSplit::NodeRole;
  if (!fills_node_) return Role::none;
  return node_of_.at(root) == node_of_.at(ranks_.rank()) ? Role::send : Role::receive;
}

void SharedStates::broadcast_between_nodes(double* data, size_t count, int root) const {
#ifdef PFODE_HAVE_MPI
  if (!fills_node_) return;
  constexpr size_t piece = size_t{1} << 27;  // as Ranks::broadcast: MPI counts are int
  for (size_t from = 0; from < count; from += piece)
    MPI_Bcast(data + from, static_cast<int>(std::min(piece, count - from)), MPI_DOUBLE, node_of_.at(root),
              window_->fillers);
#else
  (void)data;
  (void)count;
  (void)root;
#endif
}

void sort_by_cost(const Experiment& e, const Plan& plan, std::vector<int>& ids) {
  std::stable_sort(ids.begin(), ids.end(), [&](int a, int b) {
    return estimated_cost(e, plan.cells[a]) > estimated_cost(e, plan.cells[b]);
  });
}

double estimated_cost(const Experiment& e, const Cell& cell) {
  const auto& m = e.models[cell.model];
  const auto& spec = e.solvers[cell.solver].spec;
  // The LTE runs cost about as much again as the trajectory; a stochastic sampler's strong
  // reference runs at refinements R and R/2; the weak error runs weak_samples more.
  double runs = e.measure_local_error ? 2.0 : 1.0;
  if (solver::is_stochastic(spec)) runs = 1.0 + (solver::strong_order(spec) > 0 ? 1.5 * e.sde_refinement : 0.0);
  const double samples = runs * e.samples + static_cast<double>(e.weak_samples);
  return samples * static_cast<double>(cell.nfe_stated) * m.dim * m.components;
}

std::set<int> cells_for_rank(const Experiment& e, const Plan& plan, const std::set<int>& finished, int rank, int size) {
  std::vector<int> todo;
  for (const auto& c : plan.cells)
    if (!finished.count(c.id)) todo.push_back(c.id);
  sort_by_cost(e, plan, todo);
  std::vector<int> group_of(plan.cells.size(), 0);
  for (size_t g = 0; g < plan.groups.size(); ++g)
    for (int id : plan.groups[g].cells) group_of[id] = static_cast<int>(g);
  std::vector<std::vector<double>> load(plan.groups.size(), std::vector<double>(size, 0.0));
  std::vector<double> total(size, 0.0);
  std::set<int> mine;
  for (int id : todo) {
    auto& in_group = load[group_of[id]];
    int target = 0;
    for (int r = 1; r < size; ++r)
      if (in_group[r] < in_group[target] || (in_group[r] == in_group[target] && total[r] < total[target])) target = r;
    in_group[target] += estimated_cost(e, plan.cells[id]);
    total[target] += estimated_cost(e, plan.cells[id]);
    if (target == rank) mine.insert(id);
  }
  return mine;
}

}  // namespace pfode::sweep
