#include "likelihood/likelihood.hpp"

#include <cmath>
#include <numeric>
#include <stdexcept>
#include <type_traits>
#include <variant>

#include "lane/layout.hpp"
#include "solver/run.hpp"
#include "solver/step_grid.hpp"

namespace pfode::likelihood {

namespace {

// Kinds with the closed forms of likelihood/flow.hpp (D with tr dD/dy, and log p).
template <class M, class = void>
struct has_closed_forms : std::false_type {};
template <class M>
struct has_closed_forms<M, std::void_t<decltype(&M::template denoise_trace<double (*)(int), double& (*)(int)>),
                                       decltype(&M::template log_density<double (*)(int)>)>> : std::true_type {};

// f(kind) for a kind with the closed forms; throws for the others.
template <class F>
auto with_closed_forms(const model::DeviceModel& model, const F& f) {
  return std::visit(
      [&](const auto& kind) {
        using Kind = std::decay_t<decltype(kind)>;
        if constexpr (has_closed_forms<Kind>::value) {
          return f(kind);
        } else {
          throw std::invalid_argument("the likelihood needs a model kind with a closed-form log-density and "
                                      "denoiser Jacobian trace (a diagonal Gaussian mixture)");
          return f(model::DiagonalMixture{});  // the return type only
        }
      },
      model);
}

int data_dim(const model::DeviceModel& model) { return model::dimension(model); }

int count_samples(const std::vector<double>& points, int dim) {
  if (dim <= 0 || points.size() % dim != 0) throw std::invalid_argument("likelihood: points must be samples x dim");
  return static_cast<int>(points.size() / dim);
}

// Augmented start states (samples, dim + 1 + probes): y_0 = x_0 / alpha_min, every z = 0.
Kokkos::View<double**> augmented_start(const std::vector<double>& x0, int dim, int extra, double alpha_min) {
  const int samples = count_samples(x0, dim);
  Kokkos::View<double**> y("pfode::likelihood::start", samples, dim + extra);
  auto h = Kokkos::create_mirror_view(y);
  for (int p = 0; p < samples; ++p)
    for (int j = 0; j < dim + extra; ++j) h(p, j) = j < dim ? x0[static_cast<size_t>(p) * dim + j] / alpha_min : 0.0;
  Kokkos::deep_copy(y, h);
  return y;
}

Kokkos::View<double*> log_s_view(const std::vector<double>& s) {
  Kokkos::View<double*> u("pfode::likelihood::u", s.size());
  auto h = Kokkos::create_mirror_view(u);
  for (size_t m = 0; m < s.size(); ++m) h(m) = std::log(s[m]);
  Kokkos::deep_copy(u, h);
  return u;
}

template <class Base>
LikelihoodFlow<Base> make_flow(const Base& base, const Divergence& divergence) {
  if (divergence.probes < 0) throw std::invalid_argument("likelihood: the number of probes must be >= 0");
  LikelihoodFlow<Base> flow;
  flow.base = base;
  flow.probes = divergence.probes;
  flow.probe = divergence.probe;
  flow.seed = divergence.seed;
  return flow;
}

// DOP853 on the augmented ODE through canonical s_out (increasing): states (sample, m, coord).
template <class Flow_>
Kokkos::View<double***> solve_flow(const Flow_& flow, Kokkos::View<const double**> start, const std::vector<double>& s_out,
                                   const reference::Dop853Settings& settings, std::vector<long>& nfe_out, int& failed_out) {
  for (size_t m = 1; m < s_out.size(); ++m)
    if (!(s_out[m] > s_out[m - 1])) throw std::invalid_argument("likelihood: times must increase from t_min to t_max");
  const int samples = static_cast<int>(start.extent(0));
  lane::NfeCounter nfe("pfode::likelihood::nfe", samples);
  Kokkos::View<double***> y("pfode::likelihood::y", samples, s_out.size(), flow.dimension());
  Kokkos::View<int*> failed("pfode::likelihood::failed", samples);
  Kokkos::View<long**> steps("pfode::likelihood::steps", samples, 2);
  reference::dop853<lane::pack_width>("pfode::likelihood", flow, start, log_s_view(s_out), settings, nfe, y, failed,
                                      steps);
  auto nfe_h = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), nfe);
  auto failed_h = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), failed);
  nfe_out.assign(nfe_h.data(), nfe_h.data() + samples);
  failed_out = 0;
  for (int p = 0; p < samples; ++p) failed_out += failed_h(p);
  return y;
}

