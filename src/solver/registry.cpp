#include "solver/registry.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <stdexcept>

#include "common/named_options.hpp"
#include "solver/dpm_solver.hpp"

namespace pfode::solver {

const std::vector<SolverInfo>& all_solvers() {
  const unsigned classical = opt_variable, multistep = opt_lower_order_final;
  static const std::vector<SolverInfo> table = {
      {"euler", SolverId::euler, Family::classical, 1, 1, "Euler 1768", "explicit Euler", classical},
      {"midpoint", SolverId::midpoint, Family::classical, 2, 2, "Runge 1895", "explicit midpoint rule", classical},
      {"heun", SolverId::heun, Family::classical, 2, 2, "Heun 1900", "Heun / explicit trapezoid", classical},
      {"rk3", SolverId::rk3, Family::classical, 3, 3, "Kutta 1901", "Kutta's third-order method", classical},
      {"rk4", SolverId::rk4, Family::classical, 4, 4, "Kutta 1901", "classical fourth-order Runge-Kutta", classical},
      {"ab2", SolverId::ab2, Family::classical, 2, 1, "Bashforth & Adams 1883",
       "variable-step Adams-Bashforth, order 2", classical | multistep | opt_warmup},
      {"ab3", SolverId::ab3, Family::classical, 3, 1, "Bashforth & Adams 1883",
       "variable-step Adams-Bashforth, order 3", classical | multistep | opt_warmup},
      {"ab4", SolverId::ab4, Family::classical, 4, 1, "Bashforth & Adams 1883",
       "variable-step Adams-Bashforth, order 4", classical | multistep | opt_warmup},
      {"edm-heun", SolverId::edm_heun, Family::classical, 2, 2, "Karras et al., NeurIPS 2022",
       "EDM Heun in s, Euler on the last interval (NFE 2N - 1)"},
      {"ddim", SolverId::ddim, Family::exponential, 1, 1, "Song, Meng & Ermon, ICLR 2021",
       "deterministic DDIM = Euler in s = sigma/alpha"},
      {"dpm-solver-1", SolverId::dpm_solver_1, Family::exponential, 1, 1, "Lu et al., NeurIPS 2022",
       "DPM-Solver-1, noise prediction (= DDIM)"},
      {"dpm-solver-2", SolverId::dpm_solver_2, Family::exponential, 2, 2, "Lu et al., NeurIPS 2022",
       "singlestep DPM-Solver-2, noise prediction, r1 = 1/2 (stages=spacing: the official skip_type placement)",
       opt_stages},
      {"dpm-solver-3", SolverId::dpm_solver_3, Family::exponential, 3, 3, "Lu et al., NeurIPS 2022",
       "singlestep DPM-Solver-3, noise prediction, r1 = 1/3, r2 = 2/3 (stages=spacing: official placement)",
       opt_stages},
      {"dpm-solver-fast", SolverId::dpm_solver_fast, Family::exponential, 2, 3, "Lu et al., NeurIPS 2022",
       "DPM-Solver-fast: orders 3,..,3 then 2/1, exactly the budget (order 3 if NFE % 3 == 2)", opt_stages},
      {"dpm-solver++2s", SolverId::dpm_solver_pp_2s, Family::exponential, 2, 2, "Lu et al., arXiv:2211.01095",
       "singlestep DPM-Solver++(2S), data prediction"},
      {"dpm-solver++2m", SolverId::dpm_solver_pp_2m, Family::exponential, 2, 1, "Lu et al., arXiv:2211.01095",
       "multistep DPM-Solver++(2M), data prediction", multistep | opt_warmup | opt_order},
      {"dpm-solver++3m", SolverId::dpm_solver_pp_3m, Family::exponential, 2, 1, "Lu et al., arXiv:2211.01095",
       "multistep DPM-Solver++(3M), official coefficients: order 2 (coefficients=taylor: 3)",
       multistep | opt_warmup | opt_order | opt_coefficients},
      {"deis-1", SolverId::deis_1, Family::exponential, 1, 1, "Zhang & Chen, ICLR 2023", "tAB-DEIS order 1 (= DDIM)",
       multistep | opt_warmup | opt_basis},
      {"deis-2", SolverId::deis_2, Family::exponential, 2, 1, "Zhang & Chen, ICLR 2023",
       "tAB-DEIS order 2: eps Lagrange in t, weights to round-off (basis=log_rho: in lambda)",
       multistep | opt_warmup | opt_basis},
      {"deis-3", SolverId::deis_3, Family::exponential, 3, 1, "Zhang & Chen, ICLR 2023",
       "tAB-DEIS order 3: eps Lagrange in t, weights to round-off (basis=log_rho: in lambda)",
       multistep | opt_warmup | opt_basis},
      {"pndm", SolverId::pndm, Family::exponential, 2, 1, "Liu et al., ICLR 2022",
       "F-PNDM: PLMS + 3 pseudo-RK4 warm-up steps (order 4 only on grids uniform in s)"},
      {"ipndm", SolverId::ipndm, Family::exponential, 2, 1, "Zhang & Chen, ICLR 2023",
       "iPNDM: PLMS + lower-order warm-up (order 4 only on grids uniform in s)", multistep},
      {"unipc-1", SolverId::unipc_1, Family::exponential, 2, 1, "Zhao et al., NeurIPS 2023",
       "UniP-1 + UniC-1 (order 2; corrector=off: DDIM)", multistep | opt_warmup | opt_unipc},
      {"unipc-2", SolverId::unipc_2, Family::exponential, 3, 1, "Zhao et al., NeurIPS 2023",
       "UniP-2 + UniC-2 (order 3; corrector=off: 2)", multistep | opt_warmup | opt_unipc},
      {"unipc-3", SolverId::unipc_3, Family::exponential, 4, 1, "Zhao et al., NeurIPS 2023",
       "UniP-3 + UniC-3 (order 4; corrector=off: 3)", multistep | opt_warmup | opt_unipc},
      {"dopri5", SolverId::dopri5, Family::classical, 5, 6, "Dormand & Prince, J. Comput. Appl. Math. 1980",
       "adaptive Dormand-Prince 5(4), FSAL, PI control, in log s by default; budget -> tolerance",
       opt_variable | opt_tolerance, true, 13.0},
      {"dpm-solver-12", SolverId::dpm_solver_12, Family::exponential, 2, 2, "Lu et al., NeurIPS 2022",
       "adaptive DPM-Solver-12 (Algorithm 4): DPM-Solver-2 with a DPM-Solver-1 error estimate", opt_tolerance, true, 2.0},
      {"dpm-solver-23", SolverId::dpm_solver_23, Family::exponential, 3, 3, "Lu et al., NeurIPS 2022",
       "adaptive DPM-Solver-23 (Algorithm 4): DPM-Solver-3 with a DPM-Solver-2 error estimate", opt_tolerance, true, 2.5},
      // Stochastic samplers: {..., strong order, weak order, noise convention}; `order` = strong.
      {"euler-maruyama", SolverId::euler_maruyama, Family::stochastic, 1, 1, "Song et al., ICLR 2021",
       "Euler-Maruyama on the reverse-time SDE in the schedule's t (VP, VE, ...)", 0, false, 0, 1, 1,
       "increment: g(t_i) sqrt(|dt|) z, z = B_h/sqrt(h) over the step in log s"},
      {"ddpm", SolverId::ddpm, Family::stochastic, 1, 1, "Ho, Jain & Abbeel, NeurIPS 2020",
       "DDPM ancestral sampling: the posterior q(x_{t-1} | x_t, x_0 = D) with variance beta~", 0, false, 0, 1, 1,
       "increment: posterior std x B_h/sqrt(h)"},
      {"ddim-eta", SolverId::ddim_eta, Family::stochastic, 1, 1, "Song, Meng & Ermon, ICLR 2021",
       "DDIM with sigma_t(eta), eta in [0, 1] (eta = 0: ddim bit for bit, 1: ddpm)", opt_eta, false, 0, 1, 1,
       "increment: sigma_t(eta) x B_h/sqrt(h)"},
      {"euler-ancestral", SolverId::euler_ancestral, Family::stochastic, 1, 1, "k-diffusion sample_euler_ancestral",
       "Euler to sigma_down, noise sigma_up (get_ancestral_step; = ddim-eta for eta <= 1)", opt_eta | opt_s_noise,
       false, 0, 1, 1, "increment: s_noise sigma_up x B_h/sqrt(h)"},
      {"dpm++2s-ancestral", SolverId::dpmpp_2s_ancestral, Family::stochastic, 1, 2,
       "k-diffusion sample_dpmpp_2s_ancestral (Lu et al. 2022b)",
       "DPM-Solver++(2S) to sigma_down, noise sigma_up (drift order 2)", opt_eta | opt_s_noise, false, 0, 1, 1,
       "increment: s_noise sigma_up x B_h/sqrt(h)"},
      {"dpm++sde", SolverId::dpmpp_sde, Family::stochastic, 1, 2, "k-diffusion sample_dpmpp_sde (Lu et al. 2022b)",
       "stochastic DPM-Solver++, ancestral steps to the stage r and to the end (drift order 2)",
       opt_eta | opt_s_noise | opt_stage_ratio, false, 0, 1, 1,
       "increment: two per step, over [stage, start] and [end, start] (overlapping)"},
      {"dpm++2m-sde", SolverId::dpmpp_2m_sde, Family::stochastic, 1, 1,
       "k-diffusion sample_dpmpp_2m_sde (Lu et al. 2022b, SDE-DPM-Solver++(2M))",
       "multistep SDE-DPM-Solver++(2M), linear part and noise integrated exactly (drift order 2)",
       opt_eta | opt_s_noise | opt_noise | opt_solver_type, false, 0, 1, 1,
       "integral: int e^{-eta(h - tau)} dB jointly with B_h (noise=increment: k-diffusion's)"},
      {"dpm++3m-sde", SolverId::dpmpp_3m_sde, Family::stochastic, 1, 1, "k-diffusion sample_dpmpp_3m_sde",
       "multistep SDE-DPM-Solver++(3M), k-diffusion's coefficients (drift order 2, as dpm-solver++3m)",
       opt_eta | opt_s_noise | opt_noise, false, 0, 1, 1,
       "integral: int e^{-eta(h - tau)} dB jointly with B_h (noise=increment: k-diffusion's)"},
      {"edm-stochastic", SolverId::edm_stochastic, Family::stochastic, 1, 2, "Karras et al., NeurIPS 2022, Algorithm 2",
       "EDM churn (S_churn, S_tmin, S_tmax, S_noise) then Heun in s, Euler on the last interval (NFE 2N - 1)",
       opt_churn | opt_s_noise, false, 0, 1, 1, "increment: sqrt(s^2 - s_i^2) S_noise x B_h/sqrt(h)"},
      {"langevin", SolverId::langevin, Family::stochastic, 0, 1, "Song & Ermon, NeurIPS 2019, Algorithm 1",
       "annealed Langevin dynamics: `steps` steps a_i = eps s_i^2 at each grid level (NFE steps per level)",
       opt_langevin, false, 0, 0, 0, "increment: steps equal parts of each level's interval in log s"},
      {"pc", SolverId::predictor_corrector, Family::stochastic, 0, 2, "Song et al., ICLR 2021, Algorithms 2-3",
       "predictor-corrector: Langevin corrector (snr rule), reverse-diffusion predictor (NFE 1 + steps)",
       opt_corrector, false, 0, 0, 0, "increment: predictor channel 0, corrector channel 1"},
  };
  return table;
}

const SolverInfo& find_solver(const std::string& name) {
  for (const auto& info : all_solvers())
    if (info.name == name) return info;
  std::string known;
  for (const auto& info : all_solvers()) known += (known.empty() ? "" : ", ") + info.name;
  throw std::invalid_argument("unknown solver '" + name + "' (known: " + known + ")");
}

bool is_adaptive(const SolverSpec& spec) { return spec.info->adaptive; }

bool is_stochastic(const SolverSpec& spec) { return spec.info->family == Family::stochastic; }

bool noise_off(const SolverSpec& spec) {
  switch (spec.info->id) {
    case SolverId::ddim_eta:
    case SolverId::euler_ancestral:
    case SolverId::dpmpp_2s_ancestral:
    case SolverId::dpmpp_sde:
    case SolverId::dpmpp_2m_sde:
    case SolverId::dpmpp_3m_sde: return !(spec.eta > 0);
    case SolverId::edm_stochastic: return !(spec.s_churn > 0) || spec.s_tmax < spec.s_tmin;
    default: return false;
  }
}

int strong_order(const SolverSpec& spec) {
  if (!is_stochastic(spec)) return theoretical_order(spec);
  if (noise_off(spec)) {
    // DDIM; DPM-Solver++(2S), its r-stage variant, (2M) and (3M) with k-diffusion's coefficients
    // (order 2 as the official 3M's, see dpm-solver++3m); EDM's Heun.
    const SolverId id = spec.info->id;
    return id == SolverId::ddim_eta || id == SolverId::euler_ancestral ? 1 : 2;
  }
  return spec.info->strong_order;
}

int weak_order(const SolverSpec& spec) {
  if (!is_stochastic(spec) || noise_off(spec)) return strong_order(spec);
  return spec.info->weak_order;
}

double tolerance_for_budget(const SolverInfo& info, int nfe_budget) {
  if (!info.adaptive) throw std::logic_error(info.name + " has no tolerance");
  if (nfe_budget < 1) throw std::invalid_argument("an adaptive solver's budget must be >= 1");
  return std::min(1e-1, std::max(1e-12, std::pow(info.nfe_coefficient / nfe_budget, info.order)));
}

Tolerances tolerances_for(const SolverSpec& spec) {
  Tolerances t{spec.atol, spec.rtol};
  if (t.atol > 0 && t.rtol > 0) return t;
  if (spec.nfe_budget <= 0)
    throw std::invalid_argument("adaptive solver " + spec.info->name + " needs a budget or tol=... to set its tolerance");
  const double tol = tolerance_for_budget(*spec.info, spec.nfe_budget);
  if (!(t.atol > 0)) t.atol = tol;
  if (!(t.rtol > 0)) t.rtol = tol;
  return t;
}

namespace {

std::string format_double(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.3g", v);
  return buf;
}

double parse_tolerance(const std::string& key, const std::string& value) {
  const double v = parse_double(value, "option " + key);
  if (!(v > 0 && v < 1)) throw std::invalid_argument("option " + key + ": '" + value + "' must be in (0, 1)");
  return v;
}

bool is_unipc(SolverId id) { return id == SolverId::unipc_1 || id == SolverId::unipc_2 || id == SolverId::unipc_3; }

bool has_warmup(const SolverSpec& spec) { return (spec.info->options & opt_warmup) != 0; }

// DPM-Solver-fast's NFE for `steps` outer steps (final denoise not included).
int fast_nfe(const SolverSpec& spec, int steps) {
  if (spec.nfe_budget <= 0) return steps == 1 ? 1 : 3 * steps - 3;
  const int nfe = spec.nfe_budget - (spec.final_denoise ? 1 : 0);
  if (nfe / 3 + 1 != steps)
    throw std::logic_error("dpm-solver-fast bound to NFE " + std::to_string(spec.nfe_budget) + " cannot take " +
                           std::to_string(steps) + " steps");
  return nfe;
}

// Model evaluations of step i (the evaluation at grid point i included).
int step_cost(const SolverSpec& spec, int i, int steps) {
  switch (spec.info->id) {
    case SolverId::ab2:
    case SolverId::ab3:
    case SolverId::ab4:
    case SolverId::dpm_solver_pp_2m:
    case SolverId::dpm_solver_pp_3m:
    case SolverId::deis_1:
    case SolverId::deis_2:
    case SolverId::deis_3:
    case SolverId::unipc_1:
    case SolverId::unipc_2:
    case SolverId::unipc_3: {
      const int q = multistep_order(spec);
      return rk_warmup(spec) && i < q - 1 ? q : 1;
    }
    case SolverId::edm_heun:
    case SolverId::edm_stochastic: return i == steps - 1 ? 1 : 2;
    case SolverId::langevin: return spec.inner_steps;
    case SolverId::predictor_corrector: return 1 + spec.inner_steps;
    case SolverId::dpm_solver_fast: return dpm_solver_fast_order(i, steps, fast_nfe(spec, steps));
    case SolverId::pndm: return i < 3 ? 4 : 1;
    default: return spec.info->nfe_per_step;
  }
}

int parse_int(const std::string& key, const std::string& value) {
  size_t used = 0;
  int v = 0;
  try {
    v = std::stoi(value, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used != value.size() || value.empty()) throw std::invalid_argument("option " + key + ": '" + value + "' is not an integer");
  return v;
}

// A real option in [low, high] (open at the ends marked so).
double parse_real(const std::string& key, const std::string& value, double low, double high, bool open_low = false) {
  const double v = parse_double(value, "option " + key);
  if (!(open_low ? v > low : v >= low) || !(v <= high)) {
    char range[64];
    std::snprintf(range, sizeof range, "%s%g, %g]", open_low ? "(" : "[", low, high);
    throw std::invalid_argument("option " + key + ": '" + value + "' is outside " + range);
  }
  return v;
}

bool parse_on_off(const std::string& key, const std::string& value) {
  if (value == "on" || value == "true") return true;
  if (value == "off" || value == "false") return false;
  throw std::invalid_argument("option " + key + ": '" + value + "' (known: on, off)");
}

}  // namespace

int multistep_order(const SolverSpec& spec) {
  if (spec.order > 0) return spec.order;
  switch (spec.info->id) {
    case SolverId::dpm_solver_pp_3m: return 3;
    case SolverId::pndm:
    case SolverId::ipndm: return 4;
    case SolverId::unipc_1: return 1;
    case SolverId::unipc_2: return 2;
    case SolverId::unipc_3: return 3;
    default: return spec.info->order;
  }
}

bool rk_warmup(const SolverSpec& spec) {
  if (!has_warmup(spec)) return false;
  if (spec.warmup != Warmup::automatic) return spec.warmup == Warmup::rk;
  // The cap a lower-order first step imposes (theoretical_order): rk where it would bind.
  return local_order(spec) > (is_unipc(spec.info->id) && spec.corrector ? 3 : 2);
}

int local_order(const SolverSpec& spec) {
  const SolverId id = spec.info->id;
  if (id == SolverId::dpm_solver_fast) return 3;
  if (!has_warmup(spec)) return spec.info->order;
  int p = multistep_order(spec);
  if (id == SolverId::dpm_solver_pp_3m && p == 3 && !spec.taylor_d2) p = 2;
  if (is_unipc(id) && spec.corrector) p += 1;
  return p;
}

int theoretical_order(const SolverSpec& spec) {
  if (is_stochastic(spec)) return strong_order(spec);
  int p = spec.info->order;
  const SolverId id = spec.info->id;
  if (id == SolverId::dpm_solver_fast) {
    const int nfe = spec.nfe_budget - (spec.final_denoise ? 1 : 0);
    p = spec.nfe_budget > 0 && nfe % 3 == 2 ? 3 : 2;  // the last step's order + 1, at most 3
  }
  if (has_warmup(spec)) {
    p = multistep_order(spec);
    if (id == SolverId::dpm_solver_pp_3m && p == 3 && !spec.taylor_d2) p = 2;
    if (is_unipc(id) && spec.corrector) p += 1;
    // A first-order first step (UniPC: UniP-1 + UniC-1, second order) has a local error
    // O(h^2) (O(h^3)) that no later step removes.
    if (!rk_warmup(spec)) p = std::min(p, is_unipc(id) && spec.corrector ? 3 : 2);
  }
  // An order-1 last step has a local error O(h^2): the global order cannot exceed 2.
  if (spec.lower_order_final_below == lower_order_final_always) p = std::min(p, 2);
  return p;
}

SolverSpec with_budget(SolverSpec spec, int nfe_budget) {
  if (spec.info->id == SolverId::dpm_solver_fast || is_adaptive(spec)) spec.nfe_budget = nfe_budget;
  return spec;
}

int nfe_for_steps(const SolverSpec& spec, int steps) {
  if (is_adaptive(spec)) return spec.nfe_budget > 0 ? spec.nfe_budget : 0;  // an estimate, not a count
  int nfe = spec.final_denoise ? 1 : 0;
  if (spec.info->id == SolverId::dpm_solver_fast) return nfe + fast_nfe(spec, steps);
  for (int i = 0; i < steps; ++i) nfe += step_cost(spec, i, steps);
  return nfe;
}

int steps_for_budget(const SolverSpec& spec, int nfe_budget) {
  if (is_adaptive(spec)) {
    if (nfe_budget < 1) throw std::invalid_argument("NFE " + std::to_string(nfe_budget) + " is below what solver " +
                                                    spec.info->name + " needs (a budget >= 1 selects its tolerance)");
    return 1;
  }
  const int min_nfe = spec.info->id == SolverId::dpm_solver_fast ? 1 + (spec.final_denoise ? 1 : 0) : nfe_for_steps(spec, 1);
  if (min_nfe > nfe_budget)
    throw std::invalid_argument("NFE " + std::to_string(nfe_budget) + " is below what solver " + spec.info->name +
                                " needs for one step (" + std::to_string(min_nfe) + ")");
  if (spec.info->id == SolverId::dpm_solver_fast) return (nfe_budget - (spec.final_denoise ? 1 : 0)) / 3 + 1;
  // The NFE grows with the number of steps: the largest affordable count by bisection.
  int lo = 1, hi = nfe_budget;
  while (lo < hi) {
    const int mid = lo + (hi - lo + 1) / 2;
    if (nfe_for_steps(spec, mid) <= nfe_budget) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

SolverSpec parse_solver(const std::string& label) {
  const NamedOptions parsed = parse_named_options(label);
  SolverSpec spec;
  spec.info = &find_solver(parsed.name);
  if (spec.info->id == SolverId::dopri5) spec.variable = Variable::log_s;  // like the reference
  const unsigned accepts = spec.info->options;
  for (const auto& [key, value] : parsed.options) {
    if (key == "variable" && (accepts & opt_variable)) {
      spec.variable = parse_variable(value);
    } else if (key == "lower_order_final" && (accepts & opt_lower_order_final)) {
      if (value == "off") spec.lower_order_final_below = 0;
      else if (value == "on") spec.lower_order_final_below = lower_order_final_always;
      else {
        spec.lower_order_final_below = parse_int(key, value);
        if (spec.lower_order_final_below < 1)
          throw std::invalid_argument("option lower_order_final: '" + value + "' (known: off, on, or N >= 1 steps)");
      }
    } else if (key == "warmup" && (accepts & opt_warmup)) {
      if (value == "auto") spec.warmup = Warmup::automatic;
      else if (value == "multistep") spec.warmup = Warmup::multistep;
      else if (value == "rk") spec.warmup = Warmup::rk;
      else throw std::invalid_argument("option warmup: '" + value + "' (known: auto, multistep, rk)");
    } else if (key == "final") {
      if (value == "none") spec.final_denoise = false;
      else if (value == "denoise") spec.final_denoise = true;
      else throw std::invalid_argument("option final: '" + value + "' (known: none, denoise)");
    } else if (key == "corrector" && (accepts & opt_unipc)) {
      spec.corrector = parse_on_off(key, value);
    } else if (key == "variant" && (accepts & opt_unipc)) {
      if (value == "bh1") spec.unipc_variant = 0;
      else if (value == "bh2") spec.unipc_variant = 1;
      else throw std::invalid_argument("option variant: '" + value + "' (known: bh1, bh2)");
    } else if (key == "coefficients" && (accepts & opt_coefficients)) {
      if (value == "official") spec.taylor_d2 = false;
      else if (value == "taylor") spec.taylor_d2 = true;
      else throw std::invalid_argument("option coefficients: '" + value + "' (known: official, taylor)");
    } else if (key == "basis" && (accepts & opt_basis)) {
      if (value == "t") spec.deis_log_rho = false;
      else if (value == "log_rho") spec.deis_log_rho = true;
      else throw std::invalid_argument("option basis: '" + value + "' (known: t, log_rho)");
    } else if (key == "stages" && (accepts & opt_stages)) {
      if (value == "lambda") spec.stages_on_spacing = false;
      else if (value == "spacing") spec.stages_on_spacing = true;
      else throw std::invalid_argument("option stages: '" + value + "' (known: lambda, spacing)");
    } else if (key == "order" && (accepts & opt_order)) {
      spec.order = parse_int(key, value);
      const int max_order = spec.info->id == SolverId::dpm_solver_pp_3m ? 3 : spec.info->order;
      if (spec.order < 1 || spec.order > max_order)
        throw std::invalid_argument("option order: " + value + " is outside 1.." + std::to_string(max_order));
    } else if (key == "eta" && (accepts & opt_eta)) {
      spec.eta = parse_real(key, value, 0.0, spec.info->id == SolverId::ddim_eta ? 1.0 : 100.0);
    } else if (key == "s_noise" && (accepts & opt_s_noise)) {
      spec.s_noise = parse_real(key, value, 0.0, 100.0, true);
    } else if (key == "s_churn" && (accepts & opt_churn)) {
      spec.s_churn = parse_real(key, value, 0.0, 1e6);
    } else if (key == "s_tmin" && (accepts & opt_churn)) {
      spec.s_tmin = parse_real(key, value, 0.0, 1e12);
    } else if (key == "s_tmax" && (accepts & opt_churn)) {
      spec.s_tmax = value == "inf" ? INFINITY : parse_real(key, value, 0.0, 1e12);
    } else if (key == "noise" && (accepts & opt_noise)) {
      if (value == "integral") spec.joint_integral = true;
      else if (value == "increment") spec.joint_integral = false;
      else throw std::invalid_argument("option noise: '" + value + "' (known: integral, increment)");
    } else if (key == "solver_type" && (accepts & opt_solver_type)) {
      if (value == "midpoint") spec.heun_type = false;
      else if (value == "heun") spec.heun_type = true;
      else throw std::invalid_argument("option solver_type: '" + value + "' (known: midpoint, heun)");
    } else if (key == "steps" && (accepts & opt_langevin)) {
      spec.inner_steps = parse_int(key, value);
      if (spec.inner_steps < 1 || spec.inner_steps > 10000)
        throw std::invalid_argument("option steps: " + value + " is outside 1..10000");
    } else if (key == "eps" && (accepts & opt_langevin)) {
      spec.langevin_eps = parse_real(key, value, 0.0, 10.0, true);
    } else if (key == "corrector_steps" && (accepts & opt_corrector)) {
      spec.inner_steps = parse_int(key, value);
      if (spec.inner_steps < 0 || spec.inner_steps > 10000)
        throw std::invalid_argument("option corrector_steps: " + value + " is outside 0..10000");
    } else if (key == "snr" && (accepts & opt_corrector)) {
      spec.snr = parse_real(key, value, 0.0, 10.0, true);
    } else if (key == "predictor" && (accepts & opt_corrector)) {
      if (value == "reverse-diffusion") spec.predictor_em = false;
      else if (value == "euler-maruyama") spec.predictor_em = true;
      else throw std::invalid_argument("option predictor: '" + value + "' (known: reverse-diffusion, euler-maruyama)");
    } else if (key == "r" && (accepts & opt_stage_ratio)) {
      spec.stage_ratio = parse_real(key, value, 0.0, 1.0, true);
    } else if (key == "tol" && (accepts & opt_tolerance)) {
      spec.atol = spec.rtol = parse_tolerance(key, value);
    } else if (key == "atol" && (accepts & opt_tolerance)) {
      spec.atol = parse_tolerance(key, value);
    } else if (key == "rtol" && (accepts & opt_tolerance)) {
      spec.rtol = parse_tolerance(key, value);
    } else {
      throw std::invalid_argument("solver " + parsed.name + " has no option '" + key + "'");
    }
  }
  if (spec.s_tmax < spec.s_tmin)
    throw std::invalid_argument("options s_tmin and s_tmax: s_tmin must not exceed s_tmax");
  return spec;
}

std::string describe_options(const SolverSpec& spec) {
  const unsigned accepts = spec.info->options;
  std::string out;
  auto add = [&](const std::string& kv) { out += (out.empty() ? "" : ",") + kv; };
  if (accepts & opt_variable) add(std::string("variable=") + variable_name(spec.variable));
  if (accepts & opt_order) add("order=" + std::to_string(multistep_order(spec)));
  if (accepts & opt_lower_order_final)
    add("lower_order_final=" + std::string(spec.lower_order_final_below == 0 ? "off"
                                           : spec.lower_order_final_below == lower_order_final_always
                                               ? "on"
                                               : std::to_string(spec.lower_order_final_below)));
  if (accepts & opt_warmup) add(std::string("warmup=") + (rk_warmup(spec) ? "rk" : "multistep"));
  if (accepts & opt_coefficients) add(std::string("coefficients=") + (spec.taylor_d2 ? "taylor" : "official"));
  if (accepts & opt_basis) add(std::string("basis=") + (spec.deis_log_rho ? "log_rho" : "t"));
  if (accepts & opt_stages) add(std::string("stages=") + (spec.stages_on_spacing ? "spacing" : "lambda"));
  if (accepts & opt_unipc) {
    add(std::string("corrector=") + (spec.corrector ? "on" : "off"));
    add(std::string("variant=") + (spec.unipc_variant == 0 ? "bh1" : "bh2"));
  }
  if (accepts & opt_tolerance) {
    if ((spec.atol > 0 && spec.rtol > 0) || spec.nfe_budget > 0) {
      const Tolerances t = tolerances_for(spec);
      add("atol=" + format_double(t.atol));
      add("rtol=" + format_double(t.rtol));
    } else {
      add("tol=from-budget");
    }
  }
  if (accepts & opt_eta) add("eta=" + format_double(spec.eta));
  if (accepts & opt_s_noise) add("s_noise=" + format_double(spec.s_noise));
  if (accepts & opt_churn) {
    add("s_churn=" + format_double(spec.s_churn));
    add("s_tmin=" + format_double(spec.s_tmin));
    add("s_tmax=" + format_double(spec.s_tmax));
  }
  if (accepts & opt_noise) add(std::string("noise=") + (spec.joint_integral ? "integral" : "increment"));
  if (accepts & opt_solver_type) add(std::string("solver_type=") + (spec.heun_type ? "heun" : "midpoint"));
  if (accepts & opt_stage_ratio) add("r=" + format_double(spec.stage_ratio));
  if (accepts & opt_langevin) {
    add("steps=" + std::to_string(spec.inner_steps));
    add("eps=" + format_double(spec.langevin_eps));
  }
  if (accepts & opt_corrector) {
    add("snr=" + format_double(spec.snr));
    add("corrector_steps=" + std::to_string(spec.inner_steps));
    add(std::string("predictor=") + (spec.predictor_em ? "euler-maruyama" : "reverse-diffusion"));
  }
  add(std::string("final=") + (spec.final_denoise ? "denoise" : "none"));
  return out;
}

std::vector<int> stage_offsets(const SolverSpec& spec, int steps) {
  if (!spec.stages_on_spacing) return {};
  std::vector<int> offsets{0};
  for (int i = 0; i < steps; ++i) offsets.push_back(offsets.back() + step_cost(spec, i, steps));
  return offsets;
}

const char* family_name(Family f) {
  switch (f) {
    case Family::classical: return "classical";
    case Family::exponential: return "exponential";
    default: return "stochastic";
  }
}

}  // namespace pfode::solver
