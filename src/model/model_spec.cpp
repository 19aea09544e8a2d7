#include "model/model_spec.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
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
    if (!(s == 0 || (s >= 1.0 / max_model_scale && s <= max_model_scale)))
      fail("stds must be 0 or within [1e-100, 1e100]");
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
  std::vector<double> weights, means, stds, rotations;
  std::vector<hsize_t> mshape, sshape, rshape;
  try {
    const io::File file = io::File::open_read(path);
    const io::Group root = file.root();
    weights = root.read_dataset("weights");
    means = root.read_dataset("means", &mshape);
    stds = root.read_dataset("stds", &sshape);
    if (root.has("rotations")) rotations = root.read_dataset("rotations", &rshape);
  } catch (const std::runtime_error& e) {
    throw std::invalid_argument("model " + name + ": cannot read weights/means/stds from '" + path + "' (" + e.what() + ")");
  }
  if (mshape.size() != 2 || sshape != mshape || mshape[0] != weights.size())
    throw std::invalid_argument("model " + name + ": '" + path + "' needs weights (K), means and stds (K x dim)");
  ModelSpec spec = make_model(name, static_cast<int>(mshape[1]), weights, means, stds, path);
  require_unit_sum(name, weights);
  if (!rshape.empty()) {
    if (rshape != std::vector<hsize_t>{mshape[0], mshape[1], mshape[1]})
      throw std::invalid_argument("model " + name + ": '" + path + "' rotations must be K x dim x dim");
    set_rotations(spec, rotations);
  }
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

void set_rotations(ModelSpec& spec, std::vector<double> rotations) {
  const int d = spec.dim, k_count = spec.components;
  const size_t block = static_cast<size_t>(d) * d;
  auto fail = [&](const std::string& why) { throw std::invalid_argument("model " + spec.name + ": " + why); };
  if (rotations.size() == block && k_count > 1)  // one rotation for every component
    for (int k = 1; k < k_count; ++k) rotations.insert(rotations.end(), rotations.begin(), rotations.begin() + block);
  if (rotations.size() != block * k_count)
    fail("rotations has " + std::to_string(rotations.size()) + " values, expected components x dim x dim = " +
         std::to_string(block * k_count) + " (or dim x dim, one rotation for every component)");
  for (int k = 0; k < k_count; ++k) {
    const double* u = rotations.data() + block * k;
    const auto at = [&](int i, int j) { return u[static_cast<size_t>(i) * d + j]; };
    const std::string which = "rotation of component " + std::to_string(k);
    for (size_t i = 0; i < block; ++i)
      if (!std::isfinite(u[i])) fail(which + " has a non-finite entry");
    // Singular: a column nearly in the span of the columns before it (Gram-Schmidt residual).
    std::vector<double> basis;  // orthonormalised columns so far, d each
    for (int j = 0; j < d; ++j) {
      std::vector<double> v(d);
      double norm2 = 0;
      for (int i = 0; i < d; ++i) norm2 += (v[i] = at(i, j)) * at(i, j);
      for (size_t b = 0; b < basis.size(); b += d) {
        double dot = 0;
        for (int i = 0; i < d; ++i) dot += basis[b + i] * v[i];
        for (int i = 0; i < d; ++i) v[i] -= dot * basis[b + i];
      }
      double rest2 = 0;
      for (int i = 0; i < d; ++i) rest2 += v[i] * v[i];
      if (!(rest2 > 1e-16 * norm2) || norm2 == 0)
        fail(which + " is singular: column " + std::to_string(j) + " depends on the columns before it");
      for (int i = 0; i < d; ++i) basis.push_back(v[i] / std::sqrt(rest2));
    }
    double worst = 0;  // max |U^T U - I|
    for (int a = 0; a < d; ++a)
      for (int b = 0; b < d; ++b) {
        double dot = 0;
        for (int i = 0; i < d; ++i) dot += at(i, a) * at(i, b);
        worst = std::max(worst, std::fabs(dot - (a == b ? 1.0 : 0.0)));
      }
    if (!(worst <= 1e-10)) {
      char buf[160];
      std::snprintf(buf, sizeof buf, " is not orthogonal: max |U^T U - I| = %.3g (at most 1e-10)", worst);
      fail(which + buf);
    }
  }
  spec.rotations = std::move(rotations);
}

