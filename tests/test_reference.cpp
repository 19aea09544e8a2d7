// The reference integrator against the Gaussian's closed-form PF-ODE solution.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <tuple>
#include <type_traits>
#include <variant>

#include "reference/dop853_kernel.hpp"
#include "reference/reference.hpp"
#include "schedule/registry.hpp"
#include "spacing/spacing.hpp"
#include "support.hpp"

using namespace pfode;

TEST_CASE("reference: RMS error against the Gaussian closed form <= 1e-11 at every requested time (dense "
          "output), every schedule, the same steps and NFE for 9 or 1001 times, and an error estimate that covers it",
          "[reference]") {
  const auto spec = test::gaussian(4);
  const auto model = model::to_device(spec);
  const int samples = 64;  // the error estimate solves 32 of them again
  for (bool pack_step : {false, true})
  for (const auto& info : schedule::all_schedules()) {
  std::vector<long> nfe_with_times;  // per sample, the NFE of the first solve with interior times
  // Only the ends (no dense output), and 9 to 1001 requested times (dense output between them).
  for (int steps : {1, 8, 40, 200, 1000}) {
    INFO(info.name << ", " << steps << " steps" << (pack_step ? ", packs share steps" : ""));
    const auto& sched = info.defaults;
    const auto starts = test::marginal_starts(spec, sched, samples);
    const auto times = spacing::make_grid(spacing::parse_spacing("uniform-t"), sched, steps);
    std::vector<double> s_out, alpha_out;
    for (double t : times) {
      s_out.push_back(sched.s(t));
      alpha_out.push_back(sched.alpha(t));
    }
    reference::Dop853Settings settings;
    settings.pack_step = pack_step;
    const auto ref = reference::solve_reference(model, starts, s_out, settings, alpha_out);
    REQUIRE(ref.failed_samples == 0);
    REQUIRE(ref.nfe_mean > 12);
    REQUIRE(ref.nfe.size() == static_cast<size_t>(samples));
    for (int p = 0; p < samples; ++p) {
      // One evaluation at the start, 12 per attempted step, and with times between the ends the
      // three dense-output stages of every accepted step; the requested times never shorten a
      // step, so 9 or 1001 of them cost the same.
      const long dense = steps > 1 ? 3 * ref.accepted_steps[p] : 0;
      REQUIRE(ref.nfe[p] == 1 + 12 * (ref.accepted_steps[p] + ref.rejected_steps[p]) + dense);
      if (steps > 1 && nfe_with_times.size() < static_cast<size_t>(samples)) nfe_with_times.push_back(ref.nfe[p]);
      if (steps > 1) REQUIRE(ref.nfe[p] == nfe_with_times[p]);
    }
    const auto y = test::to_host(ref.y);
    const auto y0 = test::to_host(starts);
    double worst = 0;
    for (size_t m = 0; m < s_out.size(); ++m) {
      double sum = 0, norm = 0;
      for (int p = 0; p < samples; ++p)
        for (int j = 0; j < spec.dim; ++j) {
          const double c2 = spec.stds[j] * spec.stds[j];
          const double exact = spec.means[j] + (y0(p, j) - spec.means[j]) *
                                                   std::sqrt((c2 + s_out[m] * s_out[m]) / (c2 + s_out[0] * s_out[0]));
          // Errors in x = alpha y, the scale the solvers are measured on.
          const double d = alpha_out[m] * (y(p, m, j) - exact);
          sum += d * d;
          norm += alpha_out[m] * exact * alpha_out[m] * exact;
        }
      const double rms = std::sqrt(sum / (samples * spec.dim)), size = std::sqrt(norm / (samples * spec.dim));
      INFO("time " << m << " (s = " << s_out[m] << "): RMS error " << rms << ", RMS |x*| " << size);
      // At the tolerance's level relative to the state (|x*| reaches 80 at the start of EDM),
      // between the steps' ends too: the interpolant is of order 7.
      REQUIRE(rms <= 1e-12 * std::max(1.0, size));
      worst = std::max(worst, rms);
    }
    INFO("worst RMS error " << worst << ", estimate " << ref.error_estimate << ", NFE " << ref.nfe_mean);
    // Cells within 10x of the estimate are flagged as at the floor: the estimate must not fall
    // short of the true error (it is ~1x when the tolerance sets the steps, an upper bound when
    // dense times make the solve more accurate), nor be vacuously large.
    REQUIRE(worst <= 3 * ref.error_estimate);
    REQUIRE(ref.error_estimate <= 100 * worst);
  }
  }
}

