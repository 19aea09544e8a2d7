// HDF5 results: what is written reads back identically; a failed write leaves nothing behind.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>

#include "cli_support.hpp"
#include "io/results_file.hpp"
#include "support.hpp"

using namespace pfode;

namespace {

// Doubles compare bit for bit, NaN equal to NaN (an adaptive cell's LTE, a diverged GTE).
bool same(const std::vector<double>& a, const std::vector<double>& b) {
  if (a.size() != b.size()) return false;
  for (size_t k = 0; k < a.size(); ++k)
    if (!(a[k] == b[k] || (std::isnan(a[k]) && std::isnan(b[k])))) return false;
  return true;
}
bool same(double a, double b) { return same(std::vector<double>{a}, std::vector<double>{b}); }

void require_same_summary(const metrics::SampleSummary& r, const metrics::SampleSummary& c) {
  REQUIRE(same(r.rms, c.rms));
  REQUIRE(same(r.max, c.max));
  REQUIRE(same(r.median, c.median));
  REQUIRE(same(r.p90, c.p90));
  REQUIRE(r.finite == c.finite);
}

// Names of a group's attributes, in name order.
std::vector<std::string> attribute_names(const io::Group& g) {
  std::vector<std::string> names;
  const auto collect = [](hid_t, const char* name, const H5A_info_t*, void* out) -> herr_t {
    static_cast<std::vector<std::string>*>(out)->push_back(name);
    return 0;
  };
  REQUIRE(H5Aiterate2(g.id(), H5_INDEX_NAME, H5_ITER_INC, nullptr, collect, &names) >= 0);
  return names;
}

}  // namespace

TEST_CASE("io: cells and references written to HDF5 read back identically, field by field", "[io]") {
  // A fixed-grid and an adaptive solver: the adaptive cells have step counts and NaN LTEs.
  auto e = test::experiment(test::mixture2d(), "vp-cosine", "karras", "heun", {8, 16}, 5);
  e.solvers.push_back(test::solver_entry("dpm-solver-23"));
  e.spacing_solver_pairs.push_back({0, 1});
  std::vector<results::ReferenceRecord> refs;
  const auto cells = test::run_cells(e, [&](const results::ReferenceRecord& r) { refs.push_back(r); });
  REQUIRE(cells.size() == 4);
  REQUIRE(refs.size() == 1);
  const std::string path = "pfode_test_io.h5";
  std::remove(path.c_str());
  {
    const auto f = io::File::create(path);
    const auto g = f.root().create_group("cells");
    for (const auto& c : cells) io::write_cell(g, c);
    io::write_reference(f.root().create_group("references"), refs[0]);
  }
  const auto f = io::File::open_read(path);
  const auto g = f.root().open_group("cells");
  REQUIRE(g.children() == std::vector<std::string>{"000000", "000001", "000002", "000003"});
  for (const auto& c : cells) {
    INFO("cell " << c.id << " (" << c.solver << ")");
    const auto r = io::read_cell(g.open_group(g.children()[c.id]));
    REQUIRE(r.id == c.id);
    REQUIRE(r.model == c.model);
    REQUIRE(r.schedule == c.schedule);
    REQUIRE(r.spacing == c.spacing);
    REQUIRE(r.solver == c.solver);
    REQUIRE(r.options == c.options);
    REQUIRE(r.nfe_budget == c.nfe_budget);
    REQUIRE(r.steps == c.steps);
    REQUIRE(r.seed == c.seed);
    REQUIRE(r.samples == c.samples);
    REQUIRE(r.order_theory == c.order_theory);
    REQUIRE(r.lte_order_theory == c.lte_order_theory);
    REQUIRE(r.nfe == c.nfe);
    REQUIRE(same(r.nfe_mean, c.nfe_mean));
    REQUIRE(r.nfe_uniform == c.nfe_uniform);
    REQUIRE(same(r.steps_accepted_mean, c.steps_accepted_mean));
    REQUIRE(same(r.steps_rejected_mean, c.steps_rejected_mean));
    REQUIRE(r.status == c.status);
    REQUIRE(same(r.reference_error, c.reference_error));
    REQUIRE(r.near_floor == c.near_floor);
    REQUIRE(r.layout == c.layout);
    REQUIRE(same(r.wall_time, c.wall_time));
    REQUIRE(same(r.lte_wall_time, c.lte_wall_time));
    REQUIRE(same(r.t, c.t));
    REQUIRE(same(r.lambda, c.lambda));
    REQUIRE(same(r.gte, c.gte));
    REQUIRE(same(r.gte_relative, c.gte_relative));
    require_same_summary(r.gte_summary, c.gte_summary);
    REQUIRE(r.gte_summary.worst == c.gte_summary.worst);  // the worst samples by GTE (relative: not stored)
    require_same_summary(r.gte_relative_summary, c.gte_relative_summary);
    REQUIRE(same(r.error_rms, c.error_rms));
    REQUIRE(same(r.error_max, c.error_max));
    REQUIRE(same(r.error_median, c.error_median));
    REQUIRE(same(r.lte_rms, c.lte_rms));
    REQUIRE(same(r.lte_max, c.lte_max));
    REQUIRE(same(r.lte_median, c.lte_median));
    REQUIRE(same(r.lte_step_median, c.lte_step_median));
  }
  REQUIRE(cells[3].steps_accepted_mean > 0);  // the adaptive cell: its fields are not defaults
  REQUIRE(!cells[3].nfe_uniform);
  const auto ref_group = f.root().open_group("references");
  REQUIRE(ref_group.children().size() == 1);
  const auto r = io::read_reference(ref_group.open_group(ref_group.children()[0]));
  const auto& c = refs[0];
  REQUIRE(r.model == c.model);
  REQUIRE(r.schedule == c.schedule);
  REQUIRE(r.seed == c.seed);
  REQUIRE(r.times == c.times);
  REQUIRE(same(r.tolerance, c.tolerance));
  REQUIRE(same(r.nfe_mean, c.nfe_mean));
  REQUIRE(same(r.error_estimate, c.error_estimate));
  REQUIRE(r.step_control == c.step_control);
  REQUIRE(r.layout == c.layout);
  REQUIRE(same(r.exact_error, c.exact_error));
  REQUIRE(r.nfe_max == c.nfe_max);
  REQUIRE(same(r.steps_accepted_mean, c.steps_accepted_mean));
  REQUIRE(same(r.steps_rejected_mean, c.steps_rejected_mean));
  // Times between the ends: every accepted step adds the three dense-output stages.
  const double dense = c.times > 2 ? 3 * c.steps_accepted_mean : 0.0;
  REQUIRE(c.nfe_mean == Approx(1 + 12 * (c.steps_accepted_mean + c.steps_rejected_mean) + dense).epsilon(1e-12));
  REQUIRE(r.error_estimate_samples == c.error_estimate_samples);
  REQUIRE(c.error_estimate_samples == std::min<long>(e.samples, reference::estimate_sample_count));
  REQUIRE(r.failed_samples == c.failed_samples);
  REQUIRE(same(r.wall_time, c.wall_time));
  std::remove(path.c_str());
}

