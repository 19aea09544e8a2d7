// Log-likelihoods through the probability-flow ODE (instantaneous change of variables) and their
// error budget against the exact log-density of the model (DESIGN.md section 4).
//
// A data point x_0 is placed at t_min (as score-SDE and k-diffusion do) and the augmented ODE
// (likelihood/flow.hpp) carries it to t_max; the estimate of log p_0(x_0) is
//   log pi(x_T) + Delta,  Delta = z(s_max) + d (log alpha_T - log alpha_min),
// with the Gaussian prior pi = N(0, (alpha_T^2 + sigma_T^2) I) (model/start_states.hpp's prior).
// Its error against the exact log p_0(x_0) splits exactly into four parts, each against a closed
// form (canonical y = x / alpha, s = sigma / alpha, log p_t(x) = log p(x / alpha; s) - d log alpha):
//   integration = log p(y_T; s_T) + z_0(s_T) - log p(y_0; s_min)   (solver, exact divergence)
//   estimator   = z_hutchinson(s_T) - z_0(s_T)                    (0 with the exact divergence)
//   prior       = log pi(x_T) - log p_T(x_T)                       (at the integrated x_T)
//   truncation  = log p_{t_min}(x_0) - log p_0(x_0)
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "likelihood/flow.hpp"
#include "model/kinds.hpp"
#include "reference/dop853.hpp"
#include "schedule/schedule.hpp"
#include "solver/registry.hpp"

namespace pfode::likelihood {

struct Divergence {
  int probes = 0;  // 0: the exact divergence only; else the mean over this many Hutchinson probes
  Probe probe = Probe::rademacher;
  std::uint64_t seed = 0;
};

// The end of the augmented ODE for a batch of data points.
struct Flow {
  int samples = 0, dim = 0, probes = 0;
  std::vector<double> y_end;          // samples x dim: canonical y at s_max
  std::vector<double> z_exact;        // samples: z_0(s_max), the exact divergence's integral
  std::vector<double> z_probes;       // samples x probes: each Hutchinson probe's integral
  std::vector<long> nfe;              // samples: model evaluations counted
  int failed = 0;                     // samples whose integration did not get through (NaN)
};

struct Interval {
  schedule::Schedule schedule;
  double t_min = 0, t_max = 1;
  // Variance of the Gaussian prior per coordinate; 0: alpha_T^2 + sigma_T^2 (N(0, I) on VP, as
  // score-SDE; k-diffusion takes sigma_T^2).
  double prior_variance = 0;
};

// x0: data points (samples x dim, row-major), at t_min. The reference: DOP853 in log s.
Flow integrate_reference(const model::DeviceModel& model, const Interval& interval, const std::vector<double>& x0,
                         const Divergence& divergence, const reference::Dop853Settings& settings = {});

// A registered solver on the grid `times` (t_min = times[0] < ... < times[N] = t_max; adaptive
// solvers: [t_min, t_max]).
Flow integrate_solver(const model::DeviceModel& model, const Interval& interval, const std::vector<double>& times,
                      const solver::SolverSpec& spec, const std::vector<double>& x0, const Divergence& divergence);

// Exact log p(y_p; s) of the model at canonical points (samples x dim), one per sample.
std::vector<double> log_density(const model::DeviceModel& model, const std::vector<double>& y, double s);

// D(y, s) and tr dD/dy at canonical points (closed form); Hutchinson's v . (dD/dy) v for probe q
// of sample p (the generator's probe for that sample).
struct Jacobian {
  std::vector<double> denoised;  // samples x dim
  std::vector<double> trace;     // samples
  std::vector<double> quadratic; // samples x probes
};
Jacobian jacobian_terms(const model::DeviceModel& model, const std::vector<double>& y, double s,
                        const Divergence& divergence);

// The per-sample budget, in nats (see the top of this file); total = the four parts' sum.
struct Budget {
  std::vector<double> estimate, exact_log_p0, exact_log_p_tmin, total;
  std::vector<double> integration, estimator, prior, truncation;
};
Budget error_budget(const model::DeviceModel& model, const Interval& interval, const std::vector<double>& x0,
                    const Flow& flow);

struct Summary {
  double rms = 0, mean = 0, max_abs = 0;  // nats; bits/dim = nats / (dim ln 2)
};
Summary summarise(const std::vector<double>& errors);
double bits_per_dim(double nats, int dim);

const char* probe_name(Probe probe);
Probe parse_probe(const std::string& name);  // rademacher | gaussian; throws std::invalid_argument

// The published likelihood settings, reproduced: the schedule, t_min, the adaptive solver and its
// tolerances, the probes and the prior.
struct Preset {
  std::string name, schedule;
  double t_min;
  std::string solver;  // a solver label (solver::parse_solver), integrated on [t_min, t_max]
  int probes;
  Probe probe;
  bool prior_sigma;    // prior N(0, sigma_T^2 I) instead of N(0, (alpha_T^2 + sigma_T^2) I)
  std::string description;
};
const std::vector<Preset>& all_presets();
const Preset& find_preset(const std::string& name);  // throws std::invalid_argument listing the names

// Whether a model kind has the closed forms the likelihood needs; throws std::invalid_argument
// naming the problem otherwise.
void require_closed_forms(const model::DeviceModel& model);

// Whether integrate_solver can run a solver from t_min up; throws std::invalid_argument naming the
// problem otherwise (stochastic samplers: the likelihood is the ODE's; DEIS with basis=t).
void require_ode_solver(const solver::SolverSpec& spec);

}  // namespace pfode::likelihood