// The Flow record of final augmented canonical states (samples x (dim + 1 + probes), row-major).
Flow to_flow(const std::vector<double>& end, int samples, int dim, int probes) {
  Flow f;
  f.samples = samples;
  f.dim = dim;
  f.probes = probes;
  const int width = dim + 1 + probes;
  for (int p = 0; p < samples; ++p) {
    const double* row = end.data() + static_cast<size_t>(p) * width;
    f.y_end.insert(f.y_end.end(), row, row + dim);
    f.z_exact.push_back(row[dim]);
    f.z_probes.insert(f.z_probes.end(), row + dim + 1, row + width);
  }
  return f;
}

}  // namespace

void require_closed_forms(const model::DeviceModel& model) {
  with_closed_forms(model, [](const auto&) { return 0; });
}

Flow integrate_reference(const model::DeviceModel& model, const Interval& interval, const std::vector<double>& x0,
                         const Divergence& divergence, const reference::Dop853Settings& settings) {
  const int dim = data_dim(model), samples = count_samples(x0, dim);
  const auto& sc = interval.schedule;
  return with_closed_forms(model, [&](const auto& kind) {
    const auto flow = make_flow(kind, divergence);
    const auto start = augmented_start(x0, dim, 1 + divergence.probes, sc.alpha(interval.t_min));
    std::vector<long> nfe;
    int failed = 0;
    const auto y = solve_flow(flow, start, {sc.s(interval.t_min), sc.s(interval.t_max)}, settings, nfe, failed);
    auto h = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), y);
    std::vector<double> end;
    for (int p = 0; p < samples; ++p)
      for (int j = 0; j < flow.dimension(); ++j) end.push_back(failed ? std::nan("") : h(p, 1, j));
    Flow f = to_flow(end, samples, dim, divergence.probes);
    f.nfe = nfe;
    f.failed = failed;
    return f;
  });
}

void require_ode_solver(const solver::SolverSpec& spec) {
  if (solver::is_stochastic(spec))
    throw std::invalid_argument("likelihood: " + spec.info->name +
                                " is a stochastic sampler; the likelihood integrates the PF-ODE (an ODE solver)");
  const auto id = spec.info->id;
  if ((id == solver::SolverId::deis_1 || id == solver::SolverId::deis_2 || id == solver::SolverId::deis_3) &&
      !spec.deis_log_rho)
    throw std::invalid_argument("likelihood: " + spec.info->name +
                                " with basis=t integrates its tAB weights from t_max down and is wrong from t_min up "
                                "(measured: no convergence); use " + spec.info->name + "[basis=log_rho]");
}

Flow integrate_solver(const model::DeviceModel& model, const Interval& interval, const std::vector<double>& times,
                      const solver::SolverSpec& spec, const std::vector<double>& x0, const Divergence& divergence) {
  if (times.size() < 2 || times.front() != interval.t_min || times.back() != interval.t_max)
    throw std::invalid_argument("likelihood: the grid must run from t_min to t_max");
  require_ode_solver(spec);
  const int dim = data_dim(model), samples = count_samples(x0, dim);
  const auto& sc = interval.schedule;
  return with_closed_forms(model, [&](const auto& kind) {
    const auto flow = make_flow(kind, divergence);
    const auto start = augmented_start(x0, dim, 1 + divergence.probes, sc.alpha(interval.t_min));
    // The solver starts from, and measures its states against, the reference at its grid points.
    std::vector<double> s_grid;
    for (double t : times) s_grid.push_back(sc.s(t));
    std::vector<long> ref_nfe;
    int ref_failed = 0;
    const auto ref = solve_flow(flow, start, s_grid, reference::Dop853Settings{}, ref_nfe, ref_failed);
    Kokkos::View<int*> index("pfode::likelihood::index", times.size());
    auto index_h = Kokkos::create_mirror_view(index);
    std::iota(index_h.data(), index_h.data() + times.size(), 0);
    Kokkos::deep_copy(index, index_h);
    solver::ExactStates exact;
    exact.y = ref;
    exact.index = index;
    const auto grid = solver::make_step_grid(sc, times, spec.variable);
    const solver::SolverRun run = solver::run_solver(spec, grid, flow, exact, samples, false);
    const double alpha_T = sc.alpha(interval.t_max);
    std::vector<double> end(run.final_state.size());
    for (size_t i = 0; i < end.size(); ++i) end[i] = run.final_state[i] / alpha_T;
    Flow f = to_flow(end, samples, dim, divergence.probes);
    f.nfe = run.nfe;
    for (int p = 0; p < samples; ++p)
      if (!std::isfinite(f.z_exact[p])) ++f.failed;
    return f;
  });
}

