// The full-covariance mixture kind: under identity rotations it is the diagonal kind bit for bit
// (denoiser, every solver layout, the reference); its Gaussian follows the closed-form flow; bad
// rotations are refused by name. (Agreement with a dense NumPy evaluation: tests/analysis/test_exact.sh;
// solver orders: test_solvers.cpp; pack invariance: test_model.cpp.)
#include <catch2/catch.hpp>

#include <cmath>
#include <cstring>
#include <variant>

#include "model/evaluate.hpp"
#include "spacing/spacing.hpp"
#include "support.hpp"

using namespace pfode;

namespace {

bool same_bits(const std::vector<double>& a, const std::vector<double>& b) {
  return a.size() == b.size() && (a.empty() || std::memcmp(a.data(), b.data(), a.size() * sizeof(double)) == 0);
}

// The model with identity rotations: the same mixture, evaluated by the full-covariance kind.
model::ModelSpec with_identity(model::ModelSpec m) {
  model::set_rotations(m, model::identity_rotations(m.components, m.dim));
  return m;
}

}  // namespace

TEST_CASE("full covariance: identity rotations give the diagonal kind's D bit for bit", "[full_covariance]") {
  // 37-D: two log-determinant chunks and a remainder; one component with a zero std.
  auto mix = model::random_mixture("mix37", 37, 5, 6, 1.5, 0.2, 0.7);
  mix.stds[2 * 37 + 4] = 0.0;
  for (const auto& m : {test::gaussian(3), mix}) {
    const auto diagonal = model::to_device(m), full = model::to_device(with_identity(m));
    REQUIRE(std::holds_alternative<model::DiagonalMixture>(diagonal));
    REQUIRE(std::holds_alternative<model::FullCovarianceMixture>(full));
    std::vector<double> s;
    for (double v : {1e-4, 2e-3, 0.05, 0.7, 3.0, 80.0})
      for (int p = 0; p < 4; ++p) s.push_back(v * (1.0 + 0.1 * p));
    const auto y = model::start_states(m, {}, 3, static_cast<int>(s.size()), 1.0, 1.0);
    INFO(m.name);
    REQUIRE(same_bits(model::denoise_points(diagonal, y, s), model::denoise_points(full, y, s)));
  }
}

TEST_CASE("full covariance: identity rotations give the diagonal kind's solver runs and reference bit for bit",
          "[full_covariance]") {
  const auto m = model::random_mixture("mix5", 5, 4, 2, 1.5, 0.3, 0.6);
  const auto sched = schedule::make_schedule("vp-linear");
  const auto times = spacing::make_grid(spacing::parse_spacing("uniform-lambda"), sched, 12);
  lane::KernelLayout teams;
  teams.kind = lane::KernelLayout::teams;
  // Shared s in packs (rk4, dpm-solver++2m with its LTE), each sample's own s (dopri5), and teams.
  for (const std::string label : {"rk4", "dpm-solver++2m", "dopri5[tol=1e-6]"})
    for (const auto& layout : {lane::KernelLayout{}, teams}) {
      INFO(label << ", " << lane::layout_name(layout.kind));
      const auto a = test::solve_on_grid(m, sched, times, label, 19, true, layout);
      const auto b = test::solve_on_grid(with_identity(m), sched, times, label, 19, true, layout);
      REQUIRE(same_bits(a.global_error, b.global_error));
      REQUIRE(same_bits(a.final_state, b.final_state));
      REQUIRE(a.nfe == b.nfe);
      if (label != "dopri5[tol=1e-6]") REQUIRE(same_bits(a.local_error, b.local_error));
    }
  // The reference alone, with shared steps per pack too.
  const auto starts = test::marginal_starts(m, sched, 19);
  std::vector<double> s_out;
  for (double t : times) s_out.push_back(sched.s(t));
  for (bool pack_step : {false, true}) {
    reference::Dop853Settings settings;
    settings.pack_step = pack_step;
    const auto a = reference::solve_reference(model::to_device(m), starts, s_out, settings);
    const auto b = reference::solve_reference(model::to_device(with_identity(m)), starts, s_out, settings);
    const auto ya = test::to_host(a.y), yb = test::to_host(b.y);
    REQUIRE(std::memcmp(ya.data(), yb.data(), ya.size() * sizeof(double)) == 0);
    REQUIRE(a.nfe == b.nfe);
  }
}

