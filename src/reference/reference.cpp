#include "reference/reference.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <type_traits>

#include "common/huge_pages.hpp"

namespace pfode::reference {

namespace {

struct Solve {
  States y;
  std::vector<long> nfe, accepted_steps, rejected_steps;  // per sample
  Kokkos::View<int*> failed;  // per sample: 1 when its step budget ran out or its state went non-finite
};

// y: where the states go (samples x outputs x dim), or empty to allocate it.
Solve integrate(const model::DeviceModel& model, Kokkos::View<const double**> y_start,
                Kokkos::View<const double*> u_out, const Dop853Settings& settings, States y = {}) {
  const int samples = static_cast<int>(y_start.extent(0));
  const int outputs = static_cast<int>(u_out.extent(0));
  lane::NfeCounter nfe("pfode::reference::nfe", samples);
  if (!y.data()) y = allocate_states(samples, outputs, model::dimension(model));
  Kokkos::View<int*> failed("pfode::reference::failed", samples);
  Kokkos::View<long**> steps("pfode::reference::steps", samples, 2);
  dop853("pfode::reference", model, y_start, u_out, settings, nfe, y, failed, steps);
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

// The tight solve spread over split.parts processes: each integrates its share of the samples
// straight into its part of the whole solution (on host backends; in memory the processes of a
// node share where split.shared_rows gives it), then every share is broadcast from its process:
// its states unless shared (by sample, then time, then coordinate; with shared rows on several
// nodes, from root's node to the others'), then per sample its NFE, accepted and rejected steps and
// failure flag (all exact in a double).
Solve integrate_split(const model::DeviceModel& model, Kokkos::View<const double**> y_start,
                      Kokkos::View<const double*> u_out, const Dop853Settings& settings, const SampleSplit& split) {
  const int samples = static_cast<int>(y_start.extent(0));
  const int outputs = static_cast<int>(u_out.extent(0));
  const int dim = static_cast<int>(y_start.extent(1));
  const auto [first, last] = sample_share(samples, split.part, split.parts);
  const int count = last - first;
  Kokkos::View<int*> share("pfode::reference::share", count);
  Kokkos::View<double**> share_start("pfode::reference::share_start", count, dim);
  const int offset = first;
  Kokkos::parallel_for(
      "pfode::reference::share_start", Kokkos::RangePolicy<>(0, count), KOKKOS_LAMBDA(int p) {
        share(p) = offset + p;
        for (int c = 0; c < dim; ++c) share_start(p, c) = y_start(offset + p, c);
      });
  const size_t all_states = static_cast<size_t>(samples) * outputs * dim;
  double* const shared = time_major_states && split.shared_rows ? split.shared_rows(all_states) : nullptr;
  Solve all;
  all.y = shared ? States(shared, states_layout(samples, outputs, dim, samples)) : allocate_states(samples, outputs, dim);
  // The whole solution on the host, time-major, as the broadcasts fill it: on host backends the
  // solution itself, elsewhere a copy.
  using HostStates = Kokkos::View<double***, Kokkos::LayoutStride, Kokkos::HostSpace>;
  HostStates rows;
  if constexpr (time_major_states) rows = HostStates(all.y.data(), all.y.layout());
  else rows = HostStates(Kokkos::view_alloc(Kokkos::WithoutInitializing, "pfode::reference::rows"),
                         time_major(samples, outputs, dim, samples));
  // (the model's sample p is the batch's sample first + p, for kinds with per-sample data)
  const Solve own = integrate(model::for_samples(model, share), share_start, u_out, settings,
                              time_major_states ? sample_range(all.y, first, count) : States());
  if constexpr (!time_major_states) {
    const auto own_y = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), own.y);
    for (int q = 0; q < count; ++q)
      for (int m = 0; m < outputs; ++m)
        for (int c = 0; c < dim; ++c) rows(first + q, m, c) = own_y(q, m, c);
  }
  const auto own_failed = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), own.failed);
  std::vector<double> steps(static_cast<size_t>(samples) * 4);
  for (int q = 0; q < count; ++q) {
    double* r = steps.data() + static_cast<size_t>(first + q) * 4;
    r[0] = static_cast<double>(own.nfe[q]);
    r[1] = static_cast<double>(own.accepted_steps[q]);
    r[2] = static_cast<double>(own.rejected_steps[q]);
    r[3] = own_failed(q);
  }
  all.failed = Kokkos::View<int*>("pfode::reference::failed", samples);
  const auto failed = Kokkos::create_mirror_view(all.failed);
  if (split.meet) split.meet();
  using Role = SampleSplit::NodeRole;
  const bool between_nodes = shared && split.node_role;
  for (int root = 0; root < split.parts; ++root) {
    const auto [begin, end] = sample_share(samples, root, split.parts);
    if (begin == end) continue;
    const Role role = !shared ? (root == split.part ? Role::send : Role::receive)
                              : between_nodes ? split.node_role(root) : Role::none;
    if (role != Role::none) {  // the share's states in one message, sample by sample
      std::vector<double> message(static_cast<size_t>(end - begin) * outputs * dim);
      const auto each = [&](const auto& visit) {
        size_t k = 0;
        for (int p = begin; p < end; ++p)
          for (int m = 0; m < outputs; ++m)
            for (int c = 0; c < dim; ++c) visit(rows(p, m, c), message[k++]);
      };
      if (role == Role::send) each([](double state, double& sent) { sent = state; });
      (shared ? split.broadcast_between_nodes : split.broadcast)(message.data(), message.size(), root);
      if (role == Role::receive) each([](double& state, double received) { state = received; });
    }
    split.broadcast(steps.data() + static_cast<size_t>(begin) * 4, static_cast<size_t>(end - begin) * 4, root);
  }
  if (between_nodes && split.meet) split.meet();  // the other nodes' shares, visible to this node
  for (int p = 0; p < samples; ++p) {
    const double* r = steps.data() + static_cast<size_t>(p) * 4;
    all.nfe.push_back(static_cast<long>(r[0]));
    all.accepted_steps.push_back(static_cast<long>(r[1]));
    all.rejected_steps.push_back(static_cast<long>(r[2]));
    failed(p) = static_cast<int>(r[3]);
  }
  if constexpr (!time_major_states) {
    const auto y = Kokkos::create_mirror_view(all.y);
    for (int p = 0; p < samples; ++p)
      for (int m = 0; m < outputs; ++m)
        for (int c = 0; c < dim; ++c) y(p, m, c) = rows(p, m, c);
    Kokkos::deep_copy(all.y, y);
  }
  Kokkos::deep_copy(all.failed, failed);
  return all;
}

}  // namespace

