// Every solver pfode knows, with its theoretical order, cost and source: the boundary between
// solver names and the concrete device methods.
#pragma once

#include <string>
#include <vector>

#include "solver/step_grid.hpp"

namespace pfode::solver {

enum class SolverId {
  euler, midpoint, heun, rk3, rk4, ab2, ab3, ab4, edm_heun, ddim,
  dpm_solver_1, dpm_solver_2, dpm_solver_3, dpm_solver_fast,
  dpm_solver_pp_2s, dpm_solver_pp_2m, dpm_solver_pp_3m,
  deis_1, deis_2, deis_3, pndm, ipndm, unipc_1, unipc_2, unipc_3,
  dopri5, dpm_solver_12, dpm_solver_23,
  euler_maruyama, ddpm, ddim_eta, euler_ancestral, dpmpp_2s_ancestral, dpmpp_sde, dpmpp_2m_sde, dpmpp_3m_sde,
  edm_stochastic, langevin, predictor_corrector
};

// Stochastic samplers draw noise from a Brownian path (brownian/) and run through
// solver::sample_solver; they have a strong and a weak order instead of one ODE order.
enum class Family { classical, exponential, stochastic };

// Options a solver accepts (bit mask in SolverInfo::options); `final` is accepted by all.
enum OptionBits : unsigned {
  opt_variable = 1u << 0,           // integration variable of classical methods
  opt_lower_order_final = 1u << 1,  // multistep methods
  opt_warmup = 1u << 2,             // multistep warm-up: lower-order multistep or Runge-Kutta
  opt_unipc = 1u << 3,              // corrector, variant
  opt_order = 1u << 4,              // lower the order of a multistep method (order=1..p)
  opt_coefficients = 1u << 5,       // dpm-solver++3m: official | taylor
  opt_tolerance = 1u << 6,          // adaptive solvers: tol, atol, rtol
  opt_basis = 1u << 7,              // deis: interpolation basis t (tAB) | log_rho
  opt_stages = 1u << 8,             // singlestep DPM-Solver: stages fixed in lambda | on the spacing
  opt_eta = 1u << 9,                // stochastic: eta (ancestral noise level, or the SDE's noise rate)
  opt_s_noise = 1u << 10,           // stochastic: s_noise (noise multiplier)
  opt_churn = 1u << 11,             // edm-stochastic: s_churn, s_tmin, s_tmax
  opt_noise = 1u << 12,             // exponential SDE integrators: noise = integral | increment
  opt_solver_type = 1u << 13,       // dpm++2m-sde: solver_type = midpoint | heun
  opt_langevin = 1u << 14,          // langevin: steps (per level), eps
  opt_corrector = 1u << 15,         // pc: snr, corrector_steps, predictor
  opt_stage_ratio = 1u << 16,       // dpm++sde: r (the stage's fraction of the step in lambda)
};

struct SolverInfo {
  std::string name;
  SolverId id;
  Family family;
  int order;          // theoretical global order p with default options (LTE order p + 1)
  int nfe_per_step;   // model evaluations per step (after warm-up; last-step savings aside)
  std::string reference;
  std::string description;
  unsigned options = 0;
  // Adaptive step size (dopri5, dpm-solver-12/23): each sample takes its own steps between the
  // points of its grid (a sweep gives it [t_max, t_min]); the budget selects the tolerance
  // (tolerances_for), nfe_per_step is per attempted step, the NFE is what each sample spends
  // (it differs between samples), and LTE is not defined.
  bool adaptive = false;
  // Adaptive: K in the asymptotic NFE ~ K tol^(-1/p), measured on the 4-D test Gaussian on
  // vp-linear (tests/test_solvers_adaptive.cpp); the budget B selects tol = (K / B)^p.
  double nfe_coefficient = 0;
  // Stochastic samplers (Family::stochastic; `order` is the strong order): the strong order of the
  // pathwise error against the same SDE on the same Brownian path, the weak order of the law's
  // error, 0 where the sampler has none (it converges to no SDE as its steps shrink), and how it
  // takes its noise from the path.
  int strong_order = 0, weak_order = 0;
  std::string noise;
};

const std::vector<SolverInfo>& all_solvers();
const SolverInfo& find_solver(const std::string& name);  // throws std::invalid_argument

// Warm-up of multistep methods: lower-order multistep steps, or Runge-Kutta steps of the method's
// order (classical RK for AB, singlestep DPM-Solver for exponential methods); automatic = rk
// where a first-order first step would cap the global order (order >= 3; UniPC: >= 4), else
// multistep.
enum class Warmup { automatic, multistep, rk };

// lower_order_final = on: lower orders on the last steps whatever the number of steps.
inline constexpr int lower_order_final_always = 1 << 30;

// A solver as a cell uses it: the registry entry plus its recorded options (defaults as in
// README.md, "Solvers": the ones for truncation-error studies).
struct SolverSpec {
  const SolverInfo* info = nullptr;
  Variable variable = Variable::t;  // classical methods only
  int lower_order_final_below = 0;  // 0: off; lower_order_final_always: on; N: only when steps < N
  Warmup warmup = Warmup::automatic;
  bool taylor_d2 = false;           // dpm-solver++3m: coefficients=taylor (2 phi_3 on D2)
  bool deis_log_rho = false;        // deis: eps interpolated in lambda (basis=log_rho), not in t
  // Singlestep DPM-Solver (stages=spacing): intermediate stages where the spacing would put grid
  // points (the official skip_type placement; see stage_offsets), not at r = 1/2 (1/3, 2/3) in lambda.
  bool stages_on_spacing = false;
  bool final_denoise = false;       // x_N <- alpha_N D(x_N) at +1 NFE
  bool corrector = true;            // UniPC
  int unipc_variant = 0;            // UniPC: 0 = bh1, 1 = bh2
  int order = 0;                    // 0: the entry's order; else a lower multistep order
  int nfe_budget = 0;               // dpm-solver-fast: the budget it spends exactly; adaptive: selects
                                    // the tolerance (0: unbound)
  double atol = 0, rtol = 0;        // adaptive: tolerances set by options (0: from the budget)
  // Stochastic samplers (README.md, "Stochastic samplers").
  double eta = 1;                   // ancestral eta; dpm++2m/3m-sde: the SDE's noise rate
  double s_noise = 1;               // noise multiplier
  double s_churn = 40, s_tmin = 0.05, s_tmax = 50;  // edm-stochastic (EDM's ImageNet-64 values)
  bool joint_integral = true;       // dpm++2m/3m-sde: noise = integral (else increment, k-diffusion's)
  bool heun_type = false;           // dpm++2m-sde: solver_type = heun (else midpoint)
  int inner_steps = 1;              // langevin: steps per level; pc: corrector steps
  double langevin_eps = 0.2;        // langevin: step a_i = eps s_i^2
  double snr = 0.16;                // pc: the corrector's signal-to-noise ratio
  bool predictor_em = false;        // pc: predictor = euler-maruyama (else reverse-diffusion)
  double stage_ratio = 0.5;         // dpm++sde: r
};

bool is_stochastic(const SolverSpec& spec);

// A stochastic sampler whose options switch its noise off (eta = 0, s_churn = 0): the ODE solver it
// then is, whose strong error is its GTE and whose orders are the ODE's.
bool noise_off(const SolverSpec& spec);

// Theoretical strong and weak orders of a spec (0: none). Deterministic solvers: the strong error is
// the GTE (order theoretical_order), and so is the weak order (a map with an O(h^p) error moves
// the law by O(h^p)).
int strong_order(const SolverSpec& spec);
int weak_order(const SolverSpec& spec);

bool is_adaptive(const SolverSpec& spec);

// Tolerances of an adaptive spec: the options tol / atol / rtol where given, otherwise
// atol = rtol = (K / B)^p for the bound budget B (K = SolverInfo::nfe_coefficient, p = order),
// clamped to [1e-12, 1e-1]: the tolerance at which the method spends about B NFE on the test
// Gaussian once B is past its start-up cost (elsewhere the NFE differs; what is recorded is
// what was spent). Throws std::invalid_argument for an unbound spec without explicit tolerances.
struct Tolerances {
  double atol, rtol;
};
Tolerances tolerances_for(const SolverSpec& spec);
double tolerance_for_budget(const SolverInfo& info, int nfe_budget);

// Parses "name" or "name[key=value,...]" (options as documented in README.md, "Solvers");
// throws std::invalid_argument for unknown names, options or values.
SolverSpec parse_solver(const std::string& label);

// The options of a spec as "key=value" pairs, for the record (HDF5 and the resolved config).
std::string describe_options(const SolverSpec& spec);

// Theoretical global order of a spec: the entry's order as changed by its options (UniPC without
// corrector, a lowered multistep order, lower_order_final = on).
int theoretical_order(const SolverSpec& spec);

// Order of a typical step (the LTE order is local_order + 1): theoretical_order without the caps
// that a few steps impose on the global error (a low-order warm-up or last step).
int local_order(const SolverSpec& spec);

// Order of the multistep formula a spec runs (AB, DPM-Solver++ multistep, DEIS, iPNDM, UniP),
// and whether its warm-up is by Runge-Kutta steps (Warmup::automatic resolved).
int multistep_order(const SolverSpec& spec);
bool rk_warmup(const SolverSpec& spec);

// The spec bound to one NFE budget: DPM-Solver-fast then spends exactly that budget (its order
// mix depends on budget % 3, which the number of steps alone does not tell). Other solvers are
// unaffected. Unbound, DPM-Solver-fast spends the smallest NFE with that many steps.
SolverSpec with_budget(SolverSpec spec, int nfe_budget);

// Steps that fit an NFE budget, and the NFE those steps cost (every evaluation counted: warm-up
// stages, a skipped last correction, the final denoise); steps_for_budget throws
// std::invalid_argument when the budget cannot pay for one step.
// Adaptive solvers: steps_for_budget is 1 for any budget >= 1 (the grid [t_max, t_min]; the solver
// picks its own steps inside) and nfe_for_steps is no count but a cost estimate for load
// balancing: the bound budget (0 when unbound). Never compare it with a counted NFE.
int steps_for_budget(const SolverSpec& spec, int nfe_budget);
int nfe_for_steps(const SolverSpec& spec, int steps);

// Singlestep DPM-Solver with stages=spacing, as the official code places them for skip types
// other than logSNR: the spacing makes a fine grid of sum(orders) intervals (DPM-Solver-2/-3: order
// x steps; DPM-Solver-fast: its NFE), step i runs from fine point offsets[i] to offsets[i + 1]
// (the cumulative step orders) and its stages sit on the fine points in between. Empty for every
// other spec (the spacing's own grid of `steps` steps).
std::vector<int> stage_offsets(const SolverSpec& spec, int steps);

const char* family_name(Family f);

}  // namespace pfode::solver
