// Exact models: the denoiser against its definition, the score against the density, the counter
// generator against its published test vector, and start states independent of the batch.
#include <catch2/catch.hpp>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <limits>
#include <string>
#include <variant>
#include <vector>

#include "io/hdf5.hpp"
#include "model/counter_rng.hpp"
#include "model/network_file.hpp"
#include "model/vector_math.hpp"
#include "support.hpp"

using namespace pfode;

namespace {

// log p(x; t) of the mixture at x (schedule scale), on the host, straight from the definition.
double log_density(const model::ModelSpec& m, const std::vector<double>& x, double alpha, double sigma) {
  double total = 0;
  for (int k = 0; k < m.components; ++k) {
    double log_pk = std::log(m.weights[k]);
    for (int j = 0; j < m.dim; ++j) {
      const double sd = m.stds[k * m.dim + j];
      const double var = alpha * alpha * sd * sd + sigma * sigma;
      const double d = x[j] - alpha * m.means[k * m.dim + j];
      log_pk += -0.5 * d * d / var - 0.5 * std::log(2 * M_PI * var);
    }
    total += std::exp(log_pk);
  }
  return std::log(total);
}

// D(y, s) of one sample (index 0) by the device kernel of any model kind.
template <class Model>
std::vector<double> denoise_on_device(const Model& dm, const std::vector<double>& y, double s) {
  const int dim = dm.dimension();
  using P = model::Pack<1>;
  Kokkos::View<P*> in("in", dim), out("out", dim);
  const int first_value = dm.s_scratch_size();
  Kokkos::View<P*> scratch("scratch", first_value + dm.value_scratch_size());
  auto h = Kokkos::create_mirror_view(in);
  for (int j = 0; j < dim; ++j) h(j) = y[j];
  Kokkos::deep_copy(in, h);
  Kokkos::parallel_for(
      "test::denoise", Kokkos::RangePolicy<>(0, 1), KOKKOS_LAMBDA(int) {
        dm.template denoise<1>([](int) { return 0; }, [&](int j) -> const P& { return in(j); }, s,
                               [&](int j) -> P& { return out(j); }, [&](int i) -> double& { return scratch(i)[0]; },
                               [&](int i) -> P& { return scratch(first_value + i); });
      });
  auto o = test::to_host(out);
  return std::vector<double>(o.data(), o.data() + dim);
}

std::vector<double> denoise_on_device(const model::DeviceModel& m, const std::vector<double>& y, double s) {
  return std::visit([&](const auto& kind) { return denoise_on_device(kind, y, s); }, m);
}

}  // namespace

TEST_CASE("Philox4x32-10 reproduces the Random123 known-answer vectors", "[model]") {
  auto r = model::philox4x32_10({{0, 0, 0, 0}}, 0, 0);
  REQUIRE(r.word[0] == 0x6627e8d5u);
  REQUIRE(r.word[1] == 0xe169c58du);
  REQUIRE(r.word[2] == 0xbc57ac4cu);
  REQUIRE(r.word[3] == 0x9b00dbd8u);
  r = model::philox4x32_10({{0xffffffffu, 0xffffffffu, 0xffffffffu, 0xffffffffu}}, 0xffffffffu, 0xffffffffu);
  REQUIRE(r.word[0] == 0x408f276du);
  REQUIRE(r.word[1] == 0x41c83b0eu);
  REQUIRE(r.word[2] == 0xa20bc7c6u);
  REQUIRE(r.word[3] == 0x6d5451fdu);
}

