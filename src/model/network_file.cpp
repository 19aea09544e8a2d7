#include "model/network_file.hpp"

#include <cmath>
#include <stdexcept>

namespace pfode::model {

namespace {

const char* const format_name = "pfode-network-1";

}  // namespace

NetworkSpec read_network(const io::Group& g, const std::string& what) {
  const auto fail = [&](const std::string& why) { throw std::invalid_argument(what + ": " + why); };
  const auto text = [&](const char* name) {
    if (!g.has_attribute(name)) fail(std::string("no attribute '") + name + "'");
    try {
      return g.read_string_attribute(name);
    } catch (const std::runtime_error&) {
      fail(std::string("attribute '") + name + "' is not a string");
    }
    return std::string();
  };
  const auto number = [&](const char* name) {
    if (!g.has_attribute(name)) fail(std::string("no attribute '") + name + "'");
    try {
      return g.read_double_attribute(name);
    } catch (const std::runtime_error&) {
      fail(std::string("attribute '") + name + "' is not a number");
    }
    return 0.0;
  };
  const auto expect = [&](const char* name, const std::string& known) {
    const std::string value = text(name);
    if (value != known) fail(std::string("unknown ") + name + " '" + value + "' (known: " + known + ")");
  };
  if (!g.has_attribute("format") || text("format") != format_name)
    fail(std::string("not a ") + format_name + " network (attribute format)");
  expect("activation", "silu");
  expect("preconditioning", "edm");
  expect("noise_embedding", "fourier");

  NetworkSpec net;
  net.sigma_data = number("sigma_data");
  if (!(net.sigma_data > 0 && std::isfinite(net.sigma_data))) fail("sigma_data must be positive and finite");
  const double dim = number("dim"), layers = number("layers");
  if (!(dim >= 1 && dim == std::floor(dim) && dim < 1e6)) fail("dim must be a positive integer");
  if (!(layers >= 2 && layers <= Network::max_layers && layers == std::floor(layers)))
    fail("layers must be an integer in [2, " + std::to_string(Network::max_layers) + "]");
  net.dim = static_cast<int>(dim);
  const int n_layers = static_cast<int>(layers);

  const auto dataset = [&](const io::Group& in, const std::string& name, const std::string& path,
                           std::vector<hsize_t>& shape) {
    if (!in.has(name)) fail("missing " + path);
    std::vector<double> values;
    try {
      values = in.read_dataset(name, &shape);
    } catch (const std::runtime_error& e) {
      fail("cannot read " + path + " (" + e.what() + ")");
    }
    for (double v : values)
      if (!std::isfinite(v)) fail(path + " has a non-finite value");
    return values;
  };
  std::vector<hsize_t> shape;
  if (!g.has("embedding")) fail("missing embedding/frequencies");
  net.frequencies = dataset(g.open_group("embedding"), "frequencies", "embedding/frequencies", shape);
  if (shape.size() != 1 || shape[0] < 1)
    fail("embedding/frequencies is " + io::shape_text(shape) + ", expected a vector of F >= 1 frequencies");

  if (!g.has("layers")) fail("missing layers (the group of Linear layers)");
  const io::Group layer_group = g.open_group("layers");
  for (int l = 0; l < n_layers; ++l) {
    const std::string name = std::to_string(l), path = "layers/" + name;
    if (!layer_group.has(name)) fail("missing layer " + name + " (" + path + "; attribute layers = " +
                                     std::to_string(n_layers) + ")");
    const io::Group layer = layer_group.open_group(name);
    const int in = l == 0 ? net.dim + 2 * static_cast<int>(net.frequencies.size()) : net.outputs.back();
    std::vector<double> weight = dataset(layer, "weight", path + "/weight", shape);
    if (shape.size() != 2 || shape[1] != static_cast<hsize_t>(in) || shape[0] < 1 ||
        (l + 1 == n_layers && shape[0] != static_cast<hsize_t>(net.dim))) {
      const std::string out = l + 1 == n_layers ? std::to_string(net.dim) + " (dim)" : "outputs";
      const std::string from = l == 0 ? "dim + 2F = " + std::to_string(in)
                                      : std::to_string(in) + ", layer " + std::to_string(l - 1) + "'s outputs";
      fail(path + "/weight is " + io::shape_text(shape) + ", expected " + out + " x inputs (" + from + ")");
    }
    const int out = static_cast<int>(shape[0]);
    std::vector<double> bias = dataset(layer, "bias", path + "/bias", shape);
    if (shape.size() != 1 || shape[0] != static_cast<hsize_t>(out))
      fail(path + "/bias is " + io::shape_text(shape) + ", expected " + std::to_string(out) + " (the weight's rows)");
    net.weights.push_back(std::move(weight));
    net.biases.push_back(std::move(bias));
    net.inputs.push_back(in);
    net.outputs.push_back(out);
  }
  const size_t stored = layer_group.children().size();
  if (stored != static_cast<size_t>(n_layers))
    fail("layers holds " + std::to_string(stored) + " layers, attribute layers says " + std::to_string(n_layers));
  return net;
}

void write_network(const io::Group& g, const NetworkSpec& net) {
  g.write_attribute("format", std::string(format_name));
  g.write_attribute("activation", std::string("silu"));
  g.write_attribute("preconditioning", std::string("edm"));
  g.write_attribute("noise_embedding", std::string("fourier"));
  g.write_attribute("sigma_data", net.sigma_data);
  g.write_attribute("dim", static_cast<long>(net.dim));
  g.write_attribute("layers", static_cast<long>(net.weights.size()));
  if (!net.exact_name.empty()) g.write_attribute("exact", net.exact_name);
  g.create_group("embedding").write_dataset("frequencies", net.frequencies, {net.frequencies.size()});
  const io::Group layers = g.create_group("layers");
  for (size_t l = 0; l < net.weights.size(); ++l) {
    const io::Group layer = layers.create_group(std::to_string(l));
    layer.write_dataset("weight", net.weights[l],
                        {static_cast<hsize_t>(net.outputs[l]), static_cast<hsize_t>(net.inputs[l])});
    layer.write_dataset("bias", net.biases[l], {static_cast<hsize_t>(net.outputs[l])});
  }
}

ModelSpec load_network_model(const std::string& name, const std::string& path, int dim) {
  const std::string what = "model " + name + ": '" + path + "'";
  NetworkSpec net;
  std::vector<double> weights, means, stds;
  std::vector<hsize_t> mshape, sshape;
  try {
    const io::File file = io::File::open_read(path);
    const io::Group root = file.root();
    net = read_network(root, what);
    if (!root.has("exact")) throw std::invalid_argument(what + ": missing exact (the mixture it was trained on)");
    const io::Group exact = root.open_group("exact");
    if (exact.has_attribute("name")) net.exact_name = exact.read_string_attribute("name");
    weights = exact.read_dataset("weights");
    means = exact.read_dataset("means", &mshape);
    stds = exact.read_dataset("stds", &sshape);
  } catch (const std::runtime_error& e) {
    throw std::invalid_argument(what + ": " + e.what());
  }
  if (mshape.size() != 2 || sshape != mshape || mshape[0] != weights.size())
    throw std::invalid_argument(what + ": exact needs weights (K), means and stds (K x dim)");
  const int exact_dim = static_cast<int>(mshape[1]);
  if (exact_dim != net.dim)
    throw std::invalid_argument(what + ": the network's dim " + std::to_string(net.dim) +
                                " does not match its exact mixture's " + std::to_string(exact_dim));
  if (dim > 0 && dim != net.dim)
    throw std::invalid_argument(what + ": the network's dim " + std::to_string(net.dim) +
                                " does not match the model's dim " + std::to_string(dim));
  ModelSpec spec = make_model(name, net.dim, weights, means, stds, path);
  spec.network = std::make_shared<const NetworkSpec>(std::move(net));
  return spec;
}

Network network_device(const NetworkSpec& net) {
  Network d;
  d.layers = static_cast<int>(net.weights.size());
  d.dim = net.dim;
  d.features = 2 * static_cast<int>(net.frequencies.size());
  d.sigma_data = net.sigma_data;
  long size = 0;
  for (int l = 0; l < d.layers; ++l) {
    d.inputs[l] = net.inputs[l];
    d.outputs[l] = net.outputs[l];
    d.weight_at[l] = size;
    size += static_cast<long>(net.weights[l].size());
    d.bias_at[l] = size;
    size += static_cast<long>(net.biases[l].size());
    if (l + 1 < d.layers && net.outputs[l] > d.widest) d.widest = net.outputs[l];
  }
  Kokkos::View<double*> parameters("pfode::model::network_parameters", size);
  Kokkos::View<double*> frequencies("pfode::model::network_frequencies", net.frequencies.size());
  auto p = Kokkos::create_mirror_view(parameters);
  auto f = Kokkos::create_mirror_view(frequencies);
  for (int l = 0; l < d.layers; ++l) {
    for (int i = 0; i < net.outputs[l]; ++i)  // transposed: in x out
      for (int k = 0; k < net.inputs[l]; ++k)
        p(d.weight_at[l] + static_cast<long>(k) * net.outputs[l] + i) =
            net.weights[l][static_cast<size_t>(i) * net.inputs[l] + k];
    for (size_t i = 0; i < net.biases[l].size(); ++i) p(d.bias_at[l] + static_cast<long>(i)) = net.biases[l][i];
  }
  for (size_t i = 0; i < net.frequencies.size(); ++i) f(i) = net.frequencies[i];
  Kokkos::deep_copy(parameters, p);
  Kokkos::deep_copy(frequencies, f);
  d.parameters = parameters;
  d.frequencies = frequencies;
  return d;
}

NetworkCost network_cost(const NetworkSpec& net, int pack) {
  NetworkCost c;
  const double features = 2.0 * static_cast<double>(net.frequencies.size());
  // Per pack: the first layer's bias with the embedding folded in (its multiply-adds), the
  // features' cos and sin (counted as exps) and the preconditioning (~10 operations).
  c.flops = (2.0 * features * net.outputs[0] + 10.0) / pack;
  c.exps = features / pack;
  for (size_t l = 0; l < net.weights.size(); ++l) {
    const double in = l == 0 ? net.dim : net.inputs[l];
    c.flops += 2.0 * in * net.outputs[l];
    if (l + 1 < net.weights.size()) {  // SiLU: a select, a multiply, an add and a division, one exp
      c.flops += 3.0 * net.outputs[l];
      c.exps += net.outputs[l];
    }
  }
  c.flops += net.dim * (1.0 + 3.0);  // c_in y, c_skip y + c_out F
  return c;
}

}  // namespace pfode::model
