#include "solver/step_grid.hpp"

#include <cmath>
#include <stdexcept>
#include <string>

namespace pfode::solver {

StepGrid make_step_grid(const schedule::Schedule& schedule, const std::vector<double>& times, Variable variable,
                        const std::vector<double>& stage_times) {
  const int n = static_cast<int>(times.size());
  Kokkos::View<double*> t("pfode::grid::t", n), alpha("pfode::grid::alpha", n), sigma("pfode::grid::sigma", n),
      lambda("pfode::grid::lambda", n), s("pfode::grid::s", n);
  auto th = Kokkos::create_mirror_view(t), ah = Kokkos::create_mirror_view(alpha),
       sh = Kokkos::create_mirror_view(sigma), lh = Kokkos::create_mirror_view(lambda),
       ssh = Kokkos::create_mirror_view(s);
  for (int i = 0; i < n; ++i) {
    th(i) = times[i];
    ah(i) = schedule.alpha(times[i]);
    sh(i) = schedule.sigma(times[i]);
    lh(i) = schedule.lambda(times[i]);
    ssh(i) = std::exp(-lh(i));
  }
  Kokkos::deep_copy(t, th);
  Kokkos::deep_copy(alpha, ah);
  Kokkos::deep_copy(sigma, sh);
  Kokkos::deep_copy(lambda, lh);
  Kokkos::deep_copy(s, ssh);
  StepGrid g;
  g.t = t;
  g.alpha = alpha;
  g.sigma = sigma;
  g.lambda = lambda;
  g.s = s;
  g.steps = n - 1;
  g.schedule = schedule;
  g.variable = variable;
  if (!stage_times.empty()) {
    if (stage_times.size() != 2 * static_cast<size_t>(g.steps))
      throw std::invalid_argument("stage times: two per step expected");
    Kokkos::View<double* [2]> r("pfode::grid::stage_r", g.steps);
    auto rh = Kokkos::create_mirror_view(r);
    for (int i = 0; i < g.steps; ++i)
      for (int k = 0; k < 2; ++k) {
        const double stage = stage_times[2 * i + k];
        rh(i, k) = std::isnan(stage) ? stage : (schedule.lambda(stage) - lh(i)) / (lh(i + 1) - lh(i));
      }
    Kokkos::deep_copy(r, rh);
    g.stage_r = r;
  }
  return g;
}

const char* variable_name(Variable v) {
  switch (v) {
    case Variable::t: return "t";
    case Variable::s: return "s";
    default: return "log_s";
  }
}

Variable parse_variable(const std::string& name) {
  if (name == "t") return Variable::t;
  if (name == "s") return Variable::s;
  if (name == "log_s" || name == "lambda") return Variable::log_s;
  throw std::invalid_argument("unknown integration variable '" + name + "' (known: t, s, log_s)");
}

}  // namespace pfode::solver