std::vector<double> random_rotations(int components, int dim, std::uint64_t seed) {
  constexpr std::uint32_t stream = 3;
  const size_t block = static_cast<size_t>(dim) * dim;
  std::vector<double> out(block * components);
  for (int k = 0; k < components; ++k) {
    double* u = out.data() + block * k;
    for (int i = 0; i < dim; ++i)
      for (int j = 0; j < dim; ++j)
        u[static_cast<size_t>(i) * dim + j] = counter_normal(seed, static_cast<std::uint32_t>(k),
                                                             static_cast<std::uint32_t>(i * dim + j), stream);
    // Columns orthonormalised in order; the column's sign is kept (R's diagonal positive), which
    // makes the rotation Haar-distributed.
    for (int j = 0; j < dim; ++j)
      for (int pass = 0; pass < 2; ++pass) {
        for (int b = 0; b < j; ++b) {
          double dot = 0;
          for (int i = 0; i < dim; ++i) dot += u[i * dim + b] * u[i * dim + j];
          for (int i = 0; i < dim; ++i) u[i * dim + j] -= dot * u[i * dim + b];
        }
        double norm = 0;
        for (int i = 0; i < dim; ++i) norm += u[i * dim + j] * u[i * dim + j];
        norm = std::sqrt(norm);
        for (int i = 0; i < dim; ++i) u[i * dim + j] /= norm;
      }
  }
  return out;
}

std::vector<double> identity_rotations(int components, int dim) {
  std::vector<double> out(static_cast<size_t>(components) * dim * dim, 0.0);
  for (int k = 0; k < components; ++k)
    for (int i = 0; i < dim; ++i) out[(static_cast<size_t>(k) * dim + i) * dim + i] = 1.0;
  return out;
}

ModelSpec ModelSpec::exact() const {
  if (is_exact()) return *this;
  ModelSpec m = *this;
  if (network) {
    m.name = network->exact_name.empty() ? name + "-exact" : network->exact_name;
    m.network = nullptr;
    return m;
  }
  if (is_guided()) {
    m.name = guidance.conditional;
    m.guidance.weight = 0;
    return m;
  }
  m.name = error.exact;
  m.error = Error{};
  return m;
}

bool has_closed_form(const ModelSpec& spec) {
  return spec.is_gaussian() && (spec.is_exact() || (spec.error.field == "bias" && spec.error.profile == "constant"));
}

std::vector<double> gaussian_flow(const ModelSpec& spec, const double* y0, double s0, double s) {
  const GaussianFlow flow(spec, s0, {s});
  std::vector<double> u0(spec.dim), y(spec.dim);
  flow.start(y0, u0.data());
  flow.at(0, u0.data(), y.data());
  return y;
}

GaussianFlow::GaussianFlow(const ModelSpec& spec, double s0, const std::vector<double>& s)
    : spec_(spec), dim_(spec.dim), scale_(s.size() * spec.dim), shift_(s.size() * spec.dim, 0.0), u_(spec.dim) {
  if (!has_closed_form(spec)) throw std::logic_error("gaussian_flow: model " + spec.name + " has no closed-form flow");
  const int d = dim_;
  const bool biased = !spec.is_exact();
  // beta = U^T (eps b), the bias in the eigenbasis.
  std::vector<double> beta(d, 0.0);
  const auto bias = [&](int i) { return biased ? spec.error.size * spec.error.bias[i] : 0.0; };
  for (int j = 0; j < d; ++j) {
    if (!spec.full_covariance()) beta[j] = bias(j);
    else
      for (int i = 0; i < d; ++i) beta[j] += spec.rotations[i * d + j] * bias(i);
  }
  // Per eigen-coordinate j: u(s) = sqrt(c^2 + s^2) [u0 / sqrt(c^2 + s0^2) + beta (asinh(c/s) - asinh(c/s0)) / c].
  for (size_t k = 0; k < s.size(); ++k)
    for (int j = 0; j < d; ++j) {
      const double c = spec.stds[j], c2 = c * c, sk = s[k];
      scale_[k * d + j] = std::sqrt((c2 + sk * sk) / (c2 + s0 * s0));
      if (biased && beta[j] != 0) {
        const double integral = c > 0 ? (std::asinh(c / sk) - std::asinh(c / s0)) / c : 1.0 / sk - 1.0 / s0;
        shift_[k * d + j] = std::sqrt(c2 + sk * sk) * beta[j] * integral;
      }
    }
}

void GaussianFlow::start(const double* y0, double* u0) const {
  const int d = dim_;
  if (!spec_.full_covariance()) {
    for (int j = 0; j < d; ++j) u0[j] = y0[j] - spec_.means[j];
    return;
  }
  const double* u = spec_.rotations.data();
  for (int j = 0; j < d; ++j) {
    u0[j] = 0.0;
    for (int i = 0; i < d; ++i) u0[j] += u[i * d + j] * (y0[i] - spec_.means[i]);
  }
}