TEST_CASE("reference: DOP853 also integrates up in u (the likelihood's direction): the Gaussian closed form at "
          "every requested time, the last one landed on, the same steps for 2, 9 or 401 times",
          "[reference]") {
  const auto spec = test::gaussian(4);
  const auto model = model::to_device(spec);
  const int samples = 32;
  const double s_min = 0.002, s_max = 80.0;
  const auto starts = test::to_view(model::start_states(spec, {}, 3, samples, 1.0, s_min), samples, spec.dim);
  const auto y0 = test::to_host(starts);
  for (bool pack_step : {false, true}) {
    std::vector<long> accepted, rejected;  // of the first solve, per sample
    for (int intervals : {1, 8, 400}) {
      INFO(intervals << " intervals" << (pack_step ? ", packs share steps" : ""));
      const int outputs = intervals + 1;
      std::vector<double> s_out;
      Kokkos::View<double*> u("u", outputs);
      auto uh = Kokkos::create_mirror_view(u);
      for (int m = 0; m < outputs; ++m) {
        uh(m) = m == intervals ? std::log(s_max) : std::log(s_min) + m * (std::log(s_max) - std::log(s_min)) / intervals;
        s_out.push_back(std::exp(uh(m)));
      }
      Kokkos::deep_copy(u, uh);
      reference::Dop853Settings settings;
      settings.pack_step = pack_step;
      lane::NfeCounter nfe("nfe", samples);
      Kokkos::View<double***> y("y", samples, outputs, spec.dim);
      Kokkos::View<int*> failed("failed", samples);
      Kokkos::View<long**> steps("steps", samples, 2);
      reference::dop853("test", model, starts, u, settings, nfe, y, failed, steps);
      const auto yh = test::to_host(y);
      const auto nfe_h = test::to_host(nfe);
      const auto failed_h = test::to_host(failed);
      const auto steps_h = test::to_host(steps);
      for (int p = 0; p < samples; ++p) {
        INFO("sample " << p);
        REQUIRE(failed_h(p) == 0);
        const long dense = intervals > 1 ? 3 * steps_h(p, 0) : 0;
        REQUIRE(nfe_h(p) == 1 + 12 * (steps_h(p, 0) + steps_h(p, 1)) + dense);
        if (accepted.size() < static_cast<size_t>(samples)) {
          accepted.push_back(steps_h(p, 0));
          rejected.push_back(steps_h(p, 1));
        }
        REQUIRE(steps_h(p, 0) == accepted[p]);  // requested times never shorten a step
        REQUIRE(steps_h(p, 1) == rejected[p]);
      }
      REQUIRE(accepted[0] > 10);
      for (int m = 0; m < outputs; ++m) {
        double worst = 0, size = 0;
        for (int p = 0; p < samples; ++p)
          for (int j = 0; j < spec.dim; ++j) {
            const double c2 = spec.stds[j] * spec.stds[j];
            const double exact =
                spec.means[j] + (y0(p, j) - spec.means[j]) * std::sqrt((c2 + s_out[m] * s_out[m]) / (c2 + s_min * s_min));
            worst = std::max(worst, std::fabs(yh(p, m, j) - exact));
            size = std::max(size, std::fabs(exact));
          }
        INFO("time " << m << " (s = " << s_out[m] << "): largest error " << worst << ", largest |y| " << size);
        REQUIRE(worst <= 1e-11 * std::max(1.0, size));
      }
    }
  }
}