States allocate_states(int samples, int outputs, int dim) {
  States y(Kokkos::view_alloc(Kokkos::WithoutInitializing, "pfode::reference::y"),
           states_layout(samples, outputs, dim, samples));
  common::prefer_huge_pages(y);
  return y;
}

std::pair<int, int> sample_share(int samples, int part, int parts) {
  const long packs = (samples + pack_step_width - 1) / pack_step_width;
  const auto edge = [&](int k) { return static_cast<int>(std::min<long>(samples, packs * k / parts * pack_step_width)); };
  return {edge(part), edge(part + 1)};
}

std::vector<int> error_estimate_samples(int samples) {
  const int n = std::min(samples, estimate_sample_count);
  std::vector<int> index(n);
  for (int i = 0; i < n; ++i) index[i] = static_cast<int>(static_cast<long>(i) * samples / n);
  return index;
}

ReferenceSolution solve_reference(const model::DeviceModel& model, Kokkos::View<const double**> y_start,
                                  const std::vector<double>& s_out, const Dop853Settings& settings,
                                  const std::vector<double>& x_scale, const SampleSplit& split) {
  for (size_t m = 1; m < s_out.size(); ++m)
    if (!(s_out[m] < s_out[m - 1])) throw std::invalid_argument("reference times must be strictly decreasing in s");
  if (!x_scale.empty() && x_scale.size() != s_out.size())
    throw std::invalid_argument("reference: one x scale per requested time");
  const int outputs = static_cast<int>(s_out.size());
  const int samples = static_cast<int>(y_start.extent(0));
  const int dim = model::dimension(model);
  Kokkos::View<double*> u_out("pfode::reference::u_out", outputs), scale("pfode::reference::x_scale", outputs);
  {
    auto uh = Kokkos::create_mirror_view(u_out);
    auto sh = Kokkos::create_mirror_view(scale);
    for (int m = 0; m < outputs; ++m) {
      uh(m) = std::log(s_out[m]);
      sh(m) = x_scale.empty() ? 1.0 : x_scale[m];
    }
    Kokkos::deep_copy(u_out, uh);
    Kokkos::deep_copy(scale, sh);
  }

  const Solve tight =
      split.parts > 1 ? integrate_split(model, y_start, u_out, settings, split) : integrate(model, y_start, u_out, settings);

  // Error estimate: a second solve at a 10x looser tolerance, for a fixed subset of the samples
  // (error_estimate_samples: evenly spread by index, at most 32, the same on every backend, rank
  // and thread count) through every requested time. Its error is about 10x the first solve's (the
  // global error of a tolerance-controlled solve is close to proportional to the tolerance, and the
  // requested times no longer shorten the steps: dense output), so the difference divided by 9
  // estimates the first solve's error. The subset costs ~3 % of the first solve at 256 samples
  // (instead of a second full solve); its RMS over samples stands for the RMS over all, the
  // tolerance setting every sample's error alike (tested against the closed form).
  constexpr double loose_factor = 10.0;
  const auto subset_host = error_estimate_samples(samples);
  const int n_sub = static_cast<int>(subset_host.size());
  Kokkos::View<int*> subset("pfode::reference::estimate_samples", n_sub);
  Kokkos::View<double**> y_sub("pfode::reference::estimate_starts", n_sub, dim);
  {
    auto h = Kokkos::create_mirror_view(subset);
    for (int i = 0; i < n_sub; ++i) h(i) = subset_host[i];
    Kokkos::deep_copy(subset, h);
    Kokkos::parallel_for(
        "pfode::reference::estimate_starts", Kokkos::RangePolicy<>(0, n_sub),
        KOKKOS_LAMBDA(int i) {
          for (int c = 0; c < dim; ++c) y_sub(i, c) = y_start(subset(i), c);
        });
  }
  Dop853Settings loose = settings;
  loose.rtol *= loose_factor;
  loose.atol *= loose_factor;
  // (the model's sample i is the batch's sample subset(i), for kinds with per-sample data)
  const Solve sparse = integrate(model::for_samples(model, subset), y_sub, u_out, loose);

  auto a = tight.y;
  auto b = sparse.y;
  // Each subset sample's largest difference on the device; the RMS over them on the host, the
  // same statistic as a cell's GTE (which is compared with it). A NaN (a sample that never got
  // going) propagates into the estimate.
  Kokkos::View<double*> worst("pfode::reference::worst", n_sub);
  Kokkos::parallel_for(
      "pfode::reference::error_estimate", Kokkos::RangePolicy<>(0, n_sub), KOKKOS_LAMBDA(int i) {
        const int p = subset(i);
        double w = 0.0;
        for (int m = 0; m < outputs; ++m) {
          double sum = 0.0;
          for (int c = 0; c < dim; ++c) {
            const double d = scale(m) * (a(p, m, c) - b(i, m, c));
            sum += d * d;
          }
          const double rms = math::sqrt(sum / dim);
          if (rms > w || rms != rms) w = rms;  // a NaN is the worst value and stays
        }
        worst(i) = w;
      });
  auto worst_host = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), worst);
  double sum_squares = 0.0;
  for (int i = 0; i < n_sub; ++i) sum_squares += worst_host(i) * worst_host(i);

  ReferenceSolution ref;
  ref.s = s_out;
  ref.y = tight.y;
  ref.tolerance = settings.rtol;
  ref.error_estimate = n_sub > 0 ? std::sqrt(sum_squares / n_sub) / (loose_factor - 1.0) : 0.0;
  ref.estimate_samples = subset_host;
  // Samples that failed in either solve, each counted once.
  auto failed_tight = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), tight.failed);
  auto failed_sparse = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), sparse.failed);
  std::vector<char> failed(samples, 0);
  for (int p = 0; p < samples; ++p) failed[p] = failed_tight(p) != 0;
  for (int i = 0; i < n_sub; ++i) failed[subset_host[i]] |= failed_sparse(i) != 0;
  ref.failed_samples = static_cast<int>(std::count(failed.begin(), failed.end(), 1));
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
