#include "model/model_spec.hpp"

#include <cmath>
#include <iomanip>
#include <sstream>
#include <stdexcept>

#include "io/hdf5.hpp"
#include "model/counter_rng.hpp"
#include "model/network_file.hpp"

namespace pfode::model {

ModelSpec make_model(const std::string& name, int dim, std::vector<double> weights, std::vector<double> means,
                     std::vector<double> stds, const std::string& source) {
  auto fail = [&](const std::string& why) { throw std::invalid_argument("model " + name + ": " + why); };
  if (dim < 1) fail("dim must be >= 1");
  const int k = static_cast<int>(weights.size());
  if (k < 1) fail("needs at least one component");
  if (means.size() != static_cast<size_t>(k) * dim)
    fail("means has " + std::to_string(means.size()) + " values, expected components x dim = " + std::to_string(k * dim));
  if (stds.size() != static_cast<size_t>(k) * dim)
    fail("stds has " + std::to_string(stds.size()) + " values, expected components x dim = " + std::to_string(k * dim));
  double total = 0;
  for (double w : weights) {
    if (!(w > 0 && std::isfinite(w))) fail("weights must be positive and finite");
    total += w;
  }
  for (double& w : weights) w /= total;
  // Beyond these the squares the exact denoiser and the error norms take overflow or underflow;
  // no data set is scaled like that.
  for (double m : means)
    if (!(std::fabs(m) <= max_model_scale)) fail("means must be finite and within +-1e100");
  for (double s : stds)
    if (!(s >= 1.0 / max_model_scale && s <= max_model_scale)) fail("stds must be positive and within [1e-100, 1e100]");
  ModelSpec spec;
  spec.name = name;
  spec.source = source;
  spec.dim = dim;
  spec.components = k;
  spec.weights = std::move(weights);
  spec.means = std::move(means);
  spec.stds = std::move(stds);
  return spec;
}

void require_unit_sum(const std::string& name, const std::vector<double>& weights) {
  double total = 0;
  for (double w : weights) total += w;
  if (!(std::fabs(total - 1.0) <= 1e-6)) {
    std::ostringstream msg;
    msg << std::setprecision(10) << "model " << name << ": weights sum to " << total << ", not 1 (divide each by "
        << total << ")";
    throw std::invalid_argument(msg.str());
  }
}

ModelSpec load_model_file(const std::string& name, const std::string& path) {
  std::vector<double> weights, means, stds;
  std::vector<hsize_t> mshape, sshape;
  try {
    const io::File file = io::File::open_read(path);
    const io::Group root = file.root();
    weights = root.read_dataset("weights");
    means = root.read_dataset("means", &mshape);
    stds = root.read_dataset("stds", &sshape);
  } catch (const std::runtime_error& e) {
    throw std::invalid_argument("model " + name + ": cannot read weights/means/stds from '" + path + "' (" + e.what() + ")");
  }
  if (mshape.size() != 2 || sshape != mshape || mshape[0] != weights.size())
    throw std::invalid_argument("model " + name + ": '" + path + "' needs weights (K), means and stds (K x dim)");
  ModelSpec spec = make_model(name, static_cast<int>(mshape[1]), weights, means, stds, path);
  require_unit_sum(name, weights);
  return spec;
}

ModelSpec random_mixture(const std::string& name, int dim, int components, std::uint64_t seed, double spread,
                         double std_min, double std_max) {
  if (components < 1) throw std::invalid_argument("model " + name + ": components must be >= 1");
  if (dim < 1) throw std::invalid_argument("model " + name + ": dim must be >= 1");
  if (!(std_min > 0 && std_max >= std_min)) throw std::invalid_argument("model " + name + ": need 0 < std_min <= std_max");
  constexpr std::uint32_t stream = 2;
  std::vector<double> weights(components), means(static_cast<size_t>(components) * dim), stds(means.size());
  for (int k = 0; k < components; ++k) {
    double u1, u2;
    counter_uniform2(seed, static_cast<std::uint32_t>(k), static_cast<std::uint32_t>(dim), stream, u1, u2);
    weights[k] = 1.0 + u1;
    for (int j = 0; j < dim; ++j) {
      counter_uniform2(seed, static_cast<std::uint32_t>(k), static_cast<std::uint32_t>(j), stream, u1, u2);
      means[static_cast<size_t>(k) * dim + j] = spread * (2.0 * u1 - 1.0);
      stds[static_cast<size_t>(k) * dim + j] = std_min + (std_max - std_min) * u2;
    }
  }
  return make_model(name, dim, weights, means, stds, "random(seed=" + std::to_string(seed) + ")");
}

DeviceModel to_device(const ModelSpec& spec) {
  if (spec.network) return network_device(*spec.network);
  Kokkos::View<double*> log_w("pfode::model::log_weights", spec.components);
  Kokkos::View<double**, Kokkos::LayoutRight> means("pfode::model::means", spec.components, spec.dim);
  Kokkos::View<double**, Kokkos::LayoutRight> vars("pfode::model::variances", spec.components, spec.dim);
  auto lw = Kokkos::create_mirror_view(log_w);
  auto mh = Kokkos::create_mirror_view(means);
  auto vh = Kokkos::create_mirror_view(vars);
  for (int k = 0; k < spec.components; ++k) {
    lw(k) = std::log(spec.weights[k]);
    for (int j = 0; j < spec.dim; ++j) {
      const size_t at = static_cast<size_t>(k) * spec.dim + j;
      mh(k, j) = spec.means[at];
      vh(k, j) = spec.stds[at] * spec.stds[at];
    }
  }
  Kokkos::deep_copy(log_w, lw);
  Kokkos::deep_copy(means, mh);
  Kokkos::deep_copy(vars, vh);
  DiagonalMixture m;
  m.log_weights = log_w;
  m.means = means;
  m.variances = vars;
  m.components = spec.components;
  m.dim = spec.dim;
  return m;
}

}  // namespace pfode::model
