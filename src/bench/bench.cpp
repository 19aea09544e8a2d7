#include "bench/bench.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <numeric>
#include <stdexcept>
#include <variant>

#include "io/hdf5.hpp"
#include "lane/pack_lane.hpp"
#include "model/network_file.hpp"
#include "model/start_states.hpp"
#include "reference/reference.hpp"
#include "schedule/registry.hpp"
#include "solver/presets.hpp"
#include "solver/run.hpp"
#include "spacing/spacing.hpp"

namespace pfode::bench {

namespace {

using Clock = std::chrono::steady_clock;

template <class F>
double best_seconds(int repeats, F&& f) {
  double best = 1e300;
  for (int r = 0; r < std::max(1, repeats); ++r) {
    const auto start = Clock::now();
    f();
    best = std::min(best, std::chrono::duration<double>(Clock::now() - start).count());
  }
  return best;
}

Kokkos::View<double**> starts_view(const Problem& p) {
  const int dim = p.model.dim;
  Kokkos::View<double**> v("pfode::bench::y_start", p.samples, dim);
  auto h = Kokkos::create_mirror_view(v);
  for (int i = 0; i < p.samples; ++i)
    for (int j = 0; j < dim; ++j) h(i, j) = p.y_start[static_cast<size_t>(i) * dim + j];
  Kokkos::deep_copy(v, h);
  return v;
}

// x = alpha y at output m of a reference solution y(sample, m, coord).
std::vector<double> final_of(const reference::States& y, int m, double alpha) {
  auto h = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), y);
  std::vector<double> out(h.extent(0) * h.extent(2));
  for (size_t i = 0; i < h.extent(0); ++i)
    for (size_t j = 0; j < h.extent(2); ++j) out[i * h.extent(2) + j] = alpha * h(i, m, j);
  return out;
}

// A pack lane of every start state (slot 0) with room for D (slot 1), as the timed kernel uses it.
template <class Model>
auto loaded_pack_lane(const Model& model, const Problem& p) {
  constexpr int W = lane::pack_width;
  lane::NfeCounter nfe("pfode::bench::nfe", p.samples);
  auto y0 = starts_view(p);
  const auto pack_lane = lane::make_pack_lane<W>("pfode::bench", p.samples, 2, model, nfe);
  const int dim = model.dimension();
  Kokkos::parallel_for(
      "pfode::bench::load", Kokkos::RangePolicy<>(0, lane::packs_of<W>(p.samples)), KOKKOS_LAMBDA(int i) {
        const auto l = pack_lane.at(i);
        for (int j = 0; j < dim; ++j)
          for (int w = 0; w < W; ++w) l(0, j)[w] = y0(l.sample(w), j);
      });
  return pack_lane;
}

// time_model for one kind of model.
template <class Model>
double time_denoise(const Model& model, const Problem& p, int evals, int repeats) {
  const auto pack_lane = loaded_pack_lane(model, p);
  const int packs = lane::packs_of<lane::pack_width>(p.samples);
  return best_seconds(repeats, [&] {
    Kokkos::parallel_for(
        "pfode::bench::model", Kokkos::RangePolicy<>(0, packs), KOKKOS_LAMBDA(int i) {
          const auto l = pack_lane.at(i);
          // s sweeps the EDM range geometrically, as a trajectory does.
          for (int e = 0; e < evals; ++e) l.denoise(0, 1.0, 80.0 * math::exp(-10.6 * e / evals), 1);
        });
    Kokkos::fence();
  });
}

// denoise_at for one kind of model: the timed kernel's evaluation, once, read back.
template <class Model>
std::vector<double> denoise_batch(const Model& model, const Problem& p, double s) {
  constexpr int W = lane::pack_width;
  const auto pack_lane = loaded_pack_lane(model, p);
  const int dim = model.dimension();
  Kokkos::View<double**> out("pfode::bench::denoised", p.samples, dim);
  Kokkos::parallel_for(
      "pfode::bench::denoise_at", Kokkos::RangePolicy<>(0, lane::packs_of<W>(p.samples)), KOKKOS_LAMBDA(int i) {
        const auto l = pack_lane.at(i);
        l.denoise(0, 1.0, s, 1);
        for (int w = 0; w < W; ++w)
          if (l.holds(w))
            for (int j = 0; j < dim; ++j) out(l.sample(w), j) = l(1, j)[w];
      });
  auto h = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), out);
  std::vector<double> d(static_cast<size_t>(p.samples) * dim);
  for (int i = 0; i < p.samples; ++i)
    for (int j = 0; j < dim; ++j) d[static_cast<size_t>(i) * dim + j] = h(i, j);
  return d;
}

