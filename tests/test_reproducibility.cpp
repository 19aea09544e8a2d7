// The numbers of a sample do not depend on how many other samples share its batch, nor on the
// kernel layout that computes them.
#include <catch2/catch.hpp>

#include "support.hpp"

using namespace pfode;

TEST_CASE("a sample's errors are the same whatever the batch size", "[reproducibility]") {
  const auto m = model::random_mixture("mix", 5, 4, 11, 1.5, 0.3, 0.6);
  auto small = test::experiment(m, "vp-cosine", "karras", "heun", {10, 40}, 7);
  auto large = small;
  large.samples = 29;
  const auto a = test::run_cells(small);
  const auto b = test::run_cells(large);
  REQUIRE(a.size() == b.size());
  for (size_t c = 0; c < a.size(); ++c) {
    for (int p = 0; p < 7; ++p) REQUIRE(a[c].gte[p] == b[c].gte[p]);  // bit for bit
    REQUIRE(a[c].nfe == b[c].nfe);
  }
}

TEST_CASE("teams with vector lanes over coordinates give the packs' numbers", "[reproducibility]") {
  // 40-D: two full chunks of the log-determinant and a partial one; 5 components; 7 samples.
  const auto m = model::random_mixture("mix40", 40, 5, 4, 0.8, 0.3, 0.7);
  const auto sched = schedule::make_schedule("edm");
  const auto times = spacing::make_grid(spacing::parse_spacing("karras"), sched, 6);
  std::vector<std::string> labels;
  // Stochastic samplers: their layouts are compared in test_stochastic.cpp.
  for (const auto& info : solver::all_solvers())
    if (info.family != solver::Family::stochastic) labels.push_back(info.adaptive ? info.name + "[tol=1e-7]" : info.name);
  labels.push_back("unipc-2[corrector=off]");
  labels.push_back("edm-heun[final=denoise]");
  for (const auto& label : labels)
    for (const auto& shape : test::team_shapes(m.dim)) {
      INFO(label << ", teams of " << shape.team_size << " x " << shape.vector_length << " lanes");
      const auto packs = test::solve_on_grid(m, sched, times, label, 7, true);
      lane::KernelLayout teams;
      teams.kind = lane::KernelLayout::teams;
      teams.team = shape;
      const auto team = test::solve_on_grid(m, sched, times, label, 7, true, teams);
      // Host vector loops run in order: the same operations in the same order, bit for bit. On
      // GPUs the lanes sum the quadratic form in another order: equal to rounding (the adaptive
      // solvers' step control may then take another step, so to their tolerance).
      const bool adaptive = solver::is_adaptive(solver::parse_solver(label));
      if (!lane::gpu_backend || !adaptive) {
        REQUIRE(team.nfe == packs.nfe);
        REQUIRE(team.accepted_steps == packs.accepted_steps);
        REQUIRE(team.rejected_steps == packs.rejected_steps);
      }
      const double tol = !lane::gpu_backend ? 0.0 : adaptive ? 1e-6 : 1e-12;
      auto agree = [&](const std::vector<double>& a, const std::vector<double>& b) {
        REQUIRE(a.size() == b.size());
        for (size_t k = 0; k < a.size(); ++k) {
          if (std::isnan(b[k])) {  // the adaptive solvers' LTE, not defined
            REQUIRE(std::isnan(a[k]));
            continue;
          }
          REQUIRE(std::fabs(a[k] - b[k]) <= tol * std::max(1.0, std::fabs(b[k])));
        }
      };
      agree(team.final_state, packs.final_state);
      agree(team.global_error, packs.global_error);
      agree(team.local_error, packs.local_error);
      agree(team.exact_final_rms, packs.exact_final_rms);
    }
}

TEST_CASE("run.layout: every cell and reference records the layout it ran with, and the numbers follow",
          "[reproducibility]") {
  auto e = test::experiment(test::mixture2d(), "edm", "karras", "heun", {8, 16}, 5);
  e.solvers.push_back(test::solver_entry("dopri5"));
  e.spacing_solver_pairs.push_back({0, 1});
  const auto run = [&](const std::string& layout) {
    e.layout = lane::parse_layout(layout);
    std::string reference_layout;
    const auto cells = test::run_cells(e, [&](const results::ReferenceRecord& r) { reference_layout = r.layout; });
    return std::make_pair(cells, reference_layout);
  };
  const auto [packs, packs_reference] = run("packs");
  REQUIRE(packs_reference == "packs");
  for (const std::string layout : {"auto", "teams"}) {
    const auto [cells, reference_layout] = run(layout);
    const std::string resolved = layout == "teams" ? "teams" : lane::layout_name(lane::auto_layout());
    REQUIRE(reference_layout == resolved);
    REQUIRE(cells.size() == packs.size());
    for (size_t c = 0; c < cells.size(); ++c) {
      INFO(layout << " / " << cells[c].solver);
      REQUIRE(cells[c].layout == resolved);
      REQUIRE(packs[c].layout == "packs");
      for (int p = 0; p < e.samples; ++p)
        REQUIRE(std::fabs(cells[c].gte[p] - packs[c].gte[p]) <= (lane::gpu_backend ? 1e-9 : 0.0) * packs[c].gte[p]);
    }
  }
}