std::vector<double> log_density(const model::DeviceModel& model, const std::vector<double>& y, double s) {
  const int dim = data_dim(model), samples = count_samples(y, dim);
  return with_closed_forms(model, [&](const auto& kind) {
    Kokkos::View<double**> in("pfode::likelihood::points", samples, dim);
    Kokkos::View<double*> out("pfode::likelihood::log_p", samples);
    auto in_h = Kokkos::create_mirror_view(in);
    for (int p = 0; p < samples; ++p)
      for (int j = 0; j < dim; ++j) in_h(p, j) = y[static_cast<size_t>(p) * dim + j];
    Kokkos::deep_copy(in, in_h);
    Kokkos::parallel_for(
        "pfode::likelihood::log_density", Kokkos::RangePolicy<>(0, samples),
        KOKKOS_LAMBDA(int p) { out(p) = kind.log_density([&](int j) { return in(p, j); }, s); });
    auto out_h = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), out);
    return std::vector<double>(out_h.data(), out_h.data() + samples);
  });
}

Jacobian jacobian_terms(const model::DeviceModel& model, const std::vector<double>& y, double s,
                        const Divergence& divergence) {
  const int dim = data_dim(model), samples = count_samples(y, dim), probes = divergence.probes;
  return with_closed_forms(model, [&](const auto& kind) {
    const auto flow = make_flow(kind, divergence);
    Kokkos::View<double**> in("pfode::likelihood::points", samples, dim), den("pfode::likelihood::denoised", samples, dim);
    Kokkos::View<double*> trace("pfode::likelihood::trace", samples);
    Kokkos::View<double**> quad("pfode::likelihood::quadratic", samples, probes);
    auto in_h = Kokkos::create_mirror_view(in);
    for (int p = 0; p < samples; ++p)
      for (int j = 0; j < dim; ++j) in_h(p, j) = y[static_cast<size_t>(p) * dim + j];
    Kokkos::deep_copy(in, in_h);
    Kokkos::parallel_for(
        "pfode::likelihood::jacobian_terms", Kokkos::RangePolicy<>(0, samples), KOKKOS_LAMBDA(int p) {
          const auto yp = [&](int j) { return in(p, j); };
          const auto dp = [&](int j) -> double& { return den(p, j); };
          trace(p) = flow.base.denoise_trace(yp, s, dp);
          for (int q = 0; q < flow.probes; ++q)
            quad(p, q) = flow.base.jacobian_quadratic(
                yp, s, dp, [&](int j) { return probe_value(flow.probe, flow.seed, p, q, j); });
        });
    Jacobian out;
    auto den_h = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), den);
    auto trace_h = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), trace);
    auto quad_h = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), quad);
    for (int p = 0; p < samples; ++p) {
      for (int j = 0; j < dim; ++j) out.denoised.push_back(den_h(p, j));
      out.trace.push_back(trace_h(p));
      for (int q = 0; q < probes; ++q) out.quadratic.push_back(quad_h(p, q));
    }
    return out;
  });
}

