#include "io/runs_file.hpp"

#include <filesystem>
#include <stdexcept>

#include "io/hdf5.hpp"

namespace pfode::io {

namespace {

void fail(const std::string& why) { throw std::invalid_argument(why); }

std::string text_or(const Group& g, const std::string& name, const std::string& fallback) {
  return g.has_attribute(name) ? g.read_string_attribute(name) : fallback;
}
long long_or(const Group& g, const std::string& name, long fallback) {
  return g.has_attribute(name) ? g.read_long_attribute(name) : fallback;
}

external::ExternalRun read_run(const Group& runs, const std::string& name) {
  const Group g = runs.open_group(name);
  external::ExternalRun run;
  run.name = name;
  for (const char* key : {"label", "model", "schedule", "seed"})
    if (!g.has_attribute(key)) fail("run '" + name + "' has no " + key + " attribute");
  run.label = g.read_string_attribute("label");
  if (run.label.empty()) fail("run '" + name + "' has an empty label");
  run.model = g.read_string_attribute("model");
  run.schedule = g.read_string_attribute("schedule");
  run.seed = g.read_long_attribute("seed");
  run.spacing = text_or(g, "spacing", run.spacing);
  run.options = text_or(g, "options", "");
  run.order_theory = long_or(g, "order_theory", 0);
  run.target = text_or(g, "target", run.target);
  run.steps = long_or(g, "steps", -1);
  run.nfe_budget = long_or(g, "nfe_budget", -1);
  if (g.has_attribute("wall_time")) run.wall_time = g.read_double_attribute("wall_time");

  for (const char* key : {"t", "x"})
    if (!g.has(key)) fail("run '" + name + "' has no dataset " + key);
  std::vector<hsize_t> t_shape, x_shape;
  run.t = g.read_dataset("t", &t_shape);
  if (t_shape.size() > 1 || run.t.empty()) fail("run '" + name + "': t must hold one or more times (a 1-D dataset)");
  run.x = g.read_dataset("x", &x_shape);
  const hsize_t points = run.t.size();
  // samples x points x dim; samples x dim stands for one point (the final state only).
  if (x_shape.size() == 2 && points == 1) x_shape = {x_shape[0], 1, x_shape[1]};
  if (x_shape.size() != 3 || x_shape[1] != points)
    fail("run '" + name + "': x must be samples x " + std::to_string(points) + " x dim (one state per time in t)" +
         (points == 1 ? " or samples x dim" : ""));
  run.samples = static_cast<int>(x_shape[0]);
  run.dim = static_cast<int>(x_shape[2]);

  const bool nfe_attribute = g.has_attribute("nfe"), nfe_dataset = g.has("nfe");
  if (nfe_attribute == nfe_dataset)
    fail("run '" + name + "' needs the NFE it spent: an nfe attribute (every sample) or an nfe dataset (per sample)");
  if (nfe_attribute) run.nfe.assign(run.samples, g.read_long_attribute("nfe"));
  else run.nfe = g.read_long_dataset("nfe");
  return run;
}

}  // namespace

external::RunsFile read_runs_file(const std::string& path) {
  external::RunsFile file;
  file.path = path;
  try {
    if (!std::filesystem::is_regular_file(path)) fail("no such file");
    const File f = File::open_read(path);
    const Group root = f.root();
    if (!root.has_attribute("format") || root.read_string_attribute("format") != runs_format)
      fail(std::string("not a pfode runs file (no format attribute \"") + runs_format + "\")");
    if (!root.has_attribute("problem_id")) fail("no problem_id attribute: which problem did the runs start from?");
    file.problem_id = root.read_string_attribute("problem_id");
    if (!root.has("runs") || root.open_group("runs").children().empty()) fail("no runs (groups under /runs)");
    const Group runs = root.open_group("runs");
    for (const auto& name : runs.children()) file.runs.push_back(read_run(runs, name));
  } catch (const std::exception& e) {  // a missing or unreadable group, attribute or dataset, or bad values
    throw std::invalid_argument("runs '" + path + "': " + e.what());
  }
  return file;
}

}  // namespace pfode::io