TEST_CASE("reference: the error estimate is its definition -- each sample's largest difference to a 10x looser "
          "solve, RMS over samples, divided by 9",
          "[reference]") {
  // With at most nine requested times the looser solve passes through all of them. Both solves are
  // redone here with dop853 itself; the statistic is computed on the host from the definition.
  const auto spec = test::mixture2d();
  const auto model = model::to_device(spec);
  const auto sched = schedule::make_schedule("vp-linear");
  const int samples = 19;
  const auto starts = test::marginal_starts(spec, sched, samples);
  const auto times = spacing::make_grid(spacing::parse_spacing("uniform-lambda"), sched, 6);
  const int outputs = static_cast<int>(times.size());
  std::vector<double> s_out, alpha_out;
  Kokkos::View<double*> u("u", outputs);
  auto uh = Kokkos::create_mirror_view(u);
  for (int m = 0; m < outputs; ++m) {
    s_out.push_back(sched.s(times[m]));
    alpha_out.push_back(sched.alpha(times[m]));
    uh(m) = std::log(s_out[m]);
  }
  Kokkos::deep_copy(u, uh);
  const double tol = 1e-10;  // differences far above round-off
  reference::Dop853Settings settings;
  settings.rtol = settings.atol = tol;
  const auto ref = reference::solve_reference(model, starts, s_out, settings, alpha_out);
  const auto solve = [&](double t) {
    reference::Dop853Settings s = settings;
    s.rtol = s.atol = t;
    lane::NfeCounter nfe("nfe", samples);
    Kokkos::View<double***> y("y", samples, outputs, spec.dim);
    Kokkos::View<int*> failed("failed", samples);
    Kokkos::View<long**> steps("steps", samples, 2);
    reference::dop853("test", model, starts, u, s, nfe, y, failed, steps);
    return test::to_host(y);
  };
  const auto tight = solve(tol), loose = solve(10 * tol);
  const auto y = test::to_host(ref.y);
  double sum_squares = 0;
  for (int p = 0; p < samples; ++p) {
    double largest = 0;
    for (int m = 0; m < outputs; ++m) {
      double sum = 0;
      for (int j = 0; j < spec.dim; ++j) {
        REQUIRE(y(p, m, j) == tight(p, m, j));  // the reference is the tight solve
        const double d = alpha_out[m] * (tight(p, m, j) - loose(p, m, j));
        sum += d * d;
      }
      largest = std::max(largest, std::sqrt(sum / spec.dim));
    }
    sum_squares += largest * largest;
  }
  const double estimate = std::sqrt(sum_squares / samples) / 9;
  INFO("estimate " << ref.error_estimate << ", from the definition " << estimate);
  REQUIRE(estimate > 1e-13);
  REQUIRE(ref.error_estimate == Approx(estimate).epsilon(1e-12));
}

TEST_CASE("reference: the device closed form and DOP853 agree on a mixture's Gaussian limit", "[reference]") {
  // A mixture whose components coincide is a Gaussian: the log-sum-exp path must give its flow.
  const auto g = test::gaussian(3);
  std::vector<double> means, stds;
  for (int k = 0; k < 3; ++k) {
    means.insert(means.end(), g.means.begin(), g.means.end());
    stds.insert(stds.end(), g.stds.begin(), g.stds.end());
  }
  const auto mix = model::make_model("same", 3, {0.2, 0.5, 0.3}, means, stds, "test");
  const auto sched = schedule::make_schedule("edm");
  const auto starts = test::marginal_starts(g, sched, 8);
  const std::vector<double> s_out = {80.0, 10.0, 1.0, 0.1, 0.002};
  const auto a = test::to_host(reference::solve_reference(model::to_device(g), starts, s_out).y);
  const auto b = test::to_host(reference::solve_reference(model::to_device(mix), starts, s_out).y);
  for (int p = 0; p < 8; ++p)
    for (int m = 0; m < 5; ++m)
      for (int j = 0; j < 3; ++j) REQUIRE(b(p, m, j) == Approx(a(p, m, j)).epsilon(1e-12).margin(1e-12));
}

TEST_CASE("reference: a NaN sample makes the error estimate NaN on any thread count", "[reference]") {
  // The estimate is a maximum over samples that lets NaN through; with a reduction it depended on
  // which thread held the NaN sample (here the last one, never on thread 0 of a parallel backend).
  const auto spec = test::gaussian(2);
  const auto sched = schedule::make_schedule("edm");
  const int samples = 16;
  auto starts = test::marginal_starts(spec, sched, samples);
  auto h = test::to_host(starts);
  for (int j = 0; j < spec.dim; ++j) h(samples - 1, j) = std::nan("");
  Kokkos::deep_copy(starts, h);
  const auto ref = reference::solve_reference(model::to_device(spec), starts, {80.0, 1.0, 0.002});
  REQUIRE(ref.failed_samples >= 1);
  REQUIRE(std::isnan(ref.error_estimate));
}

