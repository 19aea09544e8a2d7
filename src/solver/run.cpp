#include "solver/run.hpp"

#include <limits>
#include <stdexcept>

#include "solver/adams_bashforth.hpp"
#include "solver/adaptive.hpp"
#include "solver/ddim.hpp"
#include "solver/deis.hpp"
#include "solver/dpm_solver.hpp"
#include "solver/dpm_solver_pp.hpp"
#include "solver/edm_heun.hpp"
#include "solver/explicit_rk.hpp"
#include "solver/pndm.hpp"
#include "solver/team_lane.hpp"
#include "solver/unipc.hpp"

namespace pfode::solver {

namespace {

// Both kernels of a fixed-grid method on one launch shape: a RangePolicy over packs with a
// Lane<W>, or a TeamPolicy with a TeamLane (lane.nfe is the trajectory's counter).
template <class Method, class Policy, class L>
SolverRun run_kernels(const Method& method, const Policy& policy, const L& lane, const StepGrid& grid,
                      const ExactStates& exact, int samples, bool measure_local_error, bool final_denoise) {
  const int steps = grid.steps, dim = lane.model.dim;
  Kokkos::View<double**> global_error("pfode::solver::global_error", samples, steps + 1);
  Kokkos::View<double*> exact_final_rms("pfode::solver::exact_final_rms", samples);
  Kokkos::View<double**> final_state("pfode::solver::final_state", samples, dim);
  using Clock = std::chrono::steady_clock;
  auto start = Clock::now();
  Kokkos::parallel_for("pfode::solver::trajectory", policy,
                       TrajectoryKernel<Method, L>{method, grid, lane, exact, global_error, exact_final_rms,
                                                   final_state, final_denoise});
  Kokkos::fence();
  const double trajectory_seconds = std::chrono::duration<double>(Clock::now() - start).count();

  SolverRun run;
  run.samples = samples;
  run.steps = steps;
  run.trajectory_seconds = trajectory_seconds;
  auto nfe_host = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), lane.nfe);
  auto ge_host = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), global_error);
  auto norm_host = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), exact_final_rms);
  run.nfe.assign(nfe_host.data(), nfe_host.data() + samples);
  run.exact_final_rms.assign(norm_host.data(), norm_host.data() + samples);
  auto final_host = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), final_state);
  run.final_state.resize(static_cast<size_t>(samples) * dim);
  for (int p = 0; p < samples; ++p)
    for (int c = 0; c < dim; ++c) run.final_state[static_cast<size_t>(p) * dim + c] = final_host(p, c);
  run.global_error.resize(static_cast<size_t>(samples) * (steps + 1));
  for (int p = 0; p < samples; ++p)
    for (int i = 0; i <= steps; ++i) run.global_error[static_cast<size_t>(p) * (steps + 1) + i] = ge_host(p, i);

  if (measure_local_error) {
    // The LTE runs spend model evaluations of their own; they go to a separate counter.
    L lte_lane = lane;
    lte_lane.nfe = NfeCounter("pfode::solver::lte_nfe", samples);
    Kokkos::View<double**> local_error("pfode::solver::local_error", samples, steps);
    start = Clock::now();
    Kokkos::parallel_for("pfode::solver::local_error", policy,
                         LocalErrorKernel<Method, L>{method, grid, lte_lane, exact, local_error});
    Kokkos::fence();
    run.local_error_seconds = std::chrono::duration<double>(Clock::now() - start).count();
    auto le_host = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), local_error);
    run.local_error.resize(static_cast<size_t>(samples) * steps);
    for (int p = 0; p < samples; ++p)
      for (int i = 0; i < steps; ++i) run.local_error[static_cast<size_t>(p) * steps + i] = le_host(p, i);
  }
  return run;
}

