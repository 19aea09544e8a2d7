// The learned denoiser (`kind = network`): its forward pass against PyTorch's on the shipped
// network, its file's bad contents each refused with one message, and its round trip through the
// results file and a config; its error split against the mixture it learned.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstdio>
#include <functional>
#include <string>

#include "io/results_file.hpp"
#include "model/evaluate.hpp"
#include "model/network_file.hpp"
#include "support.hpp"

using namespace pfode;

namespace {

const std::string shipped = std::string(PFODE_SOURCE_DIR) + "/experiments/networks/eight-gaussians.h5";
const std::string shipped_forward = std::string(PFODE_SOURCE_DIR) + "/experiments/networks/eight-gaussians-forward.h5";

// Max over points and coordinates of |a - b| / max(1, |b|).
double max_relative(const std::vector<double>& a, const std::vector<double>& b) {
  double worst = 0;
  for (size_t i = 0; i < a.size(); ++i) worst = std::max(worst, std::fabs(a[i] - b[i]) / std::max(1.0, std::fabs(b[i])));
  return worst;
}

}  // namespace

TEST_CASE("network: the forward pass equals PyTorch's on the shipped network to 1e-12", "[network]") {
  const auto m = model::load_network_model("net", shipped);
  REQUIRE(m.kind() == "network");
  REQUIRE(m.network->exact_name == "eight-gaussians");
  std::vector<double> y, s, d;
  std::vector<hsize_t> shape;
  {
    const auto f = io::File::open_read(shipped_forward);
    y = f.root().read_dataset("y", &shape);
    s = f.root().read_dataset("s");
    d = f.root().read_dataset("D");
  }
  REQUIRE(shape == std::vector<hsize_t>{s.size(), 2});
  REQUIRE(s.size() >= 64);
  double s_min = s[0], s_max = s[0];
  for (double v : s) s_min = std::min(s_min, v), s_max = std::max(s_max, v);
  REQUIRE(s_min < 1e-3);  // the whole range a sampler visits, and past it
  REQUIRE(s_max > 1e3);
  const auto got = model::denoise_points(model::to_device(m), y, s);
  const double err = max_relative(got, d);
  INFO("max |D_pfode - D_torch| / max(1, |D|) = " << err);
  REQUIRE(err <= 1e-12);
  // The same network written into a results file and read back evaluates to the same bits.
  const std::string path = "pfode_test_network_model.h5";
  std::remove(path.c_str());
  {
    const auto f = io::File::create(path);
    io::write_model(f.root().create_group("models"), m);
  }
  const auto back = io::read_model(io::File::open_read(path).root().open_group("models"), "net");
  std::remove(path.c_str());
  REQUIRE(back.kind() == "network");
  REQUIRE(back.means == m.means);
  REQUIRE(model::denoise_points(model::to_device(back), y, s) == got);
}

namespace {

// A small valid network file (dim 2, F = 1, widths 3 and 2), with `tamper` applied to its parts
// before they are written.
struct Parts {
  std::string format = "pfode-network-1", activation = "silu";
  long dim = 2, layers = 2, exact_dim = 2;
  std::vector<std::vector<hsize_t>> weight_shapes = {{3, 4}, {2, 3}};
  std::vector<hsize_t> bias0 = {3};
  bool drop_layer1 = false, nan_weight = false;
};

void write_parts(const std::string& path, const Parts& p) {
  std::remove(path.c_str());
  const auto f = io::File::create(path);
  const auto g = f.root();
  g.write_attribute("format", p.format);
  g.write_attribute("activation", p.activation);
  g.write_attribute("preconditioning", std::string("edm"));
  g.write_attribute("noise_embedding", std::string("fourier"));
  g.write_attribute("sigma_data", 0.5);
  g.write_attribute("dim", p.dim);
  g.write_attribute("layers", p.layers);
  g.create_group("embedding").write_dataset("frequencies", {0.7}, {1});
  const auto layers = g.create_group("layers");
  for (int l = 0; l < 2; ++l) {
    if (l == 1 && p.drop_layer1) continue;
    const auto layer = layers.create_group(std::to_string(l));
    const auto& ws = p.weight_shapes[l];
    std::vector<double> w(ws[0] * ws[1], 0.1);
    if (p.nan_weight) w[0] = NAN;
    layer.write_dataset("weight", w, ws);
    const std::vector<hsize_t> bs = l == 0 ? p.bias0 : std::vector<hsize_t>{ws[0]};
    layer.write_dataset("bias", std::vector<double>(bs[0], 0.0), bs);
  }
  const auto exact = g.create_group("exact");
  exact.write_dataset("weights", {1.0}, {1});
  exact.write_dataset("means", std::vector<double>(p.exact_dim, 0.0), {1, static_cast<hsize_t>(p.exact_dim)});
  exact.write_dataset("stds", std::vector<double>(p.exact_dim, 1.0), {1, static_cast<hsize_t>(p.exact_dim)});
}

std::string load_error(const std::function<void(Parts&)>& tamper, int dim = 0) {
  Parts p;
  tamper(p);
  const std::string path = "pfode_test_bad_network.h5";
  write_parts(path, p);
  try {
    model::load_network_model("net", path, dim);
  } catch (const std::invalid_argument& e) {
    std::remove(path.c_str());
    return e.what();
  }
  std::remove(path.c_str());
  return "(loaded)";
}

}  // namespace

