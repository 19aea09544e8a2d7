#include "solver/run.hpp"

#include <stdexcept>

#include "solver/ddim.hpp"
#include "solver/explicit_rk.hpp"

namespace pfode::solver {

namespace {

template <class Method>
SolverRun run_method(const Method& method, const StepGrid& grid, const model::DiagonalMixture& model,
                     const ExactStates& exact, int samples, bool measure_local_error) {
  const int steps = grid.steps;
  Workspace ws("pfode::solver::workspace", samples, method.slots(), model.dim);
  NfeCounter nfe("pfode::solver::nfe", samples);
  Kokkos::View<double**> global_error("pfode::solver::global_error", samples, steps + 1);
  Kokkos::View<double*> exact_final_rms("pfode::solver::exact_final_rms", samples);
  Kokkos::View<double**> final_state("pfode::solver::final_state", samples, model.dim);
  const Lane lane{ws, model, nfe, 0};
  using Clock = std::chrono::steady_clock;
  auto start = Clock::now();
  Kokkos::parallel_for("pfode::solver::trajectory", Kokkos::RangePolicy<>(0, samples),
                       TrajectoryKernel<Method>{method, grid, lane, exact, global_error, exact_final_rms, final_state});
  Kokkos::fence();
  const double trajectory_seconds = std::chrono::duration<double>(Clock::now() - start).count();

  SolverRun run;
  run.samples = samples;
  run.steps = steps;
  run.trajectory_seconds = trajectory_seconds;
  auto nfe_host = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), nfe);
  auto ge_host = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), global_error);
  auto norm_host = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), exact_final_rms);
  run.nfe.assign(nfe_host.data(), nfe_host.data() + samples);
  run.exact_final_rms.assign(norm_host.data(), norm_host.data() + samples);
  auto final_host = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), final_state);
  run.final_state.resize(static_cast<size_t>(samples) * model.dim);
  for (int p = 0; p < samples; ++p)
    for (int c = 0; c < model.dim; ++c) run.final_state[static_cast<size_t>(p) * model.dim + c] = final_host(p, c);
  run.global_error.resize(static_cast<size_t>(samples) * (steps + 1));
  for (int p = 0; p < samples; ++p)
    for (int i = 0; i <= steps; ++i) run.global_error[static_cast<size_t>(p) * (steps + 1) + i] = ge_host(p, i);

  if (measure_local_error) {
    // The LTE runs spend model evaluations of their own; they go to a separate counter.
    NfeCounter lte_nfe("pfode::solver::lte_nfe", samples);
    Kokkos::View<double**> local_error("pfode::solver::local_error", samples, steps);
    start = Clock::now();
    Kokkos::parallel_for("pfode::solver::local_error", Kokkos::RangePolicy<>(0, samples),
                         LocalErrorKernel<Method>{method, grid, Lane{ws, model, lte_nfe, 0}, exact, local_error});
    Kokkos::fence();
    run.local_error_seconds = std::chrono::duration<double>(Clock::now() - start).count();
    auto le_host = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), local_error);
    run.local_error.resize(static_cast<size_t>(samples) * steps);
    for (int p = 0; p < samples; ++p)
      for (int i = 0; i < steps; ++i) run.local_error[static_cast<size_t>(p) * steps + i] = le_host(p, i);
  }
  return run;
}

}  // namespace

SolverRun run_solver(const SolverSpec& spec, const StepGrid& grid, const model::DiagonalMixture& model,
                     const ExactStates& exact, int samples, bool measure_local_error) {
  StepGrid g = grid;
  g.variable = spec.variable;
  switch (spec.info->id) {
    case SolverId::euler: return run_method(ExplicitRK{euler_tableau()}, g, model, exact, samples, measure_local_error);
    case SolverId::midpoint:
      return run_method(ExplicitRK{midpoint_tableau()}, g, model, exact, samples, measure_local_error);
    case SolverId::heun: return run_method(ExplicitRK{heun_tableau()}, g, model, exact, samples, measure_local_error);
    case SolverId::rk3: return run_method(ExplicitRK{rk3_tableau()}, g, model, exact, samples, measure_local_error);
    case SolverId::rk4: return run_method(ExplicitRK{rk4_tableau()}, g, model, exact, samples, measure_local_error);
    case SolverId::ddim: return run_method(Ddim{}, g, model, exact, samples, measure_local_error);
  }
  throw std::logic_error("solver without a method: " + spec.info->name);
}

}  // namespace pfode::solver