namespace {

// 19 samples of a 5-D (or dim-D), 4-component mixture (a full pack of 16 and a partial one) from
// s = 80 to 0.002 through two intermediate outputs; sample 3 is NaN, so it fails and idles beside
// the others.
struct PackProblem {
  static constexpr int samples = 19, outputs = 4, nan_sample = 3;
  model::ModelSpec spec;
  model::DiagonalMixture dm;  // the kind itself: solved below in packs of 1 and of 16
  Kokkos::View<double**> starts;
  Kokkos::View<double*> u{"u", outputs};

  explicit PackProblem(int dim = 5)
      : spec(model::random_mixture("mix", dim, 4, 11, 1.5, 0.2, 0.7)),
        dm(std::get<model::DiagonalMixture>(model::to_device(spec))),
        starts(test::marginal_starts(spec, schedule::make_schedule("edm"), samples)) {
    auto h = test::to_host(starts);
    h(nan_sample, 2) = std::nan("");
    Kokkos::deep_copy(starts, h);
    auto uh = Kokkos::create_mirror_view(u);
    const double s_out[outputs] = {80.0, 3.0, 0.1, 0.002};
    for (int m = 0; m < outputs; ++m) uh(m) = std::log(s_out[m]);
    Kokkos::deep_copy(u, uh);
  }

  // (y, nfe, failed, steps) on the host, DOP853 in packs of W, or in teams of the given shape.
  template <int W>
  auto solve(double tol, bool pack_step = false, const lane::TeamShape* teams = nullptr) const {
    reference::Dop853Settings settings;
    settings.rtol = settings.atol = tol;
    settings.pack_step = pack_step;
    settings.teams = teams != nullptr;
    lane::NfeCounter nfe("nfe", samples);
    Kokkos::View<double***> y("y", samples, outputs, spec.dim);
    Kokkos::View<int*> failed("failed", samples);
    Kokkos::View<long**> steps("steps", samples, 2);
    reference::dop853<W>("test", dm, starts, u, settings, nfe, y, failed, steps, teams ? *teams : lane::TeamShape{});
    return std::make_tuple(test::to_host(y), test::to_host(nfe), test::to_host(failed), test::to_host(steps));
  }
};

}  // namespace

TEST_CASE("reference: a sample's DOP853 solution does not depend on the pack it is solved in", "[reference]") {
  // Samples of a pack share instructions but not steps: solved 16 to a thread (CPU packs) or one
  // to a thread (GPUs), every state and evaluation count is the same, bit for bit.
  const PackProblem problem;
  const int samples = problem.samples;
  const auto& spec = problem.spec;
  const auto [y16, nfe16, failed16, steps16] = problem.solve<16>(1e-10);
  const auto [y1, nfe1, failed1, steps1] = problem.solve<1>(1e-10);
  for (int p = 0; p < samples; ++p) {
    INFO("sample " << p);
    REQUIRE(failed16(p) == (p == 3 ? 1 : 0));
    REQUIRE(failed1(p) == failed16(p));
    REQUIRE(nfe1(p) == nfe16(p));
    REQUIRE(steps1(p, 0) == steps16(p, 0));
    REQUIRE(steps1(p, 1) == steps16(p, 1));
    if (p != 3) REQUIRE(nfe16(p) > 12);
    for (int m = 0; m < 4; ++m)
      for (int j = 0; j < spec.dim; ++j)
        if (p != 3) REQUIRE(y16(p, m, j) == y1(p, m, j));
  }
}

TEST_CASE("reference: in teams with vector lanes over coordinates, DOP853 gives the packs' solution",
          "[reference]") {
  // Each thread integrates one sample with its own steps; host vector loops run in order, so the
  // solution and evaluation counts are the packs' bit for bit (GPU lanes sum in another order:
  // equal to rounding, and a rounding-level difference may move a step, so NFE within a step).
  // 40-D: the log-determinant in three chunks, summed over lanes.
  for (int dim : {5, 40}) {
    const PackProblem problem(dim);
    const auto [y16, nfe16, failed16, steps16] = problem.solve<16>(1e-10);
    for (const auto& shape : test::team_shapes(problem.spec.dim)) {
      INFO(dim << "-D, teams of " << shape.team_size << " x " << shape.vector_length);
      const auto [y, nfe, failed, steps] = problem.solve<1>(1e-10, false, &shape);
      for (int p = 0; p < problem.samples; ++p) {
        INFO("sample " << p);
        REQUIRE(failed(p) == failed16(p));
        if (p == PackProblem::nan_sample) continue;
        if (lane::gpu_backend) REQUIRE(std::abs(nfe(p) - nfe16(p)) <= 12);
        else REQUIRE((nfe(p) == nfe16(p) && steps(p, 0) == steps16(p, 0) && steps(p, 1) == steps16(p, 1)));
        for (int m = 0; m < PackProblem::outputs; ++m)
          for (int j = 0; j < problem.spec.dim; ++j)
            REQUIRE(std::fabs(y(p, m, j) - y16(p, m, j)) <= (lane::gpu_backend ? 1e-9 : 0.0));
      }
    }
  }
}