TEST_CASE("network: bad files are refused, one named problem each", "[network]") {
  REQUIRE(load_error([](Parts&) {}) == "(loaded)");
  const auto is = [](const std::string& got, const std::string& expected) {
    INFO(got);
    CHECK(got.find("model net: 'pfode_test_bad_network.h5': ") == 0);
    CHECK(got.find(expected) != std::string::npos);
  };
  is(load_error([](Parts& p) { p.format = "something-else"; }), "not a pfode-network-1 network");
  is(load_error([](Parts& p) { p.activation = "relu"; }), "unknown activation 'relu' (known: silu)");
  is(load_error([](Parts& p) { p.drop_layer1 = true; }), "missing layer 1 (layers/1; attribute layers = 2)");
  is(load_error([](Parts& p) { p.layers = 3; }), "missing layer 2");
  is(load_error([](Parts& p) { p.weight_shapes[0] = {3, 5}; }),
     "layers/0/weight is 3 x 5, expected outputs x inputs (dim + 2F = 4)");
  is(load_error([](Parts& p) { p.weight_shapes[1] = {2, 4}; }),
     "layers/1/weight is 2 x 4, expected 2 (dim) x inputs (3, layer 0's outputs)");
  is(load_error([](Parts& p) { p.weight_shapes[1] = {3, 3}; }), "layers/1/weight is 3 x 3, expected 2 (dim)");
  is(load_error([](Parts& p) { p.bias0 = {2}; }), "layers/0/bias is 2, expected 3 (the weight's rows)");
  is(load_error([](Parts& p) { p.nan_weight = true; }), "layers/0/weight has a non-finite value");
  is(load_error([](Parts& p) { p.exact_dim = 3; }), "the network's dim 2 does not match its exact mixture's 3");
  is(load_error([](Parts&) {}, 5), "the network's dim 2 does not match the model's dim 5");
  REQUIRE_THROWS_WITH(model::load_network_model("net", "pfode_test_no_such_network.h5"),
                      Catch::StartsWith("model net: 'pfode_test_no_such_network.h5': "));
}

TEST_CASE("network: teams give the packs' numbers", "[network]") {
  const auto m = model::load_network_model("net", shipped);
  const auto sched = schedule::make_schedule("edm");
  const auto times = spacing::make_grid(spacing::parse_spacing("karras"), sched, 6);
  for (const std::string label : {"heun", "dpm-solver++2m", "dopri5[tol=1e-7]"})
    for (const auto& shape : test::team_shapes(m.dim)) {
      INFO(label << ", teams of " << shape.team_size << " x " << shape.vector_length << " lanes");
      const auto packs = test::solve_on_grid(m, sched, times, label, 19, true);
      lane::KernelLayout teams;
      teams.kind = lane::KernelLayout::teams;
      teams.team = shape;
      const auto team = test::solve_on_grid(m, sched, times, label, 19, true, teams);
      // Every output is summed in input order in both layouts: on host backends the same bits.
      // GPU compilers may contract other products into fmas in the two kernels.
      const double tol = lane::gpu_backend ? 1e-12 : 0.0;
      REQUIRE(team.nfe == packs.nfe);
      for (size_t k = 0; k < packs.final_state.size(); ++k)
        REQUIRE(std::fabs(team.final_state[k] - packs.final_state[k]) <=
                tol * std::max(1.0, std::fabs(packs.final_state[k])));
    }
}

