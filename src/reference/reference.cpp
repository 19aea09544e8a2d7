#include "reference/reference.hpp"

#include <cmath>
#include <stdexcept>

namespace pfode::reference {

namespace {

struct Solve {
  Kokkos::View<double***> y;
  std::vector<long> nfe, accepted_steps, rejected_steps;  // per sample
  Kokkos::View<int*> failed;  // per sample: 1 when its step budget ran out or its state went non-finite
};

Solve integrate(const model::DeviceModel& model, Kokkos::View<const double**> y_start,
                Kokkos::View<const double*> u_out, const Dop853Settings& settings) {
  const int samples = static_cast<int>(y_start.extent(0));
  const int outputs = static_cast<int>(u_out.extent(0));
  lane::NfeCounter nfe("pfode::reference::nfe", samples);
  Kokkos::View<double***> y("pfode::reference::y", samples, outputs, model::dimension(model));
  Kokkos::View<int*> failed("pfode::reference::failed", samples);
  Kokkos::View<long**> steps("pfode::reference::steps", samples, 2);
  // Every requested time ends a step: the step budget is on top of the steps the outputs force.
  Dop853Settings budgeted = settings;
  budgeted.max_steps += outputs;
  dop853("pfode::reference", model, y_start, u_out, budgeted, nfe, y, failed, steps);
  Solve out;
  out.y = y;
  auto nfe_host = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), nfe);
  out.nfe.assign(nfe_host.data(), nfe_host.data() + samples);
  auto steps_host = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), steps);
  for (int p = 0; p < samples; ++p) {
    out.accepted_steps.push_back(steps_host(p, 0));
    out.rejected_steps.push_back(steps_host(p, 1));
  }
  out.failed = failed;
  return out;
}

// Samples that failed in either solve, each counted once.
int count_failed(const Solve& a, const Solve& b) {
  const auto fa = a.failed, fb = b.failed;
  int n = 0;
  Kokkos::parallel_reduce(
      "pfode::reference::count_failed", Kokkos::RangePolicy<>(0, static_cast<int>(fa.extent(0))),
      KOKKOS_LAMBDA(int p, int& acc) { acc += (fa(p) || fb(p)) ? 1 : 0; }, n);
  return n;
}

}  // namespace

ReferenceSolution solve_reference(const model::DeviceModel& model, Kokkos::View<const double**> y_start,
                                  const std::vector<double>& s_out, const Dop853Settings& settings,
                                  const std::vector<double>& x_scale) {
  for (size_t m = 1; m < s_out.size(); ++m)
    if (!(s_out[m] < s_out[m - 1])) throw std::invalid_argument("reference times must be strictly decreasing in s");
  if (!x_scale.empty() && x_scale.size() != s_out.size())
    throw std::invalid_argument("reference: one x scale per requested time");
  const int outputs = static_cast<int>(s_out.size());
  Kokkos::View<double*> u_out("pfode::reference::u_out", outputs);
  auto u_host = Kokkos::create_mirror_view(u_out);
  for (int m = 0; m < outputs; ++m) u_host(m) = std::log(s_out[m]);
  Kokkos::deep_copy(u_out, u_host);

  const Solve tight = integrate(model, y_start, u_out, settings);

  // Error estimate: a second solve at a 10x looser tolerance through a few of the requested times
  // only. Its error is about 10x the first solve's when the tolerance alone sets the steps (the
  // global error of the tolerance-controlled solve is close to proportional to it), so the
  // difference divided by 9 estimates the first solve's error. When the requested times are dense
  // they, not the tolerance, shorten the first solve's steps: it is then more accurate than the
  // tolerance says and the estimate is an upper bound (up to ~30x on the Gaussian, tested against the
  // closed form). A second solve at the same tolerance would take the same steps when the times
  // are few, and its difference would say nothing.
  constexpr double loose_factor = 10.0;
  std::vector<int> sparse_index;
  constexpr int sparse_outputs = 9;
  for (int k = 0; k < sparse_outputs; ++k) {
    const int m = static_cast<int>(std::lround(static_cast<double>(k) * (outputs - 1) / (sparse_outputs - 1)));
    if (sparse_index.empty() || m != sparse_index.back()) sparse_index.push_back(m);
  }
  const int n_sparse = static_cast<int>(sparse_index.size());
  Kokkos::View<double*> u_sparse("pfode::reference::u_sparse", n_sparse);
  Kokkos::View<int*> sparse_map("pfode::reference::sparse_map", n_sparse);
  Kokkos::View<double*> sparse_scale("pfode::reference::sparse_scale", n_sparse);
  {
    auto uh = Kokkos::create_mirror_view(u_sparse);
    auto mh = Kokkos::create_mirror_view(sparse_map);
    auto sh = Kokkos::create_mirror_view(sparse_scale);
    for (int k = 0; k < n_sparse; ++k) {
      uh(k) = u_host(sparse_index[k]);
      mh(k) = sparse_index[k];
      sh(k) = x_scale.empty() ? 1.0 : x_scale[sparse_index[k]];
    }
    Kokkos::deep_copy(u_sparse, uh);
    Kokkos::deep_copy(sparse_map, mh);
    Kokkos::deep_copy(sparse_scale, sh);
  }
  Dop853Settings loose = settings;
  loose.rtol *= loose_factor;
  loose.atol *= loose_factor;
  const Solve sparse = integrate(model, y_start, u_sparse, loose);

  const int samples = static_cast<int>(y_start.extent(0));
  const int dim = model::dimension(model);
  auto a = tight.y;
  auto b = sparse.y;
  // Each sample's largest difference on the device; the RMS over samples on the host, the same
  // statistic as a cell's GTE (which is compared with it). A NaN (a sample that never got going)
  // propagates into the estimate.
  Kokkos::View<double*> worst("pfode::reference::worst", samples);
  Kokkos::parallel_for(
      "pfode::reference::error_estimate", Kokkos::RangePolicy<>(0, samples), KOKKOS_LAMBDA(int p) {
        double w = 0.0;
        for (int k = 0; k < n_sparse; ++k) {
          double sum = 0.0;
          for (int c = 0; c < dim; ++c) {
            const double d = sparse_scale(k) * (a(p, sparse_map(k), c) - b(p, k, c));
            sum += d * d;
          }
          const double rms = math::sqrt(sum / dim);
          if (rms > w || rms != rms) w = rms;  // a NaN is the worst value and stays
        }
        worst(p) = w;
      });
  auto worst_host = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), worst);
  double sum_squares = 0.0;
  for (int p = 0; p < samples; ++p) sum_squares += worst_host(p) * worst_host(p);
  const double estimate = std::sqrt(sum_squares / samples) / (loose_factor - 1.0);

  ReferenceSolution ref;
  ref.s = s_out;
  ref.y = tight.y;
  ref.tolerance = settings.rtol;
  ref.failed_samples = count_failed(tight, sparse);
  ref.error_estimate = estimate;
  ref.nfe = tight.nfe;
  ref.accepted_steps = tight.accepted_steps;
  ref.rejected_steps = tight.rejected_steps;
  long total = 0;
  for (long n : tight.nfe) {
    total += n;
    if (n > ref.nfe_max) ref.nfe_max = n;
  }
  ref.nfe_mean = samples > 0 ? static_cast<double>(total) / samples : 0.0;
  return ref;
}

}  // namespace pfode::reference
