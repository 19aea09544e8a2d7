#include "spacing/spacing.hpp"

#include "common/named_options.hpp"

#include <cmath>
#include <fstream>
#include <iomanip>
#include <sstream>
#include <stdexcept>

namespace pfode::spacing {

const std::vector<SpacingInfo>& all_spacings() {
  static const std::vector<SpacingInfo> table = {
      {"uniform-t", Kind::uniform_t, "uniform in the schedule's time t (DPM-Solver time_uniform)"},
      {"uniform-lambda", Kind::uniform_lambda, "uniform in lambda = log(alpha/sigma) (DPM-Solver logSNR)"},
      {"quadratic-t", Kind::quadratic_t, "uniform in sqrt(t), t = (...)^2 (DPM-Solver time_quadratic, DDIM quadratic)"},
      {"cosine", Kind::cosine, "t_i = t_min + (t_max - t_min)(1 + cos(pi i/N))/2, dense at both ends"},
      {"karras", Kind::karras, "EDM: s^(1/rho) uniform, s = sigma/alpha, rho = 7 (Karras et al. 2022)"},
      {"uniform-log-sigma", Kind::uniform_log_sigma, "uniform in log sigma_t of the schedule"},
      {"custom", Kind::custom, "times read from a file (custom[file=PATH]), decreasing from the schedule's t_max to its t_min"},
      {"diffusers-linspace", Kind::diffusers_linspace,
       "diffusers timestep_spacing linspace: N = steps + 1 of 1000 timesteps, round(linspace(0, 999, N + 1))[::-1][:-1]",
       false},
      {"diffusers-leading", Kind::diffusers_leading,
       "diffusers leading: timesteps k * (1000 // (N + 1)), k = N..1, + steps_offset ([offset=1] as Stable Diffusion)",
       false},
      {"diffusers-trailing", Kind::diffusers_trailing,
       "diffusers trailing: round(arange(1000, 0, -1000/N)) - 1, from 999 down", false},
  };
  return table;
}

const SpacingInfo& find_spacing(const std::string& name) {
  for (const auto& info : all_spacings())
    if (info.name == name) return info;
  std::string known;
  for (const auto& info : all_spacings()) known += (known.empty() ? "" : ", ") + info.name;
  throw std::invalid_argument("unknown spacing '" + name + "' (known: " + known + ")");
}

namespace {

std::vector<double> read_times(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw std::invalid_argument("custom spacing: cannot read file '" + path + "'");
  std::vector<double> times;
  std::string line;
  while (std::getline(in, line)) {
    const auto hash = line.find('#');
    if (hash != std::string::npos) line.resize(hash);
    std::stringstream ls(line);
    double t;
    while (ls >> t) times.push_back(t);
    if (!ls.eof()) throw std::invalid_argument("custom spacing: '" + path + "' has a non-numeric entry");
  }
  if (times.size() < 2) throw std::invalid_argument("custom spacing: '" + path + "' needs at least two times");
  for (size_t i = 1; i < times.size(); ++i)
    if (!(times[i] < times[i - 1])) throw std::invalid_argument("custom spacing: times in '" + path + "' must decrease");
  return times;
}

}  // namespace

Spacing parse_spacing(const std::string& text) {
  const NamedOptions parsed = parse_named_options(text);
  const std::string& name = parsed.name;
  Spacing sp;
  sp.kind = find_spacing(name).kind;
  for (const auto& [key, value] : parsed.options) {
    if (sp.kind == Kind::karras && key == "rho") {
      sp.rho = parse_double(value, "spacing karras: rho");
      if (!(sp.rho > 0)) throw std::invalid_argument("spacing karras: rho must be > 0");
    } else if (sp.kind == Kind::custom && key == "file") {
      sp.custom_times = read_times(value);
    } else if (sp.kind == Kind::diffusers_leading && key == "offset") {
      const long offset = parse_long(value, "spacing diffusers-leading: offset");
      if (offset < 0 || offset > 999) throw std::invalid_argument("spacing diffusers-leading: offset must be in 0..999");
      sp.steps_offset = static_cast<int>(offset);
    } else {
      throw std::invalid_argument("spacing " + name + " has no option '" + key + "'");
    }
  }
  if (sp.kind == Kind::custom && sp.custom_times.empty())
    throw std::invalid_argument("spacing custom needs a file: custom[file=PATH]");
  return sp;
}

double t_of_sigma(const schedule::Schedule& schedule, double sigma) {
  double lo = schedule.t_min, hi = schedule.t_max;
  for (int it = 0; it < 200 && hi - lo > 0; ++it) {
    const double mid = 0.5 * (lo + hi);
    if (mid == lo || mid == hi) break;
    (schedule.sigma(mid) < sigma ? lo : hi) = mid;
  }
  return 0.5 * (lo + hi);
}

std::vector<long> diffusers_timesteps(const Spacing& spacing, int count) {
  constexpr int train = 1000;
  if (count < 1 || count > train) throw std::invalid_argument("diffusers spacings take 1..1000 timesteps");
  std::vector<long> k;
  switch (spacing.kind) {
    case Kind::diffusers_linspace: {
      // np.linspace(0, 999, N + 1): i * step, the last exactly 999; reversed, the 0 dropped.
      const double step = (train - 1.0) / count;
      for (int i = count; i >= 1; --i) k.push_back(std::lrint(i == count ? train - 1.0 : i * step));
      break;
    }
    case Kind::diffusers_leading: {
      const long ratio = train / (count + 1);
      for (int i = count; i >= 1; --i) k.push_back(i * ratio + spacing.steps_offset);
      break;
    }
    case Kind::diffusers_trailing: {
      // np.arange(1000, 0, -1000/N): ceil(1000/(1000/N)) values start + i * delta, with delta taken
      // as numpy does, from the first two values.
      const double step = static_cast<double>(train) / count, delta = (train - step) - train;
      const long length = static_cast<long>(std::ceil(-train / -step));
      if (length != count)
        throw std::invalid_argument("diffusers-trailing with " + std::to_string(count) + " timesteps: diffusers' arange "
                                    "gives " + std::to_string(length) + " (its last is timestep -1); not reproduced");
      for (int i = 0; i < count; ++i) k.push_back(std::lrint(train + i * delta) - 1);
      break;
    }
    default: throw std::logic_error("not a diffusers spacing");
  }
  for (size_t i = 0; i < k.size(); ++i)
    if (k[i] < 0 || k[i] > train - 1 || (i > 0 && k[i] >= k[i - 1]))
      throw std::invalid_argument("diffusers spacing: " + std::to_string(count) + " timesteps give timestep " +
                                  std::to_string(k[i]) + (i > 0 && k[i] >= k[i - 1] ? " twice" : ", outside 0..999"));
  return k;
}

double time_of_timestep(const schedule::Schedule& schedule, long k) {
  if (schedule.discrete()) return (k + 1.0) / schedule.table.n;  // exactly the knots
  return k == 999 ? schedule.t_max : schedule.t_min + k * (schedule.t_max - schedule.t_min) / 999.0;
}

std::vector<double> make_grid(const Spacing& spacing, const schedule::Schedule& schedule, int steps) {
  if (steps < 1) throw std::invalid_argument("a grid needs at least one step");
  if (spacing.kind == Kind::diffusers_linspace || spacing.kind == Kind::diffusers_leading ||
      spacing.kind == Kind::diffusers_trailing) {
    // The grid is diffusers' timesteps; the step to sigma = 0 after them is a solver's final=denoise.
    if (schedule.discrete() && schedule.table.n != 1000)
      throw std::invalid_argument("diffusers spacings assume 1000 training timesteps");
    std::vector<double> t;
    for (long k : diffusers_timesteps(spacing, steps + 1)) t.push_back(time_of_timestep(schedule, k));
    if (t.front() > schedule.t_max || t.back() < schedule.t_min)
      throw std::invalid_argument("diffusers spacing: its timesteps fall outside the schedule's [t_min, t_max]");
    return t;
  }
  const double t0 = schedule.t_max, t1 = schedule.t_min;
  std::vector<double> t(steps + 1);
  auto fraction = [steps](int i) { return static_cast<double>(i) / steps; };
  switch (spacing.kind) {
    case Kind::uniform_t:
      for (int i = 0; i <= steps; ++i) t[i] = t0 + fraction(i) * (t1 - t0);
      break;
    case Kind::uniform_lambda: {
      const double l0 = schedule.lambda(t0), l1 = schedule.lambda(t1);
      for (int i = 0; i <= steps; ++i) t[i] = schedule.t_of_lambda(l0 + fraction(i) * (l1 - l0));
      break;
    }
    case Kind::quadratic_t: {
      const double r0 = std::sqrt(t0), r1 = std::sqrt(t1);
      for (int i = 0; i <= steps; ++i) {
        const double r = r0 + fraction(i) * (r1 - r0);
        t[i] = r * r;
      }
      break;
    }
    case Kind::cosine:
      for (int i = 0; i <= steps; ++i) t[i] = t1 + (t0 - t1) * 0.5 * (1.0 + std::cos(M_PI * fraction(i)));
      break;
    case Kind::karras: {
      const double a = std::pow(schedule.s(t0), 1.0 / spacing.rho), b = std::pow(schedule.s(t1), 1.0 / spacing.rho);
      for (int i = 0; i <= steps; ++i)
        t[i] = schedule.t_of_lambda(-spacing.rho * std::log(a + fraction(i) * (b - a)));
      break;
    }
    case Kind::uniform_log_sigma: {
      const double a = std::log(schedule.sigma(t0)), b = std::log(schedule.sigma(t1));
      for (int i = 0; i <= steps; ++i) t[i] = t_of_sigma(schedule, std::exp(a + fraction(i) * (b - a)));
      break;
    }
    case Kind::custom:
      if (static_cast<int>(spacing.custom_times.size()) != steps + 1)
        throw std::invalid_argument("custom spacing has " + std::to_string(spacing.custom_times.size() - 1) +
                                    " steps but the NFE budget gives " + std::to_string(steps));
      t = spacing.custom_times;
      // Start states are drawn at t_max and errors measured at t_min: a grid must span exactly
      // that interval (to a relative 1e-9, the digits a file may drop; then snapped to it).
      if (!(std::fabs(t.front() - t0) <= 1e-9 * t0 && std::fabs(t.back() - t1) <= 1e-9 * t1)) {
        std::ostringstream msg;
        msg << std::setprecision(17) << "custom spacing must run from the schedule's t_max = " << t0 << " to t_min = " << t1
            << " (the file gives " << t.front() << " to " << t.back() << ")";
        throw std::invalid_argument(msg.str());
      }
      break;
  }
  // Inverse maps may miss the endpoints by an ulp; the grid must start and end on them exactly.
  t.front() = t0;
  t.back() = t1;
  for (int i = 1; i <= steps; ++i)
    if (!(t[i] < t[i - 1])) throw std::invalid_argument("spacing produced a non-decreasing grid (too many steps?)");
  return t;
}

}  // namespace pfode::spacing