TEST_CASE("counter generator: uniforms and normals are the documented functions of (seed, sample, coordinate, stream)",
          "[model]") {
  // Counter (sample, coordinate, stream, 0), key (low, high 32 bits of the seed); u1 from words 0-1,
  // u2 from words 2-3 (53 bits each, offset by half a unit), normal = Box-Muller on (u1, u2).
  struct Key {
    std::uint64_t seed;
    std::uint32_t sample, coord, stream;
    double normal;  // known answer (17 digits)
  };
  const Key keys[] = {{0, 0, 0, 0, -0.12151797595308106},
                      {7, 3, 1, 0, 0.16486889524918932},
                      {0x0123456789abcdefull, 1000, 15, 1, 0.03340702440527929},
                      {9, 1, 1, 0, -0.48322589257017984}};
  for (const auto& k : keys) {
    INFO("seed " << k.seed << ", sample " << k.sample << ", coordinate " << k.coord << ", stream " << k.stream);
    const auto r = model::philox4x32_10({{k.sample, k.coord, k.stream, 0u}}, static_cast<std::uint32_t>(k.seed),
                                        static_cast<std::uint32_t>(k.seed >> 32));
    const auto uniform = [](std::uint32_t hi, std::uint32_t lo) {
      return (static_cast<double>((static_cast<std::uint64_t>(hi) << 32 | lo) >> 11) + 0.5) / 9007199254740992.0;
    };
    double u1, u2;
    model::counter_uniform2(k.seed, k.sample, k.coord, k.stream, u1, u2);
    REQUIRE(u1 == uniform(r.word[0], r.word[1]));
    REQUIRE(u2 == uniform(r.word[2], r.word[3]));
    const double normal = model::counter_normal(k.seed, k.sample, k.coord, k.stream);
    REQUIRE(normal == Approx(std::sqrt(-2 * std::log(u1)) * std::cos(2 * M_PI * u2)).epsilon(1e-15));
    REQUIRE(normal == Approx(k.normal).epsilon(1e-15));
  }
  // Marginal start states: y = mu_k + sqrt(c_k^2 + s_T^2) z, known answers (this one is the start
  // state of test_solvers_adaptive's regression test).
  const auto sched = schedule::make_schedule("vp-linear");
  const auto y = model::start_states(test::mixture2d(), {}, 9, 2, sched.alpha(sched.t_max), sched.sigma(sched.t_max));
  REQUIRE(y[2] == Approx(142.7849268184801).epsilon(1e-15));
  REQUIRE(y[3] == Approx(-73.031214542198697).epsilon(1e-15));
}

TEST_CASE("counter generator: no two (sample, coordinate, stream) keys of a block draw the same numbers", "[model]") {
  // 256 samples x 64 coordinates x 3 streams, two seeds: every 128-bit output distinct (a key
  // built as, e.g., sample + coordinate would repeat sample p, coordinate j as p + 1, j - 1).
  std::vector<std::array<std::uint32_t, 4>> draws;
  for (std::uint64_t seed : {0ull, 1ull << 32})
    for (std::uint32_t p = 0; p < 256; ++p)
      for (std::uint32_t j = 0; j < 64; ++j)
        for (std::uint32_t stream = 0; stream < 3; ++stream) {
          double u1, u2;
          model::counter_uniform2(seed, p, j, stream, u1, u2);
          std::array<std::uint32_t, 4> bits;
          std::memcpy(bits.data(), &u1, 8);
          std::memcpy(bits.data() + 2, &u2, 8);
          draws.push_back(bits);
        }
  std::sort(draws.begin(), draws.end());
  REQUIRE(std::adjacent_find(draws.begin(), draws.end()) == draws.end());
  // Neighbouring keys of the start states give unrelated normals.
  for (std::uint32_t p = 0; p < 16; ++p)
    for (std::uint32_t j = 1; j < 16; ++j) REQUIRE(model::counter_normal(3, p, j) != model::counter_normal(3, p + 1, j - 1));
}

TEST_CASE("mixture denoiser: D is the posterior mean and the score is grad log p", "[model]") {
  const auto m = test::mixture2d();
  const auto dm = model::to_device(m);
  const auto sched = schedule::make_schedule("vp-linear");
  for (double t : {0.01, 0.2, 0.6, 1.0})
    for (const auto& x : std::vector<std::vector<double>>{{0.3, -0.2}, {-1.5, 0.4}, {2.0, 2.0}, {0.0, -3.0}}) {
      const double alpha = sched.alpha(t), sigma = sched.sigma(t), s = sigma / alpha;
      const std::vector<double> y = {x[0] / alpha, x[1] / alpha};
      const auto d = denoise_on_device(dm, y, s);
      // Score from x0 vs central differences of log p(x; t).
      for (int j = 0; j < 2; ++j) {
        const double h = 1e-5 * std::max(1.0, sigma);
        auto xp = x, xm = x;
        xp[j] += h;
        xm[j] -= h;
        const double fd = (log_density(m, xp, alpha, sigma) - log_density(m, xm, alpha, sigma)) / (2 * h);
        INFO("t = " << t << ", j = " << j);
        REQUIRE(model::score_from_x0(x[j], d[j], alpha, sigma) == Approx(fd).epsilon(1e-6).margin(1e-8));
        // The four predictions are consistent: x0 = (x - sigma eps)/alpha, v = alpha eps - sigma x0.
        const double eps = model::eps_from_x0(x[j], d[j], alpha, sigma);
        REQUIRE((x[j] - sigma * eps) / alpha == Approx(d[j]).epsilon(1e-12));
        REQUIRE(model::v_from_x0(x[j], d[j], alpha, sigma) == Approx(alpha * eps - sigma * d[j]).epsilon(1e-12));
      }
    }
}