template <class Method>
SolverRun run_method(const Method& method, const StepGrid& grid, const model::DiagonalMixture& model,
                     const ExactStates& exact, int samples, bool measure_local_error, bool final_denoise,
                     const KernelLayout& layout) {
  NfeCounter nfe("pfode::solver::nfe", samples);
  if (layout.kind == KernelLayout::teams) {
    const auto launch = make_team_launch("pfode::solver", samples, method.slots(), model, nfe, layout.team);
    return run_kernels(method, launch.first, launch.second, grid, exact, samples, measure_local_error,
                       final_denoise);
  }
  constexpr int W = pack_width;
  const auto lane = make_lane<W>("pfode::solver", samples, method.slots(), model, nfe);
  return run_kernels(method, Kokkos::RangePolicy<>(0, packs_of<W>(samples)), lane, grid, exact, samples,
                     measure_local_error, final_denoise);
}

// Adaptive methods: one fused kernel per batch; the grid's interior points (none in a sweep) are
// landed on exactly. LTE is not defined for them: NaN of the requested shape.
template <class Method, class Policy, class L>
SolverRun run_adaptive_kernel(const Method& method, const Policy& policy, const L& lane, const StepGrid& grid,
                              const ExactStates& exact, int samples, bool measure_local_error, bool final_denoise) {
  const int steps = grid.steps, dim = lane.model.dim;
  Kokkos::View<double**> global_error("pfode::solver::global_error", samples, steps + 1);
  Kokkos::View<double*> exact_final_rms("pfode::solver::exact_final_rms", samples);
  Kokkos::View<double**> final_state("pfode::solver::final_state", samples, dim);
  Kokkos::View<long**> steps_taken("pfode::solver::steps_taken", samples, 2);
  using Clock = std::chrono::steady_clock;
  const auto start = Clock::now();
  Kokkos::parallel_for("pfode::solver::adaptive_trajectory", policy,
                       AdaptiveKernel<Method, L>{method, grid, lane, exact, global_error, exact_final_rms, final_state,
                                                 steps_taken, final_denoise});
  Kokkos::fence();
  SolverRun run;
  run.samples = samples;
  run.steps = steps;
  run.trajectory_seconds = std::chrono::duration<double>(Clock::now() - start).count();
  auto nfe_host = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), lane.nfe);
  auto ge_host = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), global_error);
  auto norm_host = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), exact_final_rms);
  auto final_host = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), final_state);
  auto taken_host = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), steps_taken);
  run.nfe.assign(nfe_host.data(), nfe_host.data() + samples);
  run.exact_final_rms.assign(norm_host.data(), norm_host.data() + samples);
  run.final_state.resize(static_cast<size_t>(samples) * dim);
  run.global_error.resize(static_cast<size_t>(samples) * (steps + 1));
  for (int p = 0; p < samples; ++p) {
    for (int c = 0; c < dim; ++c) run.final_state[static_cast<size_t>(p) * dim + c] = final_host(p, c);
    for (int i = 0; i <= steps; ++i) run.global_error[static_cast<size_t>(p) * (steps + 1) + i] = ge_host(p, i);
    run.accepted_steps.push_back(taken_host(p, 0));
    run.rejected_steps.push_back(taken_host(p, 1));
  }
  if (measure_local_error)
    run.local_error.assign(static_cast<size_t>(samples) * steps, std::numeric_limits<double>::quiet_NaN());
  return run;
}

template <class Method>
SolverRun run_adaptive(const Method& method, const StepGrid& grid, const model::DiagonalMixture& model,
                       const ExactStates& exact, int samples, bool measure_local_error, bool final_denoise,
                       const KernelLayout& layout) {
  NfeCounter nfe("pfode::solver::nfe", samples);
  if (layout.kind == KernelLayout::teams) {
    const auto launch = make_team_launch("pfode::solver", samples, method.slots(), model, nfe, layout.team);
    return run_adaptive_kernel(method, launch.first, launch.second, grid, exact, samples, measure_local_error,
                               final_denoise);
  }
  const auto lane = make_lane<1>("pfode::solver", samples, method.slots(), model, nfe);
  return run_adaptive_kernel(method, Kokkos::RangePolicy<>(0, samples), lane, grid, exact, samples,
                             measure_local_error, final_denoise);
}

}  // namespace

