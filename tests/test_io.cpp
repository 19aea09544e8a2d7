// HDF5 results: what is written reads back identically; a failed write leaves nothing behind.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstdio>
#include <filesystem>

#include "io/results_file.hpp"
#include "support.hpp"

using namespace pfode;

TEST_CASE("io: a cell written to HDF5 reads back identically", "[io]") {
  const auto e = test::experiment(test::mixture2d(), "vp-cosine", "karras", "heun", {8, 16}, 5);
  const auto cells = test::run_cells(e);
  const std::string path = "pfode_test_io.h5";
  std::remove(path.c_str());
  {
    const auto f = io::File::create(path);
    const auto g = f.root().create_group("cells");
    for (const auto& c : cells) io::write_cell(g, c);
  }
  const auto f = io::File::open_read(path);
  const auto g = f.root().open_group("cells");
  REQUIRE(g.children() == std::vector<std::string>{"000000", "000001"});
  for (const auto& c : cells) {
    const auto r = io::read_cell(g.open_group(g.children()[c.id]));
    REQUIRE(r.id == c.id);
    REQUIRE(r.model == c.model);
    REQUIRE(r.schedule == c.schedule);
    REQUIRE(r.spacing == c.spacing);
    REQUIRE(r.solver == c.solver);
    REQUIRE(r.nfe == c.nfe);
    REQUIRE(r.steps == c.steps);
    REQUIRE(r.status == c.status);
    REQUIRE(r.layout == c.layout);
    REQUIRE(r.t == c.t);
    REQUIRE(r.gte == c.gte);
    REQUIRE(r.error_rms == c.error_rms);
    REQUIRE(r.lte_rms == c.lte_rms);
    REQUIRE(r.gte_summary.rms == c.gte_summary.rms);
    REQUIRE(r.gte_summary.p90 == c.gte_summary.p90);
    REQUIRE(std::vector<int>(r.gte_summary.worst) == c.gte_summary.worst);
    REQUIRE(r.lte_step_median == c.lte_step_median);
  }
  std::remove(path.c_str());
}

TEST_CASE("io: the results file holds provenance, config, models and series", "[io]") {
  const auto e = test::experiment(test::gaussian(2), "edm", "uniform-lambda", "euler", {8, 16, 32, 64}, 4);
  io::RunRecord rec;
  rec.provenance.pfode_version = "0.1.0";
  rec.provenance.command_line = "pfode run x.ini";
  rec.resolved_config = "[run]\nsamples = 4\n";
  rec.models = e.models;
  rec.cells = test::run_cells(e);
  rec.series = sweep::fit_series(rec.cells);
  const std::string path = "pfode_test_results.h5";
  std::remove(path.c_str());
  io::write_results_file(path, rec);
  const auto f = io::File::open_read(path);
  const auto root = f.root();
  REQUIRE(root.read_string_attribute("command_line") == "pfode run x.ini");
  REQUIRE(root.read_string_dataset("config") == rec.resolved_config);
  REQUIRE(root.open_group("models").open_group("gaussian").read_dataset("means") == e.models[0].means);
  const auto s = root.open_group("series").open_group("000000");
  REQUIRE(s.read_double_attribute("gte_order") == rec.series[0].gte.order);
  REQUIRE(s.read_dataset("nfe") == rec.series[0].nfe);
  // Writing onto a directory fails and leaves no temporary behind.
  std::filesystem::create_directory("pfode_test_dir.h5");
  REQUIRE_THROWS(io::write_results_file("pfode_test_dir.h5", rec));
  for (const auto& entry : std::filesystem::directory_iterator("."))
    REQUIRE(entry.path().filename().string().find("pfode_test_dir.h5.tmp") == std::string::npos);
  std::filesystem::remove("pfode_test_dir.h5");
  std::remove(path.c_str());
}