TEST_CASE("mixture denoiser: far from every mode the log-sum-exp stays finite", "[model]") {
  const auto dm = model::to_device(test::mixture2d());
  const auto d = denoise_on_device(dm, {1e3, -1e3}, 1e-3);
  REQUIRE(std::isfinite(d[0]));
  REQUIRE(std::isfinite(d[1]));
}

namespace {

// A sample's D by any kind is the same bits in a pack of 16 and alone, with a shared s or each
// sample's own (s scaled by 1 + w/4), at s from 1e-3 to 80.
template <class Model>
void check_pack_invariance(const Model& dm, const model::ModelSpec& m) {
  constexpr int W = 16;
  using P = model::Pack<W>;
  using P1 = model::Pack<1>;
  const int dim = m.dim, terms = dm.s_scratch_size(), values = dm.value_scratch_size();
  const auto y = model::start_states(m, {}, 9, W, 1.0, 2.0);
  Kokkos::View<P*> packed_in("packed_in", dim), packed_out("packed_out", dim), own_out("own_out", dim);
  Kokkos::View<P1**> single_in("single_in", W, dim), single_out("single_out", W, dim);
  auto pin = Kokkos::create_mirror_view(packed_in);
  auto sin = Kokkos::create_mirror_view(single_in);
  for (int w = 0; w < W; ++w)
    for (int j = 0; j < dim; ++j) pin(j)[w] = sin(w, j) = y[static_cast<size_t>(w) * dim + j];
  Kokkos::deep_copy(packed_in, pin);
  Kokkos::deep_copy(single_in, sin);
  // Scratch: terms of a shared s (doubles) or of each sample's own (packs), and per-sample values.
  Kokkos::View<double*> shared_terms("shared_terms", terms);
  Kokkos::View<P*> own_terms("own_terms", terms), pack_values("pack_values", values);
  Kokkos::View<double**> single_terms("single_terms", W, terms);
  Kokkos::View<P1**> single_values("single_values", W, values);
  for (double s : {1e-3, 0.3, 2.0, 80.0})
    for (bool own : {false, true}) {
      Kokkos::parallel_for(
          "test::pack", Kokkos::RangePolicy<>(0, W + 1), KOKKOS_LAMBDA(int i) {
            const auto s_of = [&](int w) { return own ? s * (1.0 + 0.25 * w) : s; };
            const auto in = [&](int j) -> const P& { return packed_in(j); };
            const auto value = [&](int v) -> P& { return pack_values(v); };
            if (i == W) {
              const auto sample_of = [](int w) { return w; };
              dm.template denoise<W>(sample_of, in, s, [&](int j) -> P& { return packed_out(j); },
                                     [&](int t) -> double& { return shared_terms(t); }, value);
              P s_each;
              for (int w = 0; w < W; ++w) s_each[w] = s_of(w);
              dm.template denoise<W>(sample_of, in, s_each, [&](int j) -> P& { return own_out(j); },
                                     [&](int t) -> P& { return own_terms(t); }, value);
            } else {
              dm.template denoise<1>([&](int) { return i; }, [&](int j) -> const P1& { return single_in(i, j); },
                                     s_of(i), [&](int j) -> P1& { return single_out(i, j); },
                                     [&](int t) -> double& { return single_terms(i, t); },
                                     [&](int v) -> P1& { return single_values(i, v); });
            }
          });
      const auto packed = test::to_host(own ? own_out : packed_out);
      const auto single = test::to_host(single_out);
      for (int w = 0; w < W; ++w)
        for (int j = 0; j < dim; ++j) {
          INFO(m.name << ", s = " << s << (own ? " scaled per sample" : "") << ", sample " << w << ", coordinate " << j);
          REQUIRE(packed(j)[w] == static_cast<double>(single(w, j)));  // bit for bit
        }
    }
}

}  // namespace