SolverRun run_solver(const SolverSpec& spec, const StepGrid& grid, const model::DiagonalMixture& model,
                     const ExactStates& exact, int samples, bool measure_local_error, const KernelLayout& layout) {
  StepGrid g = grid;
  g.variable = spec.variable;
  const int lof = spec.lower_order_final_below;
  auto run = [&](const auto& method) {
    return run_method(method, g, model, exact, samples, measure_local_error, spec.final_denoise, layout);
  };
  const OrderSchedule orders{multistep_order(spec), lof};
  // Runge-Kutta warm-up by singlestep DPM-Solver, its slots after the method's history.
  const auto warmup = [&](int eps_slot) {
    SinglestepWarmup w;
    w.enabled = rk_warmup(spec);
    w.warm.eps_slot = eps_slot;
    return w;
  };
  if (is_adaptive(spec)) {
    const Tolerances t = tolerances_for(spec);
    AdaptiveTolerance tol;
    tol.atol = t.atol;
    tol.rtol = t.rtol;
    auto adaptive = [&](const auto& method) {
      return run_adaptive(method, g, model, exact, samples, measure_local_error, spec.final_denoise, layout);
    };
    if (spec.info->id == SolverId::dopri5) return adaptive(Dopri5{dopri5_tableau(), tol});
    DpmSolverAdaptive m;
    m.order = spec.info->id == SolverId::dpm_solver_12 ? 2 : 3;
    m.tol = tol;
    return adaptive(m);
  }
  switch (spec.info->id) {
    case SolverId::euler: return run(ExplicitRK{euler_tableau()});
    case SolverId::midpoint: return run(ExplicitRK{midpoint_tableau()});
    case SolverId::heun: return run(ExplicitRK{heun_tableau()});
    case SolverId::rk3: return run(ExplicitRK{rk3_tableau()});
    case SolverId::rk4: return run(ExplicitRK{rk4_tableau()});
    case SolverId::ab2:
    case SolverId::ab3:
    case SolverId::ab4: return run(AdamsBashforth::make(spec.info->order, lof, rk_warmup(spec)));
    case SolverId::edm_heun: return run(EdmHeun{});
    case SolverId::ddim: return run(Ddim{});
    case SolverId::dpm_solver_1: return run(DpmSolver{1, 0});
    case SolverId::dpm_solver_2: return run(DpmSolver{2, 0});
    case SolverId::dpm_solver_3: return run(DpmSolver{3, 0});
    case SolverId::dpm_solver_fast:
      return run(DpmSolver{3, nfe_for_steps(spec, grid.steps) - (spec.final_denoise ? 1 : 0)});
    case SolverId::dpm_solver_pp_2s: return run(DpmSolverPP2S{});
    case SolverId::dpm_solver_pp_2m:
    case SolverId::dpm_solver_pp_3m:
      return run(DpmSolverPPMultistep{orders, spec.taylor_d2, warmup(first_method_slot + Ring::size)});
    case SolverId::deis_1:
    case SolverId::deis_2:
    case SolverId::deis_3: return run(Deis{orders, warmup(first_method_slot + Ring::size)});
    case SolverId::pndm: return run(Pndm{OrderSchedule{4, 0}, true});
    case SolverId::ipndm: return run(Pndm{orders, false});
    case SolverId::unipc_1:
    case SolverId::unipc_2:
    case SolverId::unipc_3: {
      const auto variant = spec.unipc_variant == 0 ? UnipcVariant::bh1 : UnipcVariant::bh2;
      const auto w = warmup(Unipc<true>::base_slot + 1);
      if (spec.corrector) return run(Unipc<true>{orders, variant, w});
      return run(Unipc<false>{orders, variant, w});
    }
    case SolverId::dopri5:
    case SolverId::dpm_solver_12:
    case SolverId::dpm_solver_23: break;  // adaptive, above
  }
  throw std::logic_error("solver without a method: " + spec.info->name);
}

}  // namespace pfode::solver