TEST_CASE("reference: with shared steps a pack's samples step together, a NaN sample fails alone, "
          "and the result is the same whatever the backend's pack width",
          "[reference]") {
  const PackProblem problem;
  const int samples = problem.samples;
  const auto& spec = problem.spec;
  const auto [y, nfe, failed, steps] = problem.solve<16>(1e-10, true);
  const auto [y1, nfe1, failed1, steps1] = problem.solve<1>(1e-10, true);  // as on a GPU: still packs of 16
  const auto [y_own, nfe_own, failed_own, steps_own] = problem.solve<16>(1e-10);
  const auto [y_exact, nfe_exact, failed_exact, steps_exact] = problem.solve<16>(1e-13);
  double err_shared = 0, err_own = 0;
  for (int p = 0; p < samples; ++p) {
    INFO("sample " << p);
    REQUIRE(failed(p) == (p == 3 ? 1 : 0));
    REQUIRE(failed1(p) == failed(p));
    REQUIRE(nfe1(p) == nfe(p));
    if (p == 3) continue;
    // One step sequence per pack: every sample of a pack spends the same evaluations.
    const int first = p < 16 ? 0 : 16;
    REQUIRE(nfe(p) == nfe(first));
    REQUIRE(steps(p, 0) == steps(first, 0));
    REQUIRE(steps(p, 1) == steps(first, 1));
    for (int m = 0; m < 4; ++m)
      for (int j = 0; j < spec.dim; ++j) {
        REQUIRE(y1(p, m, j) == y(p, m, j));
        err_shared = std::max(err_shared, std::fabs(y(p, m, j) - y_exact(p, m, j)));
        err_own = std::max(err_own, std::fabs(y_own(p, m, j) - y_exact(p, m, j)));
      }
  }
  INFO("largest error: shared steps " << err_shared << ", own steps " << err_own);
  REQUIRE(err_shared <= err_own);
  REQUIRE(err_shared <= 1e-9);
}

TEST_CASE("reference: DOP853 spends 1 + 12 x (accepted + rejected steps) + 3 x accepted evaluations per sample, "
          "in every layout",
          "[reference]") {
  // f at the start, then 11 stages and f at the trial point per attempted step (that last one is
  // the next step's first stage when the step is accepted), and the three dense-output stages of
  // every accepted step (the problem requests two times between its ends). The NaN sample is
  // rejected until its step size underflows: it spends evaluations on rejected steps only.
  const PackProblem problem;
  const lane::TeamShape one{1, 1};
  const auto check = [&](const auto& solution, const char* layout) {
    const auto& [y, nfe, failed, steps] = solution;
    long rejected = 0;
    for (int p = 0; p < PackProblem::samples; ++p) {
      INFO(layout << ", sample " << p << ": NFE " << nfe(p) << ", accepted " << steps(p, 0) << ", rejected "
                  << steps(p, 1));
      REQUIRE(nfe(p) == 1 + 12 * (steps(p, 0) + steps(p, 1)) + 3 * steps(p, 0));
      if (p == PackProblem::nan_sample) REQUIRE((failed(p) == 1 && steps(p, 0) == 0 && steps(p, 1) > 0));
      else REQUIRE((failed(p) == 0 && steps(p, 0) >= 1));
      rejected += steps(p, 1);
    }
    REQUIRE(rejected > 0);
  };
  check(problem.solve<16>(1e-10), "packs of 16");
  check(problem.solve<1>(1e-10), "one sample per thread");
  check(problem.solve<16>(1e-10, true), "shared steps");
  check(problem.solve<1>(1e-10, false, &one), "teams");
}

