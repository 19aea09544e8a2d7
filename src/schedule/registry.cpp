#include "schedule/registry.hpp"

#include <cmath>
#include <iomanip>
#include <sstream>
#include <stdexcept>

namespace pfode::schedule {

namespace {

// log alpha_n = 1/2 sum_{i<=n} log(1 - beta_i) at the N training timesteps of a discrete schedule,
// the betas linear in i (or, scaled, their square roots), as DDPM and diffusers define them
// (computed here in double; diffusers and the official DPM-Solver code use float32).
void fill_table(Schedule& s) {
  const int n = max_discrete_timesteps;
  s.table.n = n;
  double sum = 0.0;
  for (int i = 0; i < n; ++i) {
    const double f = static_cast<double>(i) / (n - 1);
    double beta = s.p0 + f * (s.p1 - s.p0);
    if (s.kind == Kind::ddpm_scaled_linear) {
      const double root = std::sqrt(s.p0) + f * (std::sqrt(s.p1) - std::sqrt(s.p0));
      beta = root * root;
    }
    sum += std::log1p(-beta);
    s.table.log_alpha[i] = 0.5 * sum;
  }
}

Schedule with(Kind kind, double t_min, double t_max, double p0, double p1) {
  Schedule s;
  s.kind = kind;
  s.t_min = t_min;
  s.t_max = t_max;
  s.p0 = p0;
  s.p1 = p1;
  if (s.discrete()) fill_table(s);
  return s;
}

}  // namespace

const std::vector<ScheduleInfo>& all_schedules() {
  // t ranges follow the usual continuous-time conventions: VP stops at t = 1e-3, cosine at
  // t = 0.9946 (where alpha would reach 0 soon after; DPM-Solver's choice), EDM spans
  // sigma in [0.002, 80], flow stops short of alpha = 0.
  static const std::vector<ScheduleInfo> table = {
      {"vp-linear", Kind::vp_linear, "VP, linear beta in [beta_min, beta_max]",
       with(Kind::vp_linear, 1e-3, 1.0, 0.1, 20.0), {"beta_min", "beta_max"}},
      {"vp-cosine", Kind::vp_cosine, "VP, cosine alpha-bar with offset s (improved DDPM)",
       with(Kind::vp_cosine, 1e-3, 0.9946, 0.008, 0.0), {"s"}},
      {"ve", Kind::ve, "VE, geometric sigma from sigma_min to sigma_max",
       with(Kind::ve, 0.0, 1.0, 0.01, 50.0), {"sigma_min", "sigma_max"}},
      {"edm", Kind::edm, "EDM, alpha = 1, sigma = t", with(Kind::edm, 0.002, 80.0, 0.0, 0.0), {}},
      {"flow", Kind::flow, "flow matching, alpha = 1 - t, sigma = t",
       with(Kind::flow, 1e-3, 0.99, 0.0, 0.0), {}},
      // The 1000 training timesteps n at t = (n + 1)/1000: t in [1e-3, 1], as the official
      // DPM-Solver runs discrete models (and diffusers' timesteps 0..999).
      {"ddpm-linear", Kind::ddpm_linear,
       "discrete DDPM, 1000 timesteps, beta linear in [beta_start, beta_end]; log alpha linear in t between them",
       with(Kind::ddpm_linear, 1e-3, 1.0, 1e-4, 0.02), {"beta_start", "beta_end"}},
      {"ddpm-scaled-linear", Kind::ddpm_scaled_linear,
       "discrete DDPM as Stable Diffusion: sqrt(beta) linear in [sqrt(beta_start), sqrt(beta_end)], 1000 timesteps",
       with(Kind::ddpm_scaled_linear, 1e-3, 1.0, 0.00085, 0.012), {"beta_start", "beta_end"}},
  };
  return table;
}

const ScheduleInfo& find_schedule(const std::string& name) {
  for (const auto& info : all_schedules())
    if (info.name == name) return info;
  std::string known;
  for (const auto& info : all_schedules()) known += (known.empty() ? "" : ", ") + info.name;
  throw std::invalid_argument("unknown schedule '" + name + "' (known: " + known + ")");
}

Schedule make_schedule(const std::string& name, const std::map<std::string, double>& overrides) {
  const ScheduleInfo& info = find_schedule(name);
  Schedule s = info.defaults;
  for (const auto& [key, value] : overrides) {
    if (!std::isfinite(value)) throw std::invalid_argument("schedule " + name + ": " + key + " is not finite");
    if (key == "t_min") s.t_min = value;
    else if (key == "t_max") s.t_max = value;
    else if (!info.parameter_names.empty() && key == info.parameter_names[0]) s.p0 = value;
    else if (info.parameter_names.size() > 1 && key == info.parameter_names[1]) s.p1 = value;
    else throw std::invalid_argument("schedule " + name + " has no parameter '" + key + "'");
  }
  auto fail = [&](const std::string& why) { throw std::invalid_argument("schedule " + name + ": " + why); };
  if (!(s.t_min < s.t_max)) fail("t_min must be below t_max");
  switch (s.kind) {
    case Kind::vp_linear:
      if (!(s.p0 > 0 && s.p1 > s.p0)) fail("need 0 < beta_min < beta_max");
      if (!(s.t_min > 0)) fail("t_min must be > 0 (sigma vanishes at t = 0)");
      break;
    case Kind::vp_cosine:
      if (!(s.p0 > 0)) fail("s must be > 0");
      if (!(s.t_min > 0 && s.t_max < 1.0)) fail("need 0 < t_min and t_max < 1 (alpha vanishes at t = 1)");
      break;
    case Kind::ve:
      if (!(s.p0 > 0 && s.p1 > s.p0)) fail("need 0 < sigma_min < sigma_max");
      break;
    case Kind::edm:
      if (!(s.t_min > 0)) fail("t_min (= sigma_min) must be > 0");
      break;
    case Kind::flow:
      if (!(s.t_min > 0 && s.t_max < 1.0)) fail("need 0 < t_min and t_max < 1");
      break;
    case Kind::ddpm_linear:
    case Kind::ddpm_scaled_linear:
      if (!(s.p0 > 0 && s.p1 > s.p0 && s.p1 < 1)) fail("need 0 < beta_start < beta_end < 1");
      // Between the first and the last training timestep: outside, log alpha is extrapolated.
      if (!(s.t_min >= 1e-3 && s.t_max <= 1.0)) fail("need 1e-3 <= t_min and t_max <= 1 (timesteps 0..999)");
      fill_table(s);
      break;
  }
  // The range the schedule is defined for (its defaults, the published choices): beyond it the
  // schedules are extrapolations nobody samples with (EDM past sigma = 80, VP below t = 1e-3).
  if (s.t_min < info.defaults.t_min || s.t_max > info.defaults.t_max) {
    std::ostringstream msg;
    msg << std::setprecision(6) << "t_min and t_max must lie in [" << info.defaults.t_min << ", " << info.defaults.t_max
        << "] (got " << s.t_min << " .. " << s.t_max << ")";
    fail(msg.str());
  }
  // The canonical ODE runs over s = sigma/alpha in [s(t_min), s(t_max)]: both must be numbers the
  // reference integrates in log s without overflow or loss ([1e-8, 1e7] covers every published
  // schedule: EDM's s reaches 80, VP-linear's ~150).
  const double s_min = s.s(s.t_min), s_max = s.s(s.t_max);
  if (!(s_min >= 1e-8 && s_max <= 1e7)) {
    std::ostringstream msg;
    msg << std::setprecision(3) << "s = sigma/alpha spans " << s_min << " .. " << s_max << ", outside [1e-8, 1e7]";
    fail(msg.str());
  }
  return s;
}

}  // namespace pfode::schedule