TEST_CASE("mixture denoiser: a sample's D does not depend on the pack it is evaluated in, or on sharing s", "[model]") {
  // 37 coordinates: two full log-determinant chunks and a remainder.
  for (const auto& m : {model::random_mixture("mix16", 16, 8, 5, 1.5, 0.2, 0.7),
                        model::random_mixture("mix37", 37, 5, 6, 1.5, 0.2, 0.7)})
    check_pack_invariance(std::get<model::DiagonalMixture>(model::to_device(m)), m);
}

TEST_CASE("network denoiser: a sample's D does not depend on the pack it is evaluated in, or on sharing s", "[model]") {
  const auto m = model::load_network_model("net", std::string(PFODE_SOURCE_DIR) + "/experiments/networks/eight-gaussians.h5");
  check_pack_invariance(std::get<model::Network>(model::to_device(m)), m);
}

TEST_CASE("full-covariance denoiser: a sample's D does not depend on the pack it is evaluated in, or on sharing s",
          "[model]") {
  for (auto m : {model::random_mixture("mix16", 16, 8, 5, 1.5, 0.2, 0.7),
                 model::random_mixture("mix37", 37, 3, 6, 1.5, 0.2, 0.7)}) {
    m.stds[3] = 0.0;  // one direction without variance
    model::set_rotations(m, model::random_rotations(m.components, m.dim, 4));
    check_pack_invariance(std::get<model::FullCovarianceMixture>(model::to_device(m)), m);
  }
}

TEST_CASE("perturbed denoiser: a sample's D does not depend on the pack it is evaluated in, or on sharing s",
          "[model]") {
  auto m = model::random_mixture("mix16", 16, 8, 5, 1.5, 0.2, 0.7);
  model::set_rotations(m, model::random_rotations(m.components, m.dim, 4));
  const auto noisy = model::perturb("noisy16", m, "fourier", 8, 2.0, 1, "power", 0.1, 1, 1);
  check_pack_invariance(std::get<model::Perturbed<model::FullCovarianceMixture>>(model::to_device(noisy)), noisy);
}

// f(x) for every x in xs, evaluated on the device (f: a functor with a device call operator).
template <class F>
std::vector<double> on_device(const std::string& label, const std::vector<double>& xs, F f) {
  Kokkos::View<double*> in(label + "::in", xs.size()), out(label + "::out", xs.size());
  auto h = Kokkos::create_mirror_view(in);
  for (size_t i = 0; i < xs.size(); ++i) h(i) = xs[i];
  Kokkos::deep_copy(in, h);
  Kokkos::parallel_for(
      label, Kokkos::RangePolicy<>(0, static_cast<int>(xs.size())), KOKKOS_LAMBDA(int i) { out(i) = f(in(i)); });
  const auto got = test::to_host(out);
  return std::vector<double>(got.data(), got.data() + got.extent(0));
}

struct ExpNonpositive {
  KOKKOS_INLINE_FUNCTION double operator()(double x) const { return model::exp_nonpositive(x); }
};
struct LogNormal {
  KOKKOS_INLINE_FUNCTION double operator()(double x) const { return model::log_normal(x); }
};

TEST_CASE("the model's vectorisable exp is within 2 ulp of libm on [-745, 0]", "[model]") {
  std::vector<double> xs = {0.0, -0.0, -1e-300, -1e-17, -0.34657359027997264, -0.34657359027997275, -1.0, -708.0,
                            -708.4, -709.0, -740.0, -744.4, -745.1, -746.0, -800.0};
  for (int i = 0; i <= 200000; ++i) xs.push_back(-745.0 * i / 200000.0);
  for (int i = 0; i <= 10000; ++i) xs.push_back(-std::ldexp(1.0, -40) * i);  // tiny arguments
  const auto got = on_device("test::exp", xs, ExpNonpositive{});
  double worst_ulp = 0.0;
  for (size_t i = 0; i < xs.size(); ++i) {
    const double want = std::exp(xs[i]);
    // In ulps of the result; below the normal range one ulp is the smallest subnormal.
    const double ulp = std::max(std::nextafter(want, 1.0) - want, std::numeric_limits<double>::denorm_min());
    const double err = std::fabs(got[i] - want) / ulp;
    INFO("x = " << xs[i] << ": " << got[i] << " vs libm " << want);
    REQUIRE(err <= 2.0);
    worst_ulp = std::max(worst_ulp, err);
  }
  INFO("worst " << worst_ulp << " ulp");
  CHECK(worst_ulp > 0.0);  // the comparison really ran on rounded results
  const auto sp = on_device("test::exp_special", {-std::numeric_limits<double>::infinity(),
                                                  std::numeric_limits<double>::quiet_NaN()}, ExpNonpositive{});
  REQUIRE(sp[0] == 0.0);
  REQUIRE(std::isnan(sp[1]));
}

