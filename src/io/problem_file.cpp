#include "io/problem_file.hpp"

#include <cstdio>
#include <filesystem>
#include <stdexcept>

#include "io/results_file.hpp"

namespace pfode::io {

namespace {

std::string grid_name(size_t k) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "%06zu", k);
  return buf;
}

std::vector<hsize_t> shape1(size_t n) { return {static_cast<hsize_t>(n)}; }

}  // namespace

void write_problem_file(const std::string& path, const external::Problem& p, const Provenance& provenance) {
  write_file_atomically(path, [&](const Group& root) {
    root.write_attribute("format", std::string(problem_format));
    root.write_attribute("problem_id", p.id);
    root.write_attribute("pfode_version", provenance.pfode_version);
    root.write_attribute("git_commit", provenance.git_commit);
    root.write_attribute("kokkos_version", provenance.kokkos_version);
    root.write_attribute("execution_space", provenance.execution_space);
    root.write_attribute("host", provenance.host);
    root.write_attribute("utc_written", provenance.utc_start);
    root.write_attribute("command_line", provenance.command_line);
    root.write_attribute("config_path", provenance.config_path);
    root.write_attribute("samples", static_cast<long>(p.samples));
    root.write_attribute("reference_tolerance", p.reference.tolerance);
    root.write_attribute("reference_step", std::string(p.reference.pack_step ? "pack" : "sample"));
    root.write_string_dataset("config", p.resolved_config);
    const Group models = root.create_group("models");
    for (const auto& m : p.models) write_model(models, m);
    const Group schedules = root.create_group("schedules");
    for (const auto& s : p.schedules) write_schedule(schedules, s);
    const Group starts = root.create_group("starts");
    for (const auto& s : p.starts) {
      const Group g = starts.create_group(external::start_name(s));
      const auto& sched = p.find_schedule(s.schedule)->schedule;
      const int dim = p.find_model(s.model)->dim;
      g.write_attribute("model", s.model);
      g.write_attribute("schedule", s.schedule);
      g.write_attribute("seed", s.seed);
      g.write_attribute("t_max", sched.t_max);
      g.write_dataset("y_T", s.y_T, {static_cast<hsize_t>(p.samples), static_cast<hsize_t>(dim)});
      g.write_dataset("x_T", s.x_T, {static_cast<hsize_t>(p.samples), static_cast<hsize_t>(dim)});
    }
    const Group grids = root.create_group("grids");
    for (size_t k = 0; k < p.grids.size(); ++k) {
      const auto& grid = p.grids[k];
      const Group g = grids.create_group(grid_name(k));
      g.write_attribute("schedule", grid.schedule);
      g.write_attribute("spacing", grid.spacing);
      g.write_attribute("steps", static_cast<long>(grid.steps));
      g.write_attribute("nfe_budgets", grid.nfe_budgets);
      g.write_dataset("t", grid.t, shape1(grid.t.size()));
      g.write_dataset("alpha", grid.alpha, shape1(grid.alpha.size()));
      g.write_dataset("sigma", grid.sigma, shape1(grid.sigma.size()));
      g.write_dataset("lambda", grid.lambda, shape1(grid.lambda.size()));
      g.write_dataset("s", grid.s, shape1(grid.s.size()));
    }
  });
}

namespace {

void fail(const std::string& why) { throw std::invalid_argument(why); }

external::Problem read_problem(const Group& root) {
  if (!root.has_attribute("format") || root.read_string_attribute("format") != problem_format)
    fail(std::string("not a pfode problem file (no format attribute \"") + problem_format + "\"; pfode export writes one)");
  external::Problem p;
  p.id = root.read_string_attribute("problem_id");
  p.samples = static_cast<int>(root.read_long_attribute("samples"));
  p.reference.tolerance = root.read_double_attribute("reference_tolerance");
  p.reference.pack_step = root.read_string_attribute("reference_step") == "pack";
  p.resolved_config = root.read_string_dataset("config");
  const Group models = root.open_group("models");
  for (const auto& name : models.children()) p.models.push_back(read_model(models, name));
  const Group schedules = root.open_group("schedules");
  for (const auto& name : schedules.children()) p.schedules.push_back(read_schedule(schedules, name));
  const Group starts = root.open_group("starts");
  for (const auto& name : starts.children()) {
    const Group g = starts.open_group(name);
    external::StartStates s;
    s.model = g.read_string_attribute("model");
    s.schedule = g.read_string_attribute("schedule");
    s.seed = g.read_long_attribute("seed");
    const auto* model = p.find_model(s.model);
    if (!model || !p.find_schedule(s.schedule)) fail("start states " + name + " name an unknown model or schedule");
    std::vector<hsize_t> y_shape, x_shape;
    s.y_T = g.read_dataset("y_T", &y_shape);
    s.x_T = g.read_dataset("x_T", &x_shape);
    const std::vector<hsize_t> expected{static_cast<hsize_t>(p.samples), static_cast<hsize_t>(model->dim)};
    if (y_shape != expected || x_shape != expected) fail("start states " + name + " are not samples x dim");
    p.starts.push_back(std::move(s));
  }
  const Group grids = root.open_group("grids");
  for (const auto& name : grids.children()) {
    const Group g = grids.open_group(name);
    external::Grid grid;
    grid.schedule = g.read_string_attribute("schedule");
    grid.spacing = g.read_string_attribute("spacing");
    grid.steps = static_cast<int>(g.read_long_attribute("steps"));
    grid.nfe_budgets = g.read_long_vector_attribute("nfe_budgets");
    grid.t = g.read_dataset("t");
    grid.alpha = g.read_dataset("alpha");
    grid.sigma = g.read_dataset("sigma");
    grid.lambda = g.read_dataset("lambda");
    grid.s = g.read_dataset("s");
    p.grids.push_back(std::move(grid));
  }
  if (external::problem_fingerprint(p) != p.id)
    fail("its content does not match its problem_id " + p.id + " (changed after pfode export wrote it?)");
  return p;
}

}  // namespace

external::Problem read_problem_file(const std::string& path) {
  try {
    if (!std::filesystem::is_regular_file(path)) fail("no such file");
    return read_problem(File::open_read(path).root());
  } catch (const std::exception& e) {  // a missing or unreadable group, attribute or dataset, or bad values
    throw std::invalid_argument("problem '" + path + "': " + e.what());
  }
}

}  // namespace pfode::io
