// The device method of a solver spec, built on the host and handed to run(method): the one
// switch from registry names to methods, shared by the trajectory runs against the reference
// (solver/run_impl.hpp) and the sampling runs (solver/sample_impl.hpp).
#pragma once

#include <stdexcept>
#include <type_traits>

#include "brownian/step_noise.hpp"
#include "solver/adams_bashforth.hpp"
#include "solver/adaptive.hpp"
#include "solver/ancestral.hpp"
#include "solver/ddim.hpp"
#include "solver/deis.hpp"
#include "solver/dpm_solver.hpp"
#include "solver/dpm_solver_pp.hpp"
#include "solver/dpm_solver_pp_multistep_sde.hpp"
#include "solver/dpm_solver_pp_sde.hpp"
#include "solver/edm_heun.hpp"
#include "solver/edm_stochastic.hpp"
#include "solver/euler_maruyama.hpp"
#include "solver/explicit_rk.hpp"
#include "solver/langevin.hpp"
#include "solver/pndm.hpp"
#include "solver/registry.hpp"
#include "solver/unipc.hpp"

namespace pfode::solver {

namespace detail {
// Adaptive methods take each sample's own steps, so there is no pack to share them.
template <class Method>
inline constexpr bool adaptive_method = std::is_same_v<Method, Dopri5> || std::is_same_v<Method, DpmSolverAdaptive>;
}  // namespace detail

// run(method) for a deterministic spec on grid g (g.variable set to the spec's).
template <class Run>
auto with_method(const SolverSpec& spec, const StepGrid& g, const Run& run) {
  const int lof = spec.lower_order_final_below;
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
    if (spec.info->id == SolverId::dopri5) return run(Dopri5{dopri5_tableau(), tol});
    DpmSolverAdaptive m;
    m.order = spec.info->id == SolverId::dpm_solver_12 ? 2 : 3;
    m.tol = tol;
    return run(m);
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
      return run(DpmSolver{3, nfe_for_steps(spec, g.steps) - (spec.final_denoise ? 1 : 0)});
    case SolverId::dpm_solver_pp_2s: return run(DpmSolverPP2S{});
    case SolverId::dpm_solver_pp_2m:
    case SolverId::dpm_solver_pp_3m:
      return run(DpmSolverPPMultistep{orders, spec.taylor_d2, warmup(first_method_slot + Ring::size)});
    case SolverId::deis_1:
    case SolverId::deis_2:
    case SolverId::deis_3: {
      Deis deis{orders, warmup(first_method_slot + Ring::size)};
      if (!spec.deis_log_rho) deis.time_weights = tab_weights(g, orders);
      return run(deis);
    }
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
    default: break;  // adaptive (above) or stochastic (with_stochastic_method)
  }
  throw std::logic_error("solver without a method: " + spec.info->name);
}

// run(method) for a stochastic spec on grid g, its noise from the path of `cursor` (channel 0 and
// the cursor's first sample; each method places the cursor's slots).
template <class Run>
auto with_stochastic_method(const SolverSpec& spec, const StepGrid& g, const brownian::PathCursor& cursor,
                            const Run& run) {
  const double eta = spec.eta, s_noise = spec.s_noise;
  switch (spec.info->id) {
    case SolverId::euler_maruyama: return run(EulerMaruyama::make(cursor));
    case SolverId::ddpm: return run(Ancestral::make(1.0, 1.0, cursor));
    case SolverId::ddim_eta: return run(Ancestral::make(eta, 1.0, cursor));
    case SolverId::euler_ancestral: return run(Ancestral::make(eta, s_noise, cursor));
    case SolverId::dpmpp_2s_ancestral: return run(DpmSolverPP2SAncestral::make(eta, s_noise, cursor));
    case SolverId::dpmpp_sde: return run(DpmSolverPPSde::make(eta, s_noise, spec.stage_ratio, cursor));
    case SolverId::dpmpp_2m_sde:
    case SolverId::dpmpp_3m_sde: {
      const int order = spec.info->id == SolverId::dpmpp_2m_sde ? 2 : 3;
      return run(DpmSolverPPMultistepSde::make(order, spec.heun_type, spec.joint_integral, eta, s_noise, cursor));
    }
    case SolverId::edm_stochastic: {
      // EDM's N counts the intervals, the step to sigma = 0 (final=denoise) included.
      const int intervals = g.steps + (spec.final_denoise ? 1 : 0);
      return run(EdmStochastic::make(spec.s_churn, spec.s_tmin, spec.s_tmax, s_noise, intervals, cursor));
    }
    case SolverId::langevin: return run(AnnealedLangevin::make(spec.inner_steps, spec.langevin_eps, cursor));
    case SolverId::predictor_corrector: {
      const auto predictor = spec.predictor_em ? Predictor::euler_maruyama : Predictor::reverse_diffusion;
      return run(PredictorCorrector::make(spec.inner_steps, spec.snr, predictor, cursor));
    }
    default: break;
  }
  throw std::logic_error("stochastic solver without a method: " + spec.info->name);
}

}  // namespace pfode::solver