void GaussianFlow::at(int k, const double* u0, double* y) const {
  const int d = dim_;
  const double* scale = scale_.data() + static_cast<size_t>(k) * d;
  const double* shift = shift_.data() + static_cast<size_t>(k) * d;
  if (!spec_.full_covariance()) {
    for (int j = 0; j < d; ++j) y[j] = spec_.means[j] + (u0[j] * scale[j] + shift[j]);
    return;
  }
  for (int j = 0; j < d; ++j) u_[j] = u0[j] * scale[j] + shift[j];
  const double* u = spec_.rotations.data();
  for (int i = 0; i < d; ++i) {
    double sum = 0;
    for (int j = 0; j < d; ++j) sum += u[i * d + j] * u_[j];
    y[i] = spec_.means[i] + sum;
  }
}

ModelSpec with_error(const std::string& name, const ModelSpec& exact, ModelSpec::Error error) {
  auto fail = [&](const std::string& why) { throw std::invalid_argument("model " + name + ": " + why); };
  if (exact.is_guided()) fail("its exact model " + exact.name + " is guided (perturb the mixture it guides)");
  if (!exact.is_exact()) fail("its exact model " + exact.name + " is itself perturbed");
  if (exact.network) fail("its exact model " + exact.name + " is a network (a learned denoiser, not an exact model)");
  if (error.field != "bias" && error.field != "fourier")
    fail("unknown error field '" + error.field + "' (known: bias, fourier)");
  if (error.profile != "constant" && error.profile != "power" && error.profile != "low-noise" &&
      error.profile != "high-noise")
    fail("unknown error_profile '" + error.profile + "' (known: constant, power, low-noise, high-noise)");
  if (!(error.size >= 0 && std::isfinite(error.size))) fail("error_size must be >= 0 and finite");
  if (!std::isfinite(error.exponent)) fail("error_exponent must be finite");
  if (!(error.scale > 0 && std::isfinite(error.scale))) fail("error_scale must be positive and finite");
  const size_t d = static_cast<size_t>(exact.dim), features = error.phases.size();
  if (error.bias.size() != d || error.frequencies.size() != features * d || error.amplitudes.size() != features * d)
    fail("the error field needs bias (dim), frequencies and amplitudes (features x dim) and phases (features)");
  for (const auto* v : {&error.bias, &error.frequencies, &error.amplitudes, &error.phases})
    for (double x : *v)
      if (!std::isfinite(x)) fail("the error field has a non-finite value");
  ModelSpec m = exact;
  m.name = name;
  error.exact = exact.name;
  m.error = std::move(error);
  return m;
}

ModelSpec perturb(const std::string& name, const ModelSpec& exact, const std::string& field, int features,
                  double length, std::uint64_t seed, const std::string& profile, double size, double exponent,
                  double scale) {
  constexpr std::uint32_t stream = 4;
  if (!(length > 0 && std::isfinite(length))) throw std::invalid_argument("model " + name + ": length must be positive");
  if (field == "fourier" && features < 1) throw std::invalid_argument("model " + name + ": features must be >= 1");
  ModelSpec::Error e;
  e.field = field;
  e.profile = profile;
  e.size = size;
  e.exponent = exponent;
  e.scale = scale;
  const int d = exact.dim;
  e.bias.assign(d, 0.0);
  if (field == "bias") {
    for (int j = 0; j < d; ++j) e.bias[j] = counter_normal(seed, 0, static_cast<std::uint32_t>(j), stream);
  } else if (field == "fourier") {
    // Counter (feature + 1, coordinate): omega; (feature + 1, dim + coordinate): a; (feature + 1, 2 dim): phi.
    const double amplitude = std::sqrt(2.0 / features);
    for (int f = 0; f < features; ++f) {
      const auto row = static_cast<std::uint32_t>(f + 1);
      for (int j = 0; j < d; ++j) {
        e.frequencies.push_back(counter_normal(seed, row, static_cast<std::uint32_t>(j), stream) / length);
        e.amplitudes.push_back(amplitude * counter_normal(seed, row, static_cast<std::uint32_t>(d + j), stream));
      }
      double u1, u2;
      counter_uniform2(seed, row, static_cast<std::uint32_t>(2 * d), stream, u1, u2);
      e.phases.push_back(2.0 * M_PI * u1);
    }
  }
  return with_error(name, exact, std::move(e));
}

