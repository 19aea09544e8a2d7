// The time grid of one run, on the device: t_0 = t_max > ... > t_N = t_min with the schedule's
// alpha, sigma and lambda at every point, plus the integration variable of classical methods.
#pragma once

#include <vector>

#include "schedule/schedule.hpp"

namespace pfode::solver {

// Variable a classical (non-exponential) method integrates in. The ODE is written
// dz/dtau = a(tau) z + b(tau) D(z / scale(tau), s(tau)):
//   t:     z = x,            a = d log sigma/dt, b = alpha dlambda/dt, scale = alpha
//   s:     z = y = x/alpha,  a = 1/s,            b = -1/s,             scale = 1
//   log_s: z = y,            a = 1,              b = -1,               scale = 1
enum class Variable { t, s, log_s };

struct FieldPoint {
  double scale, s, a, b;
};

// What a method's step i does, for the cell's trace (the trajectory kernel records it per step).
struct StepTrace {
  int order = 0;           // order of the step's update (a warm-up step: its Runge-Kutta order; UniPC: UniP's)
  bool corrected = false;  // a corrector was applied to the step's result (UniPC's UniC)
};

struct StepGrid {
  Kokkos::View<const double*> t, alpha, sigma, lambda, s;  // N + 1 points
  // Singlestep DPM-Solver with stages=spacing: step i's stages at lambda_i + r h, r = stage_r(i, k)
  // (NaN where the step has fewer stages); empty: the method's fixed fractions.
  Kokkos::View<const double* [2]> stage_r;
  int steps = 0;
  schedule::Schedule schedule;
  Variable variable = Variable::t;

  // Integration variable at grid point i.
  KOKKOS_INLINE_FUNCTION double tau(int i) const {
    switch (variable) {
      case Variable::t: return t(i);
      case Variable::s: return s(i);
      default: return -lambda(i);
    }
  }
  // z = x * z_per_x(i) at grid points.
  KOKKOS_INLINE_FUNCTION double z_per_x(int i) const { return variable == Variable::t ? 1.0 : 1.0 / alpha(i); }

  KOKKOS_INLINE_FUNCTION FieldPoint field(double tau_value) const {
    switch (variable) {
      case Variable::t: {
        const double tt = tau_value;
        const double alpha_t = schedule.alpha(tt);
        return {alpha_t, schedule.s(tt), schedule.dlog_sigma_dt(tt), alpha_t * schedule.dlambda_dt(tt)};
      }
      case Variable::s: return {1.0, tau_value, 1.0 / tau_value, -1.0 / tau_value};
      default: return {1.0, math::exp(tau_value), 1.0, -1.0};
    }
  }
};

// Host-side builder: evaluates the schedule at the grid times and copies them to the device;
// stage_times (optional, 2 per step, NaN where absent) become the stage fractions in lambda.
StepGrid make_step_grid(const schedule::Schedule& schedule, const std::vector<double>& times, Variable variable,
                        const std::vector<double>& stage_times = {});

const char* variable_name(Variable v);
Variable parse_variable(const std::string& name);  // throws std::invalid_argument

}  // namespace pfode::solver