TEST_CASE("full covariance: the reference follows the Gaussian's closed-form flow to 3e-11", "[full_covariance]") {
  // A rotated Gaussian with one direction of zero variance (data on a plane) and one narrow one:
  // the flow shrinks like s there, the stiff case. The bound is on the largest error of any
  // sample, time and coordinate; the requested times between the ends come from DOP853's dense
  // output (order 7), which measures 1.6e-11 here (the RMS bound of the diagonal case is 1e-11).
  auto g = model::make_model("g5", 5, {1.0}, {0.5, -0.5, 1.0, 0.0, 0.2}, {0.3, 0.5, 0.0, 0.01, 0.6}, "test");
  model::set_rotations(g, model::random_rotations(1, 5, 9));
  const int samples = 16;
  for (const char* name : {"vp-linear", "edm"}) {
    const auto sched = schedule::make_schedule(name);
    const auto starts = test::marginal_starts(g, sched, samples);
    const auto times = spacing::make_grid(spacing::parse_spacing("uniform-lambda"), sched, 20);
    std::vector<double> s_out;
    for (double t : times) s_out.push_back(sched.s(t));
    const auto ref = reference::solve_reference(model::to_device(g), starts, s_out);
    REQUIRE(ref.failed_samples == 0);
    const auto y = test::to_host(ref.y);
    const auto y0 = test::to_host(starts);
    // The flow to every time at once (as the sweep's closed-form check runs it) and to one time.
    const model::GaussianFlow flow(g, s_out[0], s_out);
    double worst = 0;
    for (int p = 0; p < samples; ++p) {
      const std::vector<double> start = {y0(p, 0), y0(p, 1), y0(p, 2), y0(p, 3), y0(p, 4)};
      std::vector<double> u0(5), exact(5);
      flow.start(start.data(), u0.data());
      for (size_t m = 0; m < s_out.size(); ++m) {
        flow.at(static_cast<int>(m), u0.data(), exact.data());
        REQUIRE(exact == model::gaussian_flow(g, start.data(), s_out[0], s_out[m]));
        for (int j = 0; j < 5; ++j) worst = std::max(worst, std::fabs(y(p, m, j) - exact[j]));
      }
    }
    INFO(name << ": largest |y - y*| " << worst);
    CHECK(worst <= 3e-11);
    CHECK(worst > 0);  // a numerical solve, not the closed form itself
  }
}

TEST_CASE("full covariance: singular and non-orthogonal rotations are refused by name", "[full_covariance]") {
  auto m = test::gaussian(2);
  REQUIRE_THROWS_WITH(model::set_rotations(m, {1.0, 2.0, 2.0, 4.0}),
                      Catch::Contains("rotation of component 0 is singular: column 1"));
  REQUIRE_THROWS_WITH(model::set_rotations(m, {1.0, 0.0, 0.0, 0.0}),
                      Catch::Contains("rotation of component 0 is singular: column 1"));
  REQUIRE_THROWS_WITH(model::set_rotations(m, {1.0, 0.1, 0.0, 1.0}),
                      Catch::Contains("rotation of component 0 is not orthogonal: max |U^T U - I| = 0.1"));
  REQUIRE_THROWS_WITH(model::set_rotations(m, {2.0, 0.0, 0.0, 2.0}), Catch::Contains("is not orthogonal"));
  REQUIRE_THROWS_WITH(model::set_rotations(m, {1.0, 0.0, 0.0}), Catch::Contains("rotations has 3 values"));
  REQUIRE_THROWS_WITH(model::set_rotations(m, {1.0, 0.0, 0.0, NAN}), Catch::Contains("non-finite"));
  // A rotation by 30 degrees, written to 17 digits, is accepted; 8 digits are not enough.
  const double c = std::cos(M_PI / 6), s = std::sin(M_PI / 6);
  model::set_rotations(m, {c, -s, s, c});
  REQUIRE(m.full_covariance());
  REQUIRE_THROWS_WITH(model::set_rotations(m, {0.86602540, -0.5, 0.5, 0.86602540}), Catch::Contains("not orthogonal"));
  // Random rotations are orthogonal to round-off.
  const auto u = model::random_rotations(2, 6, 1);
  for (int k = 0; k < 2; ++k)
    for (int a = 0; a < 6; ++a)
      for (int b = 0; b < 6; ++b) {
        double dot = 0;
        for (int i = 0; i < 6; ++i) dot += u[(k * 6 + i) * 6 + a] * u[(k * 6 + i) * 6 + b];
        REQUIRE(std::fabs(dot - (a == b ? 1.0 : 0.0)) <= 1e-14);
      }
}