// denoise_cost of the diagonal kind.
EvalCost diagonal_cost(int dim, int components, int pack) {
  const double d = dim, k = components, w = pack;
  EvalCost c;
  c.bytes = 8.0 * (2 * k * d + k + 2 * d);
  // Per sample: y = x / scale (d); per pack: 1 / scale.
  if (components == 1) {  // out = shrink y + offset: one fma; per pack v = c^2 + s^2, 1 / v, shrink, offset (5)
    c.flops = 3 * d + (5 * d + 1) / w;
    c.divisions = (d + 1) / w;
    return c;
  }
  const double chunks = std::ceil(d / 16.0);  // one log per 16 variances (DiagonalMixture::log_chunk)
  // Per sample and (k, j): quadratic form (y - mu)^2 / v as sub, mul, fma (4); posterior mean
  // shrink y + offset, fma (2); for k > 0 out * carried + fresh * mean, mul and fma (3). Per sample
  // and k: log r (3); for k > 0 its difference to the running maximum (1) and the normaliser (2),
  // exp. Per sample: 1 / normaliser and d multiplies. Per pack and (k, j): v = c^2 + s^2, 1 / v,
  // shrink = c^2 / v, offset = mu s^2 / v, the product for the log-determinant (6, one division);
  // per pack and k: one log per chunk of 16.
  c.flops = 9 * k * d - 3 * d + (6 * k - 3) + (2 * d + 1) + (6 * k * d + 1) / w;
  c.divisions = 1 + (k * d + 1) / w;
  c.exps = k - 1;
  c.logs = k * chunks / w;
  return c;
}

}  // namespace

EvalCost denoise_cost(int dim, int components, int pack, bool full_covariance) {
  EvalCost c = diagonal_cost(dim, components, pack);
  if (full_covariance) {
    c.flops += 4.0 * components * dim * dim;
    c.bytes += 8.0 * components * dim * dim;
  }
  return c;
}

Problem random_problem(int dim, int components, int samples, std::uint64_t seed, bool full_covariance) {
  Problem p;
  p.schedule = schedule::make_schedule("edm");
  p.model = model::random_mixture("bench", dim, components, seed, 3.0, 0.2, 1.0);
  if (full_covariance) model::set_rotations(p.model, model::random_rotations(components, dim, seed));
  p.samples = samples;
  p.y_start = model::start_states(p.model, {}, seed, samples, p.schedule.alpha(p.schedule.t_max),
                                  p.schedule.sigma(p.schedule.t_max));
  return p;
}

Problem network_problem(const std::string& path, int samples, std::uint64_t seed) {
  Problem p;
  p.schedule = schedule::make_schedule("edm");
  p.model = model::load_network_model("network", path);
  p.samples = samples;
  p.y_start = model::start_states(p.model, {}, seed, samples, p.schedule.alpha(p.schedule.t_max),
                                  p.schedule.sigma(p.schedule.t_max));
  return p;
}

Problem load_problem(const std::string& path, int samples, const std::string& schedule) {
  Problem p;
  p.schedule = schedule::make_schedule(schedule);
  p.model = model::load_model_file("bench", path);
  std::vector<hsize_t> shape;
  std::vector<double> x;
  try {
    x = io::File::open_read(path).root().read_dataset("x_T", &shape);
  } catch (const std::runtime_error& e) {
    throw std::invalid_argument("bench: cannot read start states x_T from '" + path + "' (" + e.what() + ")");
  }
  if (shape.size() != 2 || static_cast<int>(shape[1]) != p.model.dim)
    throw std::invalid_argument("bench: x_T in '" + path + "' must be samples x dim");
  p.samples = samples > 0 ? std::min<int>(samples, static_cast<int>(shape[0])) : static_cast<int>(shape[0]);
  const double inv_alpha = 1.0 / p.schedule.alpha(p.schedule.t_max);
  for (long k = 0; k < static_cast<long>(p.samples) * p.model.dim; ++k) p.y_start.push_back(x[k] * inv_alpha);
  return p;
}

double time_model(const Problem& p, int evals, int repeats) {
  const auto model = model::to_device(p.model);
  return std::visit([&](const auto& kind) { return time_denoise(kind, p, evals, repeats); }, model);
}

std::vector<double> denoise_at(const Problem& p, double s) {
  const auto model = model::to_device(p.model);
  return std::visit([&](const auto& kind) { return denoise_batch(kind, p, s); }, model);
}