TEST_CASE("network: its error splits against the exact mixture it learned", "[network]") {
  const auto net = model::load_network_model("net", shipped);
  REQUIRE(!net.is_exact());
  const auto mix = net.exact();  // the mixture the file names
  CHECK(mix.name == "eight-gaussians");
  CHECK(mix.kind() == "diagonal-mixture");
  CHECK(mix.is_exact());
  CHECK(!mix.network);
  CHECK(mix.means == net.means);

  auto e = test::experiment(net, "vp-linear", "uniform-lambda", "heun", {16, 64}, 8);
  e.reference_tolerance = 1e-12;
  e.save_states = sweep::Experiment::SaveStates::final;
  e.save_samples = {0, 1, 2, 3, 4, 5, 6, 7};
  std::vector<results::ReferenceRecord> refs;
  const auto cells = test::run_cells(e, [&](const results::ReferenceRecord& r) { refs.push_back(r); });
  REQUIRE(refs.size() == 1);
  CHECK(refs[0].exact_model_error_estimate >= 0);

  // The mixture's flow from the same start states, solved here on its own.
  const auto& sched = e.schedules[0].schedule;
  const int d = net.dim, n = e.samples;
  const auto y_start = model::start_states(net, e.start, e.seeds[0], n, sched.alpha(sched.t_max), sched.sigma(sched.t_max));
  reference::Dop853Settings tight;
  tight.rtol = tight.atol = 1e-12;
  const double s0 = sched.s(sched.t_max), s_n = sched.s(sched.t_min), alpha_n = sched.alpha(sched.t_min);
  const auto exact_flow = test::to_host(reference::solve_reference(model::to_device(mix), test::to_view(y_start, n, d),
                                                                   {s0, s_n}, tight).y);
  // The denoiser error where the trajectories start: |D_net - D_mix| at y_T.
  const auto d_net = model::denoise_points(model::to_device(net), y_start, std::vector<double>(n, s0));
  const auto d_mix = model::denoise_points(model::to_device(mix), y_start, std::vector<double>(n, s0));
  double start_sum = 0;
  for (int p = 0; p < n; ++p) {
    double sum = 0;
    for (int j = 0; j < d; ++j) sum += (d_net[p * d + j] - d_mix[p * d + j]) * (d_net[p * d + j] - d_mix[p * d + j]);
    start_sum += sum / d;
  }
  for (const auto& c : cells) {
    INFO("NFE " << c.nfe);
    REQUIRE(c.split());
    REQUIRE(c.final_state.size() == static_cast<size_t>(n * d));
    for (int p = 0; p < n; ++p) {
      double total = 0;
      for (int j = 0; j < d; ++j) {
        const double diff = c.final_state[p * d + j] - alpha_n * exact_flow(p, 1, j);
        total += diff * diff;
      }
      CHECK(std::fabs(c.total_error[p] - std::sqrt(total / d)) <= 1e-9);
      // Total, discretisation and model error: a triangle.
      CHECK(c.total_error[p] <= c.gte[p] + c.model_error_rms.back() * std::sqrt(n) + 1e-12);
    }
    CHECK(c.model_error_rms.front() == 0.0);  // the same start states
    CHECK(c.model_error_rms.back() > 1e-3);   // the network's flow is not the mixture's
    CHECK(std::fabs(c.denoiser_error_rms.front() - std::sqrt(start_sum / n)) <= 1e-14);
  }
}

TEST_CASE("network: no flow to s = 0 (run.denoise_target = zero is refused)", "[network]") {
  const std::string text = "[run]\nsamples = 4\ndenoise_target = zero\n[sweep]\nmodels = net\nschedules = edm\n"
                           "solvers = euler\nnfe = 8\n[model.net]\nkind = network\nfile = " + shipped + "\n";
  REQUIRE_THROWS_WITH(test::load_config_text(text, "pfode_test_network.ini"),
                      Catch::Contains("run.denoise_target = zero: model net is a network"));
}