TEST_CASE("io: every series attribute and dataset reads back as written, field by field", "[io]") {
  // Two solvers, two seeds: four series with valid GTE, median-GTE and LTE fits.
  auto e = test::experiment(test::mixture2d(), "vp-linear", "uniform-lambda", "euler", {8, 16, 32, 64, 128}, 4);
  e.solvers.push_back(test::solver_entry("heun"));
  e.spacing_solver_pairs.push_back({0, 1});
  e.seeds = {0, 1};
  io::RunRecord rec;
  rec.models = e.models;
  rec.schedules = e.schedules;
  rec.cells = test::run_cells(e, [&](const results::ReferenceRecord& r) { rec.references.push_back(r); });
  rec.series = sweep::fit_series(rec.cells);
  REQUIRE(rec.series.size() == 4);
  const std::string path = "pfode_test_series.h5";
  std::remove(path.c_str());
  io::write_results_file(path, rec);
  const auto series = io::File::open_read(path).root().open_group("series");
  REQUIRE(series.children().size() == rec.series.size());
  for (size_t k = 0; k < rec.series.size(); ++k) {
    const auto& f = rec.series[k];
    INFO("series " << k << ": " << f.solver << ", seed " << f.seed);
    char name[16];
    std::snprintf(name, sizeof name, "%06zu", k);
    const auto g = series.open_group(name);
    REQUIRE(g.read_string_attribute("model") == f.model);
    REQUIRE(g.read_string_attribute("schedule") == f.schedule);
    REQUIRE(g.read_string_attribute("spacing") == f.spacing);
    REQUIRE(g.read_string_attribute("solver") == f.solver);
    REQUIRE(g.read_long_attribute("seed") == f.seed);
    REQUIRE(g.read_long_attribute("order_theory") == f.order_theory);
    REQUIRE(g.read_long_attribute("lte_order_theory") == f.lte_order_theory);
    REQUIRE(g.read_long_dataset("cells") == std::vector<long>(f.cells.begin(), f.cells.end()));
    REQUIRE(g.read_dataset("nfe") == f.nfe);
    REQUIRE(f.lambda_step_order == Approx(1.0).margin(1e-9));  // uniform-lambda
    REQUIRE(same(g.read_double_attribute("lambda_step_order"), f.lambda_step_order));
    std::vector<std::string> expected = {"lambda_step_order", "lte_order_theory", "model", "order_theory", "schedule",
                                         "seed", "solver", "spacing"};
    for (const auto& [prefix, fit] : {std::pair<std::string, const metrics::OrderFit&>{"gte", f.gte},
                                      {"gte_median", f.gte_median}, {"lte", f.lte}}) {
      INFO(prefix << " fit");
      REQUIRE(fit.valid);
      REQUIRE(fit.first < fit.last);
      REQUIRE(same(g.read_double_attribute(prefix + "_order"), fit.order));
      REQUIRE(same(g.read_double_attribute(prefix + "_order_stderr"), fit.standard_error));
      const double lo = g.read_double_attribute(prefix + "_fit_nfe_min"), hi = g.read_double_attribute(prefix + "_fit_nfe_max");
      REQUIRE(lo == f.nfe[fit.first]);
      REQUIRE(hi == f.nfe[fit.last]);
      REQUIRE(lo < hi);
      REQUIRE(same(g.read_dataset(prefix + "_local_order"), fit.local_order));
      for (const char* field : {"_fit_nfe_max", "_fit_nfe_min", "_order", "_order_stderr"}) expected.push_back(prefix + field);
    }
    // The weak fits: written for every series, not valid here (no cell has weak errors).
    REQUIRE(g.read_long_attribute("weak_order_theory") == f.weak_order_theory);
    for (const auto& [prefix, fit] : {std::pair<std::string, const metrics::OrderFit&>{"weak_mean", f.weak_mean},
                                      {"weak_covariance", f.weak_covariance}, {"weak_mmd", f.weak_mmd}}) {
      INFO(prefix << " fit");
      REQUIRE(!fit.valid);
      for (const char* field : {"_fit_nfe_max", "_fit_nfe_min", "_order", "_order_stderr"}) {
        REQUIRE(std::isnan(g.read_double_attribute(prefix + field)));
        expected.push_back(prefix + field);
      }
      REQUIRE(same(g.read_dataset(prefix + "_local_order"), fit.local_order));
    }
    expected.push_back("weak_order_theory");
    // Nothing written that this test does not read back.
    std::sort(expected.begin(), expected.end());
    REQUIRE(attribute_names(g) == expected);
    REQUIRE(g.children() == std::vector<std::string>{"cells", "gte_local_order", "gte_median_local_order", "lte_local_order",
                                                     "nfe", "weak_covariance_local_order", "weak_mean_local_order",
                                                     "weak_mmd_local_order"});
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
  rec.schedules = {{"vp-linear", schedule::make_schedule("vp-linear", {{"beta_max", 18.0}})}};
  rec.cells = test::run_cells(e, [&](const results::ReferenceRecord& r) { rec.references.push_back(r); });
  rec.series = sweep::fit_series(rec.cells);
  const std::string path = "pfode_test_results.h5";
  std::remove(path.c_str());
  io::write_results_file(path, rec);
  const auto f = io::File::open_read(path);
  const auto root = f.root();
  REQUIRE(root.read_string_attribute("command_line") == "pfode run x.ini");
  REQUIRE(root.read_string_dataset("config") == rec.resolved_config);
  REQUIRE(root.open_group("models").open_group("gaussian").read_dataset("means") == e.models[0].means);
  const auto vp = root.open_group("schedules").open_group("vp-linear");
  REQUIRE(vp.read_double_attribute("beta_max") == 18.0);
  REQUIRE(vp.read_double_attribute("beta_min") == 0.1);
  REQUIRE(vp.read_double_attribute("t_min") == 1e-3);
  REQUIRE(vp.read_string_attribute("description").find("beta") != std::string::npos);
  const auto refs = root.open_group("references");
  REQUIRE(refs.children() == std::vector<std::string>{"gaussian__edm__seed0"});
  REQUIRE(io::read_reference(refs.open_group("gaussian__edm__seed0")).nfe_mean == rec.references[0].nfe_mean);
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

TEST_CASE("io: a checksummed file shows any change to its bytes and still reads as HDF5", "[io]") {
  namespace fs = std::filesystem;
  const fs::path dir = fs::temp_directory_path() / ("pfode_io_checksum_" + std::to_string(::getpid()));
  fs::create_directories(dir);
  const std::string path = (dir / "record.h5").string(), plain = (dir / "plain.h5").string();
  auto write = [](const io::Group& root) {
    const auto g = root.create_group("000003");
    g.write_attribute("gte_rms", 0.25);
    g.write_dataset("gte", std::vector<double>(100, 0.5), {100});
  };
  io::write_file_atomically(path, write, true);
  io::write_file_atomically(plain, write);
  REQUIRE(io::checksum_holds(path));
  REQUIRE(!io::checksum_holds(plain));
  REQUIRE(!io::checksum_holds((dir / "missing.h5").string()));
  REQUIRE(io::File::open_read(path).root().open_group("000003").read_double_attribute("gte_rms") == 0.25);
  REQUIRE(io::checksum_holds(path));  // reading changes nothing
  const std::string bytes = test::slurp(path);
  // One byte changed anywhere after the checksum, or the file cut short: the checksum fails.
  for (size_t at : {size_t(512), bytes.size() / 2, bytes.size() - 1}) {
    std::string changed = bytes;
    changed[at] = static_cast<char>(changed[at] ^ 1);
    std::ofstream(path, std::ios::binary) << changed;
    REQUIRE(!io::checksum_holds(path));
  }
  std::ofstream(path, std::ios::binary) << bytes.substr(0, bytes.size() - 8);
  REQUIRE(!io::checksum_holds(path));
  std::ofstream(path, std::ios::binary) << bytes;
  REQUIRE(io::checksum_holds(path));
  fs::remove_all(dir);
}

TEST_CASE("io: a cell encoded as the checkpoint's bytes decodes to the same cell; damaged bytes are refused", "[io]") {
  // Cells with NaN LTEs (adaptive), an error split (perturbed model) and saved states.
  auto e = test::experiment(test::mixture2d(), "vp-cosine", "karras", "heun", {8}, 5);
  e.solvers.push_back(test::solver_entry("dpm-solver-23"));
  e.spacing_solver_pairs.push_back({0, 1});
  auto cells = test::run_cells(e);
  results::CellResult rich = cells[0];
  rich.total_error = {1.0, 2.0};
  rich.model_error_rms = {0.5, std::nan("")};
  rich.denoiser_error_rms = {0.25};
  rich.total_summary.rms = 3.0;
  rich.saved_samples = {0, 3};
  rich.state_dim = 2;
  rich.final_state = {1, 2, 3, 4};
  rich.exact_final_state = {1, 2, 3, 5};
  rich.states = std::vector<double>(2 * rich.t.size() * 2, 0.5);
  rich.exact_states = std::vector<double>(2 * rich.t.size() * 2, 0.75);
  cells.push_back(rich);
  const std::string path = "pfode_test_cell_bytes.h5";
  std::remove(path.c_str());
  for (const auto& c : cells) {
    INFO("cell " << c.id << " (" << c.solver << ")");
    const auto bytes = io::encode_cell(c);
    const auto back = io::decode_cell(bytes.data(), bytes.size());
    REQUIRE(io::encode_cell(back) == bytes);
    // Field by field, as write_cell and read_cell see them: the same HDF5 record.
    {
      const auto f = io::File::create(path);
      io::write_cell(f.root().create_group("a"), c);
      io::write_cell(f.root().create_group("b"), back);
    }
    const auto f = io::File::open_read(path);
    const auto a = f.root().open_group("a").open_group(f.root().open_group("a").children().at(0));
    const auto b = f.root().open_group("b").open_group(f.root().open_group("b").children().at(0));
    REQUIRE(attribute_names(a) == attribute_names(b));
    for (const auto& name : attribute_names(a))
      if (name != "worst_samples") {
        INFO(name);
        const hid_t attribute = H5Aopen(a.id(), name.c_str(), H5P_DEFAULT), type = H5Aget_type(attribute);
        const bool is_string = H5Tget_class(type) == H5T_STRING;
        H5Tclose(type);
        H5Aclose(attribute);
        if (is_string) REQUIRE(a.read_string_attribute(name) == b.read_string_attribute(name));
        else REQUIRE(same(a.read_double_attribute(name), b.read_double_attribute(name)));
      }
    REQUIRE(a.read_long_vector_attribute("worst_samples") == b.read_long_vector_attribute("worst_samples"));
    REQUIRE(a.children() == b.children());
    for (const auto& name : a.children()) REQUIRE(same(a.read_dataset(name), b.read_dataset(name)));
    std::remove(path.c_str());
    REQUIRE(back.split() == c.split());
    REQUIRE(back.saved_samples == c.saved_samples);
    REQUIRE(back.gte_summary.finite == c.gte_summary.finite);
    // Cut short anywhere, one byte more, or not a cell at all: refused.
    for (size_t size : {size_t{0}, size_t{7}, bytes.size() / 2, bytes.size() - 1})
      REQUIRE_THROWS_AS(io::decode_cell(bytes.data(), size), std::runtime_error);
    auto longer = bytes;
    longer.push_back(0);
    REQUIRE_THROWS_WITH(io::decode_cell(longer.data(), longer.size()), Catch::Contains("bytes after its last field"));
    auto foreign = bytes;
    foreign[8] = 'q';
    REQUIRE_THROWS_WITH(io::decode_cell(foreign.data(), foreign.size()), Catch::Contains("not a pfode cell"));
  }
}