Timing time_solver(const Problem& p, const std::string& label, int nfe_budget, int repeats,
                   const lane::KernelLayout& layout) {
  const bool preset = label.find(':') != std::string::npos;
  const std::string spacing_label = preset ? solver::find_preset(label).spacing : "karras";
  const auto spec = solver::with_budget(solver::parse_solver(preset ? solver::find_preset(label).solver : label), nfe_budget);
  const int steps = solver::steps_for_budget(spec, nfe_budget);
  Timing t;
  t.name = label;
  t.steps = steps;
  t.times = spacing::make_grid(spacing::parse_spacing(spacing_label), p.schedule, steps);
  const auto grid = solver::make_step_grid(p.schedule, t.times, spec.variable);
  const auto model = model::to_device(p.model);
  // The trajectory kernel compares with exact states at every grid point; timing needs none, so
  // every grid point reads the start state (the comparison costs the same).
  Kokkos::View<double***> exact("pfode::bench::exact", p.samples, 1, p.model.dim);
  Kokkos::deep_copy(Kokkos::subview(exact, Kokkos::ALL, 0, Kokkos::ALL), starts_view(p));
  Kokkos::View<int*> index("pfode::bench::index", steps + 1);  // zeros
  solver::SolverRun run;
  t.seconds = best_seconds(repeats, [&] {
    run = solver::run_solver(spec, grid, model, solver::ExactStates{exact, index}, p.samples, false, layout);
  });
  // The mean: an adaptive solver's samples spend NFE of their own (a fixed-grid one's are equal).
  t.nfe = std::accumulate(run.nfe.begin(), run.nfe.end(), 0.0) / static_cast<double>(run.nfe.size());
  t.final_state = run.final_state;
  return t;
}

Timing time_dop853(const Problem& p, double tol, int repeats, Dop853Steps steps) {
  const auto model = model::to_device(p.model);
  const auto y0 = starts_view(p);
  const int dim = p.model.dim;
  Kokkos::View<double*> u("pfode::bench::u", 2);
  auto uh = Kokkos::create_mirror_view(u);
  uh(0) = std::log(p.schedule.s(p.schedule.t_max));
  uh(1) = std::log(p.schedule.s(p.schedule.t_min));
  Kokkos::deep_copy(u, uh);
  reference::Dop853Settings settings;
  settings.rtol = settings.atol = tol;
  settings.pack_step = steps == Dop853Steps::shared_per_pack;
  settings.teams = steps == Dop853Steps::own_in_teams;
  lane::NfeCounter nfe("pfode::bench::nfe", p.samples);
  Kokkos::View<double***> y("pfode::bench::y", p.samples, 2, dim);
  Kokkos::View<int*> failed("pfode::bench::failed", p.samples);
  Kokkos::View<long**> steps_taken("pfode::bench::steps", p.samples, 2);
  Timing t;
  t.name = settings.pack_step ? "dop853_pack" : settings.teams ? "dop853_teams" : "dop853";
  t.seconds = best_seconds(repeats, [&] {
    Kokkos::deep_copy(nfe, 0);
    reference::dop853("pfode::bench", model, y0, u, settings, nfe, y, failed, steps_taken);
    Kokkos::fence();
  });
  auto nh = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), nfe);
  auto fh = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), failed);
  double total = 0;
  for (int i = 0; i < p.samples; ++i) {
    total += nh(i);
    if (fh(i)) throw std::runtime_error("bench: DOP853 failed on sample " + std::to_string(i));
  }
  t.nfe = total / p.samples;
  t.final_state = final_of(y, 1, p.schedule.alpha(p.schedule.t_min));
  return t;
}

Timing time_solve_reference(const Problem& p, double tol, int points, int repeats) {
  const auto model = model::to_device(p.model);
  const auto y0 = starts_view(p);
  const auto times = spacing::make_grid(spacing::parse_spacing("karras"), p.schedule, points - 1);
  std::vector<double> s_out;
  for (double t : times) s_out.push_back(p.schedule.s(t));
  reference::Dop853Settings settings;
  settings.rtol = settings.atol = tol;
  reference::ReferenceSolution ref;
  Timing t;
  t.name = "solve_reference";
  t.seconds = best_seconds(repeats, [&] { ref = reference::solve_reference(model, y0, s_out, settings); });
  t.nfe = ref.nfe_mean;
  t.final_state = final_of(ref.y, points - 1, p.schedule.alpha(p.schedule.t_min));
  return t;
}

double rms_error(const std::vector<double>& a, const std::vector<double>& b, int dim) {
  const size_t samples = a.size() / dim;
  double total = 0;
  for (size_t i = 0; i < samples; ++i) {
    double sum = 0;
    for (int j = 0; j < dim; ++j) sum += (a[i * dim + j] - b[i * dim + j]) * (a[i * dim + j] - b[i * dim + j]);
    total += sum / dim;
  }
  return std::sqrt(total / samples);
}

}  // namespace pfode::bench