TEST_CASE("reference: solved in shares by several processes, every process gets the one-process solution bit for bit",
          "[reference]") {
  // Shares are whole packs of 16 (sample_share), so with shared steps too every sample steps as it
  // does in one process; a guided model's sample keeps its class in its share. The other processes
  // are played by `broadcast`: it fills their share's states, then their NFE, accepted and rejected
  // steps and failed flags, from the one-process solution, and checks that this process sends
  // exactly that for its own share.
  const auto mixture = model::random_mixture("mix", 5, 4, 11, 1.5, 0.2, 0.7);
  const auto guided =
      model::for_run_seed(model::guide("guided", mixture, {0, 1, 0, 1}, 2.0, 0.0, INFINITY, {}, 11, "mix"), 3);
  const std::vector<double> s_out{80.0, 3.0, 0.1, 0.002};
  const int outputs = static_cast<int>(s_out.size()), dim = mixture.dim;
  for (int samples : {37, 16}) {
    for (int parts : {2, 3, 4}) {  // 4 parts of 37 samples (3 packs): one part has none
      int covered = 0;
      for (int part = 0; part < parts; ++part) {
        const auto [first, last] = reference::sample_share(samples, part, parts);
        REQUIRE(first == covered);
        REQUIRE(first % reference::pack_step_width == 0);
        REQUIRE(last >= first);
        covered = last;
      }
      REQUIRE(covered == samples);
    }
    for (const auto* spec : {&mixture, &guided})
      for (bool pack_step : {false, true}) {
        if (spec == &guided && samples == 16) continue;  // one pack: nothing to mix up
        const auto model = model::to_device(*spec);
        const auto starts = test::marginal_starts(*spec, schedule::make_schedule("edm"), samples);
        reference::Dop853Settings settings;
        settings.rtol = settings.atol = 1e-10;
        settings.pack_step = pack_step;
        const auto whole = reference::solve_reference(model, starts, s_out, settings);
        REQUIRE(whole.failed_samples == 0);
        const auto y_whole = test::to_host(whole.y);
        for (int parts : {2, 3, 4})
          for (int part = 0; part < parts; ++part) {
            INFO(spec->name << ", " << samples << " samples, pack_step " << pack_step << ", part " << part << " of "
                            << parts);
            int met = 0, calls = 0, next_root = 0;
            reference::SampleSplit split;
            split.part = part;
            split.parts = parts;
            split.meet = [&] { REQUIRE(++met == 1); };
            split.broadcast = [&](double* data, size_t count, int root) {
              REQUIRE(met == 1);  // the processes met before any broadcast
              REQUIRE(root >= next_root);  // each root's states, then its steps, in root order
              const auto [first, last] = reference::sample_share(samples, root, parts);
              REQUIRE(last > first);
              const bool states = calls++ % 2 == 0;
              std::vector<double> expected;
              for (int p = first; p < last; ++p)
                if (states) {
                  for (int m = 0; m < outputs; ++m)
                    for (int c = 0; c < dim; ++c) expected.push_back(y_whole(p, m, c));
                } else {
                  expected.insert(expected.end(), {double(whole.nfe[p]), double(whole.accepted_steps[p]),
                                                   double(whole.rejected_steps[p]), 0.0});
                }
              REQUIRE(count == expected.size());
              for (size_t k = 0; k < count; ++k) {
                if (root == part) REQUIRE(data[k] == expected[k]);
                else data[k] = expected[k];
              }
              if (!states) next_root = root + 1;
            };
            const auto solved = reference::solve_reference(model, starts, s_out, settings, {}, split);
            int shares = 0;
            for (int r = 0; r < parts; ++r)
              shares += reference::sample_share(samples, r, parts).second > reference::sample_share(samples, r, parts).first;
            REQUIRE(calls == 2 * shares);  // every share sent, once
            const auto y = test::to_host(solved.y);
            for (int p = 0; p < samples; ++p) {
              REQUIRE(solved.nfe[p] == whole.nfe[p]);
              REQUIRE(solved.accepted_steps[p] == whole.accepted_steps[p]);
              REQUIRE(solved.rejected_steps[p] == whole.rejected_steps[p]);
              for (int m = 0; m < outputs; ++m)
                for (int c = 0; c < dim; ++c) REQUIRE(y(p, m, c) == y_whole(p, m, c));
            }
            REQUIRE(solved.error_estimate == whole.error_estimate);
            REQUIRE(solved.nfe_mean == whole.nfe_mean);
            REQUIRE(solved.failed_samples == 0);
          }
      }
  }
}