ModelSpec guide(const std::string& name, const ModelSpec& mixture, std::vector<int> component_class, double weight,
                double s_lo, double s_hi, std::vector<int> given, std::uint64_t class_seed,
                const std::string& conditional) {
  auto fail = [&](const std::string& why) { throw std::invalid_argument("model " + name + ": " + why); };
  if (!mixture.is_exact() || mixture.is_guided() || mixture.full_covariance())
    fail("guides " + mixture.name + ", which is not an exact diagonal mixture (no rotations, error or guidance)");
  if (component_class.size() != static_cast<size_t>(mixture.components))
    fail("classes has " + std::to_string(component_class.size()) + " values, one per component of " + mixture.name +
         " expected (" + std::to_string(mixture.components) + ")");
  int classes = 0;
  for (int c : component_class) {
    if (c < 0) fail("classes: " + std::to_string(c) + " is not a class (classes are 0, 1, ...)");
    classes = std::max(classes, c + 1);
  }
  std::vector<double> class_weights(classes, 0.0);
  for (int k = 0; k < mixture.components; ++k) class_weights[component_class[k]] += mixture.weights[k];
  for (int c = 0; c < classes; ++c)
    if (class_weights[c] == 0) fail("class " + std::to_string(c) + " has no components (classes are 0.." +
                                    std::to_string(classes - 1) + ", each with a component)");
  if (!(weight >= 0 && std::isfinite(weight))) fail("w must be >= 0 and finite");
  if (!(s_lo >= 0) || std::isnan(s_hi)) fail("interval: s_lo must be >= 0");
  if (!(s_lo <= s_hi)) fail("interval is reversed: s_lo > s_hi");
  if (class_seed > UINT32_MAX) fail("class_seed must be < 2^32");
  for (int c : given)
    if (c < 0 || c >= classes)
      fail("sample_classes: unknown class " + std::to_string(c) + " (classes are 0.." + std::to_string(classes - 1) + ")");
  ModelSpec m = mixture;
  m.name = name;
  auto& g = m.guidance;
  g.classes = classes;
  g.component_class = std::move(component_class);
  g.weight = weight;
  g.s_lo = s_lo;
  g.s_hi = s_hi;
  g.given = std::move(given);
  g.class_seed = class_seed;
  g.class_weights = std::move(class_weights);
  g.conditional = conditional;
  return m;
}

namespace {

// W_0, W_0 + W_1, ..., the last exactly 1: the draw's thresholds (host and device alike).
std::vector<double> class_cumulative(const ModelSpec::Guidance& g) {
  std::vector<double> out(g.classes);
  double sum = 0;
  for (int c = 0; c < g.classes; ++c) out[c] = sum += g.class_weights[c];
  out.back() = 1.0;
  return out;
}

}  // namespace

ModelSpec for_run_seed(const ModelSpec& spec, std::uint64_t seed) {
  ModelSpec m = spec;
  if (m.is_guided()) m.guidance.run_seed = seed;
  return m;
}

int sample_class(const ModelSpec& spec, int p) {
  const auto& g = spec.guidance;
  const auto cumulative = class_cumulative(g);
  return class_of_sample(p, [&](int i) { return g.given[i]; }, static_cast<int>(g.given.size()),
                         [&](int c) { return cumulative[c]; }, g.classes, static_cast<std::uint32_t>(g.class_seed),
                         g.run_seed);
}