Budget error_budget(const model::DeviceModel& model, const Interval& interval, const std::vector<double>& x0,
                    const Flow& flow) {
  const int dim = data_dim(model), samples = count_samples(x0, dim);
  if (flow.samples != samples || flow.dim != dim) throw std::invalid_argument("likelihood: flow and data differ");
  const auto& sc = interval.schedule;
  const double alpha_min = sc.alpha(interval.t_min), alpha_T = sc.alpha(interval.t_max),
               sigma_T = sc.sigma(interval.t_max);
  std::vector<double> y0(x0.size());
  for (size_t i = 0; i < x0.size(); ++i) y0[i] = x0[i] / alpha_min;
  const auto log_p0 = log_density(model, x0, 0.0);
  const auto log_p_min = log_density(model, y0, sc.s(interval.t_min));  // canonical
  const auto log_p_T = log_density(model, flow.y_end, sc.s(interval.t_max));  // canonical, at the integrated y_T
  const double prior_var =
      interval.prior_variance > 0 ? interval.prior_variance : alpha_T * alpha_T + sigma_T * sigma_T;
  Budget b;
  for (int p = 0; p < samples; ++p) {
    double z = flow.z_exact[p];
    if (flow.probes > 0) {
      z = 0.0;
      for (int q = 0; q < flow.probes; ++q) z += flow.z_probes[static_cast<size_t>(p) * flow.probes + q];
      z /= flow.probes;
    }
    double norm2 = 0.0;
    for (int j = 0; j < dim; ++j) {
      const double x = alpha_T * flow.y_end[static_cast<size_t>(p) * dim + j];
      norm2 += x * x;
    }
    const double log_prior = -0.5 * (norm2 / prior_var + dim * std::log(2.0 * math::pi * prior_var));
    const double exact_min = log_p_min[p] - dim * std::log(alpha_min);
    b.exact_log_p0.push_back(log_p0[p]);
    b.exact_log_p_tmin.push_back(exact_min);
    b.estimate.push_back(log_prior + z + dim * (std::log(alpha_T) - std::log(alpha_min)));
    b.total.push_back(b.estimate.back() - log_p0[p]);
    b.integration.push_back(log_p_T[p] + flow.z_exact[p] - log_p_min[p]);
    b.estimator.push_back(z - flow.z_exact[p]);
    b.prior.push_back(log_prior - (log_p_T[p] - dim * std::log(alpha_T)));
    b.truncation.push_back(exact_min - log_p0[p]);
  }
  return b;
}

Summary summarise(const std::vector<double>& errors) {
  Summary s;
  if (errors.empty()) return s;
  double sq = 0.0, sum = 0.0;
  for (double e : errors) {
    sq += e * e;
    sum += e;
    if (std::fabs(e) > s.max_abs || std::isnan(e)) s.max_abs = std::fabs(e);
  }
  s.rms = std::sqrt(sq / errors.size());
  s.mean = sum / errors.size();
  return s;
}

double bits_per_dim(double nats, int dim) { return nats / (dim * std::log(2.0)); }

const char* probe_name(Probe probe) { return probe == Probe::gaussian ? "gaussian" : "rademacher"; }

Probe parse_probe(const std::string& name) {
  if (name == "rademacher") return Probe::rademacher;
  if (name == "gaussian") return Probe::gaussian;
  throw std::invalid_argument("unknown probe '" + name + "' (rademacher | gaussian)");
}

const std::vector<Preset>& all_presets() {
  // score-SDE (likelihood.py): scipy RK45 (Dormand-Prince 5(4), as dopri5) at rtol = atol = 1e-5 in t
  // from eps = 1e-5 to T = 1 on the VP SDE (beta 0.1 to 20), one Rademacher probe, prior N(0, I).
  // k-diffusion (sampling.log_likelihood): torchdiffeq dopri5 at 1e-4 in sigma from sigma_min to
  // sigma_max (EDM: 0.002 to 80), one Rademacher probe, prior N(0, sigma_max^2 I).
  static const std::vector<Preset> presets = {
      {"score-sde", "vp-linear", 1e-5, "dopri5[rtol=1e-5,atol=1e-5]", 1, Probe::rademacher, false,
       "VP, t in [1e-5, 1], RK45 at rtol = atol = 1e-5, one Rademacher probe, prior N(0, I)"},
      {"k-diffusion", "edm", 0.002, "dopri5[rtol=1e-4,atol=1e-4]", 1, Probe::rademacher, true,
       "EDM, sigma in [0.002, 80], dopri5 at rtol = atol = 1e-4, one Rademacher probe, prior N(0, 80^2 I)"}};
  return presets;
}

const Preset& find_preset(const std::string& name) {
  std::string known;
  for (const auto& p : all_presets()) {
    if (p.name == name) return p;
    known += (known.empty() ? "" : ", ") + p.name;
  }
  throw std::invalid_argument("unknown likelihood preset '" + name + "' (known: " + known + ")");
}

}  // namespace pfode::likelihood