namespace {
// What the shared-memory tests split between processes: a mixture, four requested times and start
// states, and the one-process solution every split must give.
struct SharedRowsProblem {
  explicit SharedRowsProblem(int samples) : samples(samples) {
    settings.rtol = settings.atol = 1e-10;
    whole = reference::solve_reference(model, starts, s_out, settings);
    y_whole = test::to_host(whole.y);
  }
  const model::ModelSpec spec = model::random_mixture("mix", 5, 4, 11, 1.5, 0.2, 0.7);
  const model::DeviceModel model = model::to_device(spec);
  const std::vector<double> s_out{80.0, 3.0, 0.1, 0.002};
  const int samples, outputs = static_cast<int>(s_out.size()), dim = spec.dim;
  const Kokkos::View<double**> starts = test::marginal_starts(spec, schedule::make_schedule("edm"), samples);
  reference::Dop853Settings settings;
  reference::ReferenceSolution whole;
  decltype(test::to_host(whole.y)) y_whole;
};
}  // namespace

TEST_CASE("reference: processes that share memory each write their share in place and send no state; the shared "
          "states are the one-process solution bit for bit",
          "[reference]") {
  // The processes are played one after another on one buffer: each must write its own samples'
  // states (time-major, as reference/states.hpp stores them) and no other's, broadcast only its
  // steps, and meet the others before that.
  if (!reference::time_major_states) return;  // shared rows are for host backends only
  const SharedRowsProblem problem(37);
  const auto& [spec, model, s_out, samples, outputs, dim, starts, settings, whole, y_whole] = problem;
  const int parts = 3;
  std::vector<double> node(static_cast<size_t>(samples) * outputs * dim + 1, NAN);  // one more: untouched
  const auto at = [&](int p, int m, int c) { return node[(static_cast<size_t>(m) * samples + p) * dim + c]; };
  for (int part = 0; part < parts; ++part) {
    INFO("part " << part);
    const auto [first, last] = reference::sample_share(samples, part, parts);
    int met = 0;
    reference::SampleSplit split;
    split.part = part;
    split.parts = parts;
    split.meet = [&] { ++met; };
    split.shared_rows = [&](size_t count) {
      REQUIRE(count == node.size() - 1);
      return node.data();
    };
    split.broadcast = [&](double* data, size_t count, int root) {
      REQUIRE(met == 1);
      const auto [begin, end] = reference::sample_share(samples, root, parts);
      REQUIRE(count == 4 * static_cast<size_t>(end - begin));  // steps only
      for (int p = begin; p < end; ++p) {
        double* r = data + 4 * static_cast<size_t>(p - begin);
        if (root != part) {
          r[0] = whole.nfe[p], r[1] = whole.accepted_steps[p], r[2] = whole.rejected_steps[p], r[3] = 0;
        }
      }
    };
    const auto solved = reference::solve_reference(model, starts, s_out, settings, {}, split);
    REQUIRE(solved.y.data() == node.data());
    for (int p = 0; p < samples; ++p)
      for (int m = 0; m < outputs; ++m)
        for (int c = 0; c < dim; ++c) {
          if (p >= last) REQUIRE(std::isnan(at(p, m, c)));  // the later processes' samples: not yet
          else REQUIRE(at(p, m, c) == y_whole(p, m, c));
        }
    REQUIRE(std::isnan(node.back()));
  }
}