namespace {

DiagonalMixture diagonal_mixture(const ModelSpec& spec) {
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

// The eigenbasis means U_k^T mu_k (summed in order, so identity rotations give mu_k exactly) and
// the rotations on the device.
FullCovarianceMixture full_covariance_mixture(const ModelSpec& spec) {
  const int d = spec.dim, k_count = spec.components;
  ModelSpec eigen = spec;
  for (int k = 0; k < k_count; ++k) {
    const double* u = spec.rotations.data() + static_cast<size_t>(k) * d * d;
    const double* mu = spec.means.data() + static_cast<size_t>(k) * d;
    for (int j = 0; j < d; ++j) {
      double sum = 0;
      for (int i = 0; i < d; ++i) sum += u[i * d + j] * mu[i];
      eigen.means[static_cast<size_t>(k) * d + j] = sum;
    }
  }
  Kokkos::View<double***, Kokkos::LayoutRight> rotations("pfode::model::rotations", k_count, d, d);
  auto rh = Kokkos::create_mirror_view(rotations);
  for (int k = 0; k < k_count; ++k)
    for (int i = 0; i < d; ++i)
      for (int j = 0; j < d; ++j) rh(k, i, j) = spec.rotations[(static_cast<size_t>(k) * d + i) * d + j];
  Kokkos::deep_copy(rotations, rh);
  FullCovarianceMixture m;
  m.eigen = diagonal_mixture(eigen);
  m.rotations = rotations;
  return m;
}

template <class Exact>
Perturbed<Exact> perturbed(const Exact& exact, const ModelSpec::Error& e, int dim) {
  Perturbed<Exact> m;
  m.exact = exact;
  m.profile.kind = e.profile == "power"        ? ErrorProfile::power
                   : e.profile == "low-noise"  ? ErrorProfile::low_noise
                   : e.profile == "high-noise" ? ErrorProfile::high_noise
                                               : ErrorProfile::constant;
  m.profile.size = e.size;
  m.profile.exponent = e.exponent;
  m.profile.scale = e.scale;
  m.features = static_cast<int>(e.phases.size());
  const auto to_view = [](const std::string& label, const std::vector<double>& v, int rows, int cols) {
    Kokkos::View<double**, Kokkos::LayoutRight> view(label, rows, cols);
    auto h = Kokkos::create_mirror_view(view);
    for (int i = 0; i < rows; ++i)
      for (int j = 0; j < cols; ++j) h(i, j) = v[static_cast<size_t>(i) * cols + j];
    Kokkos::deep_copy(view, h);
    return view;
  };
  m.frequencies = to_view("pfode::model::error_frequencies", e.frequencies, m.features, dim);
  m.amplitudes = to_view("pfode::model::error_amplitudes", e.amplitudes, m.features, dim);
  const auto to_vector = [](const std::string& label, const std::vector<double>& v) {
    Kokkos::View<double*> view(label, v.size());
    auto h = Kokkos::create_mirror_view(view);
    for (size_t i = 0; i < v.size(); ++i) h(i) = v[i];
    Kokkos::deep_copy(view, h);
    return view;
  };
  m.bias = to_vector("pfode::model::error_bias", e.bias);
  m.phases = to_vector("pfode::model::error_phases", e.phases);
  return m;
}

template <class T>
Kokkos::View<const T*> device_vector(const std::string& label, const std::vector<T>& v) {
  Kokkos::View<T*> view(label, v.size());
  auto h = Kokkos::create_mirror_view(view);
  for (size_t i = 0; i < v.size(); ++i) h(i) = v[i];
  Kokkos::deep_copy(view, h);
  return view;
}

// The components sorted by class (stably), so each class's mixture is a block of rows; the
// conditional log-weights log(w_k / W_c), W_c summed in component order (the class's mixture as
// make_model would normalise it).
Guided guided(const ModelSpec& spec) {
  const auto& g = spec.guidance;
  ModelSpec sorted = spec;
  std::vector<int> first(g.classes + 1, 0);
  std::vector<double> conditional;
  int row = 0;
  for (int c = 0; c < g.classes; ++c) {
    first[c] = row;
    double total = 0;
    for (int k = 0; k < spec.components; ++k)
      if (g.component_class[k] == c) total += spec.weights[k];
    for (int k = 0; k < spec.components; ++k) {
      if (g.component_class[k] != c) continue;
      sorted.weights[row] = spec.weights[k];
      conditional.push_back(std::log(spec.weights[k] / total));
      for (int j = 0; j < spec.dim; ++j) {
        sorted.means[static_cast<size_t>(row) * spec.dim + j] = spec.means[static_cast<size_t>(k) * spec.dim + j];
        sorted.stds[static_cast<size_t>(row) * spec.dim + j] = spec.stds[static_cast<size_t>(k) * spec.dim + j];
      }
      ++row;
    }
  }
  first[g.classes] = row;
  Guided m;
  m.all = diagonal_mixture(sorted);
  m.conditional_log_weights = device_vector("pfode::model::conditional_log_weights", conditional);
  m.class_first = device_vector("pfode::model::class_first", first);
  m.class_cumulative = device_vector("pfode::model::class_cumulative", class_cumulative(g));
  m.given = device_vector("pfode::model::given_classes", g.given);
  m.class_seed = static_cast<std::uint32_t>(g.class_seed);
  m.run_seed = g.run_seed;
  m.classes = g.classes;
  m.weight = g.weight;
  m.s_lo = g.s_lo;
  m.s_hi = g.s_hi;
  return m;
}

}  // namespace

DeviceModel to_device(const ModelSpec& spec) {
  if (spec.network) return network_device(*spec.network);
  if (spec.is_guided()) return guided(spec);
  if (!spec.is_exact()) {
    if (spec.full_covariance()) return perturbed(full_covariance_mixture(spec), spec.error, spec.dim);
    return perturbed(diagonal_mixture(spec), spec.error, spec.dim);
  }
  if (spec.full_covariance()) return full_covariance_mixture(spec);
  return diagonal_mixture(spec);
}

}  // namespace pfode::model
