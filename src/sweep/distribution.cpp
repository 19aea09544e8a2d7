#include "sweep/distribution.hpp"

#include <algorithm>
#include <cstdlib>
#include <numeric>

#ifdef PFODE_HAVE_MPI
#include <mpi.h>
#endif

namespace pfode::sweep {

namespace {
// Whether a process launcher (mpirun/mpiexec, srun) started us. Started directly, pfode runs as
// one rank without initialising MPI, which would otherwise spawn a singleton runtime per run.
bool launched_by_mpi() {
  for (const char* var : {"OMPI_COMM_WORLD_SIZE", "PMIX_RANK", "PMI_RANK", "PMI_SIZE", "MPI_LOCALNRANKS"})
    if (std::getenv(var)) return true;
  return false;
}
}  // namespace

Ranks::Ranks(int* argc, char*** argv) {
#ifdef PFODE_HAVE_MPI
  if (!launched_by_mpi()) return;
  MPI_Init(argc, argv);
  initialised_ = true;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank_);
  MPI_Comm_size(MPI_COMM_WORLD, &size_);
#else
  (void)argc;
  (void)argv;
#endif
}

Ranks::~Ranks() {
#ifdef PFODE_HAVE_MPI
  if (initialised_) MPI_Finalize();
#endif
}

void Ranks::barrier() const {
#ifdef PFODE_HAVE_MPI
  if (initialised_) MPI_Barrier(MPI_COMM_WORLD);
#endif
}

int Ranks::minimum(int value) const {
#ifdef PFODE_HAVE_MPI
  if (!initialised_) return value;
  int global = 0;
  MPI_Allreduce(&value, &global, 1, MPI_INT, MPI_MIN, MPI_COMM_WORLD);
  return global;
#else
  return value;
#endif
}

void Ranks::broadcast(std::vector<double>& buffer, int root) const {
#ifdef PFODE_HAVE_MPI
  if (!initialised_) return;
  unsigned long long size = buffer.size();
  MPI_Bcast(&size, 1, MPI_UNSIGNED_LONG_LONG, root, MPI_COMM_WORLD);
  buffer.resize(size);
  // In pieces of at most 2^27 doubles (1 GiB): MPI counts are int.
  constexpr unsigned long long piece = 1ULL << 27;
  for (unsigned long long from = 0; from < size; from += piece)
    MPI_Bcast(buffer.data() + from, static_cast<int>(std::min(piece, size - from)), MPI_DOUBLE, root, MPI_COMM_WORLD);
#else
  (void)buffer;
  (void)root;
#endif
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
  std::stable_sort(todo.begin(), todo.end(), [&](int a, int b) {
    return estimated_cost(e, plan.cells[a]) > estimated_cost(e, plan.cells[b]);
  });
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