TEST_CASE("the model's vectorisable log is within 3 ulp of libm on the normal range", "[model]") {
  std::vector<double> xs = {std::numeric_limits<double>::min(), std::numeric_limits<double>::max(), 1.0, 2.0, 0.5,
                            1.4142135623730951, 1.4142135623730949, 0.70710678118654746, 1.0 + 1e-15, 1.0 - 1e-16};
  for (int i = 0; i <= 200000; ++i) xs.push_back(std::exp(-708.0 + 1417.0 * i / 200000.0));
  for (int i = -10000; i <= 10000; ++i) xs.push_back(1.0 + std::ldexp(1.0, -30) * i);  // near 1, where log is small
  for (int i = 0; i <= 10000; ++i) xs.push_back(0.5 + 1.5 * i / 10000.0);  // across the sqrt(2) reduction boundary
  const auto got = on_device("test::log", xs, LogNormal{});
  double worst_ulp = 0.0;
  for (size_t i = 0; i < xs.size(); ++i) {
    const double want = std::log(xs[i]);
    INFO("x = " << xs[i] << ": " << got[i] << " vs libm " << want);
    if (want == 0.0) {
      REQUIRE(got[i] == 0.0);
      continue;
    }
    const double ulp = std::nextafter(std::fabs(want), 2.0 * std::fabs(want)) - std::fabs(want);
    const double err = std::fabs(got[i] - want) / ulp;
    REQUIRE(err <= 3.0);
    worst_ulp = std::max(worst_ulp, err);
  }
  INFO("worst " << worst_ulp << " ulp");
  CHECK(worst_ulp > 0.0);
}

TEST_CASE("start states depend on (seed, sample, coordinate) only", "[model]") {
  const auto m = test::mixture2d();
  const auto sched = schedule::make_schedule("vp-linear");
  const double a = sched.alpha(1.0), s = sched.sigma(1.0);
  const auto few = model::start_states(m, {}, 3, 5, a, s);
  const auto many = model::start_states(m, {}, 3, 500, a, s);
  for (size_t k = 0; k < few.size(); ++k) REQUIRE(few[k] == many[k]);
  const auto other_seed = model::start_states(m, {}, 4, 5, a, s);
  REQUIRE(other_seed[0] != few[0]);
}

TEST_CASE("marginal start states have the marginal's mean and variance at t_max", "[model]") {
  // 500 samples: loose, but not vacuous (at s_T ~ 150 the variance is ~ s_T^2: c_k^2 in place of
  // c_k^2 + s_T^2, or sigma_T^2 in place of s_T^2, is far outside).
  const auto m = test::mixture2d();
  const auto sched = schedule::make_schedule("vp-linear");
  const double a = sched.alpha(1.0), s = sched.sigma(1.0);
  const auto many = model::start_states(m, {}, 3, 500, a, s);
  double mean = 0, var = 0;
  for (int p = 0; p < 500; ++p) mean += many[2 * p] / 500;
  for (int p = 0; p < 500; ++p) var += (many[2 * p] - mean) * (many[2 * p] - mean) / 499;
  double exact_mean = 0, second = 0;
  for (int k = 0; k < 3; ++k) {
    const double sd2 = m.stds[2 * k] * m.stds[2 * k] + (s / a) * (s / a);
    exact_mean += m.weights[k] * m.means[2 * k];
    second += m.weights[k] * (sd2 + m.means[2 * k] * m.means[2 * k]);
  }
  const double exact_var = second - exact_mean * exact_mean;
  REQUIRE(std::fabs(mean - exact_mean) < 5 * std::sqrt(exact_var / 500));
  REQUIRE(var == Approx(exact_var).epsilon(0.2));
}

