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

bool Ranks::all(bool ok) const {
#ifdef PFODE_HAVE_MPI
  if (!initialised_) return ok;
  int local = ok ? 1 : 0, global = 0;
  MPI_Allreduce(&local, &global, 1, MPI_INT, MPI_MIN, MPI_COMM_WORLD);
  return global == 1;
#else
  return ok;
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
  std::vector<double> load(size, 0.0);
  std::set<int> mine;
  for (int id : todo) {
    const int target = static_cast<int>(std::min_element(load.begin(), load.end()) - load.begin());
    load[target] += estimated_cost(e, plan.cells[id]);
    if (target == rank) mine.insert(id);
  }
  return mine;
}

}  // namespace pfode::sweep