TEST_CASE("reference: processes of two nodes share memory per node; the first of each sends its node's shares "
          "to the other node and writes the other's into its own: both nodes hold the one-process solution",
          "[reference]") {
  // Four processes, process p on node p % 2 (interleaved), the first of each node (0 and 1) filling
  // it. Played one after another, the others before the first ones, as meet() orders them: a node's
  // shares are all written before they are sent.
  if (!reference::time_major_states) return;  // shared rows are for host backends only
  using Role = reference::SampleSplit::NodeRole;
  const SharedRowsProblem problem(70);
  const auto& [spec, model, s_out, samples, outputs, dim, starts, settings, whole, y_whole] = problem;
  const int parts = 4;
  std::vector<std::vector<double>> nodes(2, std::vector<double>(static_cast<size_t>(samples) * outputs * dim, NAN));
  const auto share_of = [&](int root) {  // root's share as a message: by sample, then time, then coordinate
    const auto [begin, end] = reference::sample_share(samples, root, parts);
    std::vector<double> message;
    for (int p = begin; p < end; ++p)
      for (int m = 0; m < outputs; ++m)
        for (int c = 0; c < dim; ++c) message.push_back(y_whole(p, m, c));
    return message;
  };
  for (int part : {2, 3, 0, 1}) {
    INFO("part " << part);
    const int node = part % 2;
    const bool fills = part < 2;
    int met = 0, sent = 0, received = 0;
    reference::SampleSplit split;
    split.part = part;
    split.parts = parts;
    split.meet = [&] { ++met; };
    split.shared_rows = [&](size_t) { return nodes[node].data(); };
    split.broadcast = [&](double* data, size_t count, int root) {
      const auto [begin, end] = reference::sample_share(samples, root, parts);
      REQUIRE(count == 4 * static_cast<size_t>(end - begin));  // steps only
      if (root == part) return;
      for (int p = begin; p < end; ++p) {
        double* r = data + 4 * static_cast<size_t>(p - begin);
        r[0] = whole.nfe[p], r[1] = whole.accepted_steps[p], r[2] = whole.rejected_steps[p], r[3] = 0;
      }
    };
    split.node_role = [&](int root) { return !fills ? Role::none : root % 2 == node ? Role::send : Role::receive; };
    split.broadcast_between_nodes = [&](double* data, size_t count, int root) {
      REQUIRE(fills);
      REQUIRE(met == 1);
      const auto expected = share_of(root);
      REQUIRE(count == expected.size());
      if (root % 2 == node) {
        ++sent;
        for (size_t k = 0; k < count; ++k) REQUIRE(data[k] == expected[k]);
      } else {
        ++received;
        std::copy(expected.begin(), expected.end(), data);
      }
    };
    const auto solved = reference::solve_reference(model, starts, s_out, settings, {}, split);
    REQUIRE(solved.y.data() == nodes[node].data());
    REQUIRE(met == 2);  // again after the exchange: the node's other processes then read it
    REQUIRE(sent == (fills ? 2 : 0));
    REQUIRE(received == (fills ? 2 : 0));
    for (size_t p = 0; p < solved.nfe.size(); ++p) REQUIRE(solved.nfe[p] == whole.nfe[p]);
  }
  for (int node = 0; node < 2; ++node)
    for (int p = 0; p < samples; ++p)
      for (int m = 0; m < outputs; ++m)
        for (int c = 0; c < dim; ++c)
          REQUIRE(nodes[node][(static_cast<size_t>(m) * samples + p) * dim + c] == y_whole(p, m, c));
}

#include "reference/dop853_coefficients.hpp"

TEST_CASE("reference: the DOP853 tableau -- row sums, quadrature conditions, order 8 on a nonlinear system, "
          "embedded estimators of orders 5 and 3",
          "[reference]") {
  const auto k = reference::dop853_coefficients();
  for (int i = 0; i < 12; ++i) {
    double row = 0;
    for (int j = 0; j < i; ++j) row += k.a[i][j];
    CHECK(row == Approx(k.c[i]).margin(1e-14));
  }
  // sum b c^q = 1/(q + 1) up to q = 7; the estimators (index 12: f at the new point, c = 1) are
  // differences of the 8th-order weights and lower-order ones, so they annihilate c^q up to their
  // order - 1 and not beyond.
  auto moment = [&](const double* w, int n, int q) {
    double sum = 0;
    for (int i = 0; i < n; ++i) sum += w[i] * std::pow(i < 12 ? k.c[i] : 1.0, q);
    return sum;
  };
  for (int q = 0; q <= 7; ++q) CHECK(moment(k.b, 12, q) == Approx(1.0 / (q + 1)).margin(1e-14));
  for (int q = 0; q <= 4; ++q) CHECK(std::fabs(moment(k.e5, 13, q)) < 1e-14);
  CHECK(std::fabs(moment(k.e5, 13, 5)) > 1e-6);
  for (int q = 0; q <= 2; ++q) CHECK(std::fabs(moment(k.e3, 13, q)) < 1e-14);
  CHECK(std::fabs(moment(k.e3, 13, 3)) > 1e-6);
  // Global error with halved steps falls by 2^8, between ~1e-9 and round-off (the reference: 4096
  // steps, error ~1e-19).
  for (int steps : {32, 40}) CHECK(test::fixed_step_order(k, steps) == Approx(8.0).margin(0.2));
}