TEST_CASE("marginal start states pick components by weight; prior ones have the prior's variance", "[model]") {
  // Components 10 apart with sd 0.1, seen at s = 0.01: every draw is recognisably from one.
  const auto m = model::make_model("separated", 1, {0.5, 0.3, 0.2}, {0.0, 10.0, 20.0}, {0.1, 0.1, 0.1}, "test");
  const int n = 4000;
  const double alpha = 0.8, sigma = 0.008;  // s = 0.01
  const auto y = model::start_states(m, {}, 7, n, alpha, sigma);
  std::vector<double> count(3, 0), sum(3, 0), sum2(3, 0);
  for (double v : y) {
    const int k = static_cast<int>(std::lround(v / 10.0));
    REQUIRE(k >= 0);
    REQUIRE(k <= 2);
    count[k] += 1;
    sum[k] += v - 10.0 * k;
    sum2[k] += (v - 10.0 * k) * (v - 10.0 * k);
  }
  const double var = 0.1 * 0.1 + 0.01 * 0.01;  // c^2 + s^2 in y = x / alpha
  for (int k = 0; k < 3; ++k) {
    INFO("component " << k);
    const double w = m.weights[k];
    REQUIRE(std::fabs(count[k] / n - w) < 4 * std::sqrt(w * (1 - w) / n));  // binomial, 4 sd
    REQUIRE(std::fabs(sum[k] / count[k]) < 4 * std::sqrt(var / count[k]));
    REQUIRE(sum2[k] / count[k] == Approx(var).epsilon(0.15));
  }
  // Prior: N(0, (alpha^2 + sigma^2) I) in x, i.e. sd sqrt(alpha^2 + sigma^2) / alpha in y.
  const double a = 0.05, sg = 0.9, sd = std::sqrt(a * a + sg * sg) / a;
  const auto prior = model::start_states(m, {model::StartMode::prior, "", ""}, 7, n, a, sg);
  double mean = 0, second = 0;
  for (double v : prior) {
    mean += v / n;
    second += v * v / n;
  }
  REQUIRE(std::fabs(mean) < 4 * sd / std::sqrt(n));
  REQUIRE(second == Approx(sd * sd).epsilon(0.1));
}

TEST_CASE("models and start states load from HDF5 files", "[model]") {
  const std::string path = "pfode_test_model.h5";
  std::remove(path.c_str());
  const auto m = test::mixture2d();
  {
    const auto f = io::File::create(path);
    const auto root = f.root();
    root.write_dataset("weights", m.weights, {3});
    root.write_dataset("means", m.means, {3, 2});
    root.write_dataset("stds", m.stds, {3, 2});
    root.write_dataset("x_T", {1.0, 2.0, 3.0, 4.0}, {2, 2});
  }
  const auto loaded = model::load_model_file("from_file", path);
  REQUIRE(loaded.means == m.means);
  REQUIRE(loaded.stds == m.stds);
  REQUIRE(loaded.weights[0] == Approx(m.weights[0]).epsilon(1e-15));
  model::StartSpec start{model::StartMode::file, path, "x_T"};
  const auto y = model::start_states(m, start, 0, 2, 0.5, 0.8);
  REQUIRE(y == std::vector<double>{2.0, 4.0, 6.0, 8.0});
  REQUIRE_THROWS_WITH(model::start_states(m, start, 0, 3, 0.5, 0.8),
                      Catch::Contains("is 2 x 2, not at least 3 (run.samples) x exactly 2"));
  REQUIRE_THROWS_WITH(model::load_model_file("x", "missing.h5"), Catch::Contains("cannot read"));
  std::remove(path.c_str());
}

TEST_CASE("model definitions with wrong shapes or values are rejected", "[model]") {
  REQUIRE_THROWS_WITH(model::make_model("m", 2, {1.0}, {0.0}, {1.0, 1.0}, "t"), Catch::Contains("means has 1 values"));
  REQUIRE_THROWS_WITH(model::make_model("m", 1, {1.0}, {0.0}, {-0.1}, "t"), Catch::Contains("stds must be 0 or within"));
  REQUIRE_THROWS_WITH(model::make_model("m", 1, {1.0}, {0.0}, {INFINITY}, "t"), Catch::Contains("stds must be 0 or within"));
  REQUIRE(model::make_model("m", 1, {1.0}, {0.0}, {0.0}, "t").stds[0] == 0.0);  // data on a subspace
  REQUIRE_THROWS_WITH(model::make_model("m", 1, {-1.0}, {0.0}, {1.0}, "t"), Catch::Contains("weights"));
}
