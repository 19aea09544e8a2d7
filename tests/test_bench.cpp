// The benchmark code (src/bench, `pfode bench`): it runs on a tiny problem and its FLOP and byte
// counts are consistent. Nothing here is timed: benchmarks are not tests.
#include <catch2/catch.hpp>

#include <fstream>
#include <iterator>

#include <sys/wait.h>

#include <cstdlib>
#include <string>

#include "bench/bench.hpp"
#include "bench/machine.hpp"
#include "model/evaluate.hpp"

using namespace pfode;

TEST_CASE("bench: model-evaluation cost grows as K x dim", "[bench]") {
  for (int pack : {1, 16})
    for (int dim : {16, 64, 256})
      for (int k : {2, 8, 64}) {
        const auto c = bench::denoise_cost(dim, k, pack), c2k = bench::denoise_cost(dim, 2 * k, pack),
                   c2d = bench::denoise_cost(2 * dim, k, pack);
        // Doubling either size doubles the work, up to the per-component and per-coordinate terms.
        CHECK(c2k.flops / c.flops == Approx(2.0).epsilon(0.05));
        CHECK(c2d.flops / c.flops == Approx(2.0).epsilon(0.05));
        CHECK((c2k.divisions - 1) / (c.divisions - 1) == Approx(2.0).epsilon(0.05));  // 1 / normaliser: per sample
        CHECK(c2d.bytes / c.bytes == Approx(2.0).epsilon(0.05));
        CHECK(c.bytes == 8.0 * (2 * k * dim + k + 2 * dim));
        CHECK(c.exps == k - 1);
        CHECK(c.logs == Approx(k * ((dim + 15) / 16) / double(pack)));
        // Per sample and (k, j) nine FLOPs (three fmas), three fewer for the first component, which
        // starts the sums; per sample and coordinate the rescaled input and the normalisation (2);
        // per sample and component the log-responsibility and the normaliser (6); the s-only ones
        // (six per (k, j)) are shared by a pack.
        CHECK(c.flops == Approx(9.0 * k * dim - dim + 6.0 * k + 6.0 * k * dim / pack).epsilon(0.01));
        CHECK(c.divisions - 1 == Approx(k * dim / double(pack)).epsilon(0.05));
      }
  const auto g = bench::denoise_cost(16, 1, 1);  // the Gaussian: no exp, no log
  CHECK(g.exps == 0);
  CHECK(g.logs == 0);
  CHECK(g.flops == 3 * 16 + 5 * 16 + 1);
}

TEST_CASE("bench: full covariances add two rotations per component and sample", "[bench]") {
  for (int k : {1, 8}) {
    const auto diagonal = bench::denoise_cost(16, k, 16), full = bench::denoise_cost(16, k, 16, true);
    CHECK(full.flops - diagonal.flops == 4.0 * k * 16 * 16);  // z = U^T y and U z: 2 d^2 fma each
    CHECK(full.bytes - diagonal.bytes == 8.0 * k * 16 * 16);
    CHECK(full.divisions == diagonal.divisions);
  }
  const auto p = bench::random_problem(3, 2, 4, 1, true);
  REQUIRE(p.model.full_covariance());
  CHECK(bench::time_model(p, 4, 1) > 0);
  const auto rk4 = bench::time_solver(p, "rk4", 400, 1), tight = bench::time_dop853(p, 1e-12, 1);
  CHECK(bench::rms_error(rk4.final_state, tight.final_state, 3) < 1e-3);
}

TEST_CASE("bench: a network's batch D through the timed kernel is its denoiser, sample by sample", "[bench]") {
  // 20 samples: a full pack and one a quarter filled, whose padding must not reach the output.
  const auto p = bench::network_problem(std::string(PFODE_SOURCE_DIR) + "/experiments/networks/eight-gaussians.h5", 20);
  const auto device = model::to_device(p.model);
  for (const double s : {80.0, 1.0, 0.002}) {
    const auto batch = bench::denoise_at(p, s);
    // One point per thread at its own s: the network's sums run in the same order in every
    // layout, so the two agree bit for bit.
    const auto points = model::denoise_points(device, p.y_start, std::vector<double>(p.samples, s));
    REQUIRE(batch.size() == points.size());
    for (size_t k = 0; k < batch.size(); ++k) CHECK(batch[k] == points[k]);
  }
}

TEST_CASE("bench: the timing paths run and agree with each other on a tiny problem", "[bench]") {
  const auto p = bench::random_problem(3, 2, 4);
  REQUIRE(p.y_start.size() == 12u);
  CHECK(bench::time_model(p, 4, 1) > 0);
  const auto rk4 = bench::time_solver(p, "rk4", 400, 1);
  CHECK(rk4.nfe == 400);
  CHECK(rk4.steps == 100);
  const auto tight = bench::time_dop853(p, 1e-12, 1);
  const auto loose = bench::time_dop853(p, 1e-8, 1);
  CHECK(tight.nfe > loose.nfe);
  CHECK(bench::rms_error(loose.final_state, tight.final_state, 3) < 1e-6);
  const auto shared = bench::time_dop853(p, 1e-8, 1, bench::Dop853Steps::shared_per_pack);
  CHECK(bench::rms_error(shared.final_state, tight.final_state, 3) < 1e-6);
  CHECK(bench::rms_error(rk4.final_state, tight.final_state, 3) < 1e-3);  // 100 rk4 steps
  // A preset runs on its own grid: k-diffusion's Heun spends 2 n - 1 of a budget of 2 n.
  const auto heun = bench::time_solver(p, "k-diffusion:heun", 22, 1);
  CHECK(heun.nfe == 21);
  CHECK(heun.steps == 10);
  CHECK(heun.times.size() == 11u);
  const auto ref = bench::time_solve_reference(p, 1e-12, 9, 1);
  CHECK(bench::rms_error(ref.final_state, tight.final_state, 3) < 1e-9);
  const auto peak = bench::measure_peak(0.01);
  CHECK(peak.gflops > 0);
  CHECK(peak.build_gflops > 0);
}

TEST_CASE("bench: pfode bench --quick runs", "[bench]") {
  const std::string cmd = std::string(PFODE_EXECUTABLE) + " bench --quick > pfode_test_bench.txt 2>&1";
  CHECK(std::system(cmd.c_str()) == 0);
  std::ifstream printed("pfode_test_bench.txt");
  const std::string text((std::istreambuf_iterator<char>(printed)), std::istreambuf_iterator<char>());
  CHECK(text.find("Full-covariance evaluation beside the diagonal one") != std::string::npos);
  CHECK(std::system((std::string(PFODE_EXECUTABLE) + " bench --bogus > /dev/null 2>&1").c_str()) != 0);
  // Bad input stops before any timing with exit 2: a schedule without a problem file, an unknown preset.
  for (const char* args : {" bench --quick --schedule vp-linear", " bench --quick --solvers nosuch:preset"})
    CHECK(WEXITSTATUS(std::system((std::string(PFODE_EXECUTABLE) + args + " > /dev/null 2>&1").c_str())) == 2);
  std::remove("pfode_test_bench.txt");
}
