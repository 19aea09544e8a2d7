// Host-side description of a model: an exact Gaussian mixture with diagonal or full covariances
// (one component is the Gaussian), from config values, an HDF5 file or a seeded random draw,
// optionally with a controlled error added to its denoiser (an imperfect model); and its device form.
#pragma once

#include <cmath>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "model/kinds.hpp"

namespace pfode::model {

struct NetworkSpec;  // model/network_file.hpp

struct ModelSpec {
  std::string name;
  std::string source;           // how it was defined: "config", "random(seed=...)", or the file path
  int dim = 0, components = 0;
  std::vector<double> weights;  // K, sum 1
  std::vector<double> means;    // K x dim, row-major
  std::vector<double> stds;     // K x dim, row-major
  // Full covariances U_k diag(stds_k^2) U_k^T: K x dim x dim, row-major, U_k(i, j) at
  // (k dim + i) dim + j, column j the eigenvector of stds_kj^2. Empty: diagonal covariances.
  std::vector<double> rotations;
  // An imperfect model's denoiser error eps(s) e(y) (model/perturbed.hpp); field "none": exact.
  struct Error {
    std::string field = "none";  // none | bias | fourier
    std::string profile = "constant";  // constant | power | low-noise | high-noise (ErrorProfile)
    double size = 0, exponent = 0, scale = 1;
    std::string exact;  // the exact model it perturbs (its [model.NAME])
    std::vector<double> bias;                    // dim
    std::vector<double> frequencies, amplitudes;  // F x dim
    std::vector<double> phases;                  // F
  } error;
  // A guided model (model/guided.hpp): classifier-free guidance on the class-conditional diagonal
  // mixture whose component k belongs to class component_class[k]; classes == 0: not guided.
  struct Guidance {
    int classes = 0;
    std::vector<int> component_class;  // K, each in [0, classes)
    double weight = 0;                 // w >= 0
    double s_lo = 0, s_hi = INFINITY;  // guidance is on for s_lo <= s <= s_hi
    std::vector<int> given;            // the samples' classes, cycled over the batch; empty: drawn
    std::uint64_t class_seed = 0;      // another draw for the same run seed (< 2^32)
    std::uint64_t run_seed = 0;        // the run seed whose samples it serves (for_run_seed)
    std::vector<double> class_weights;  // W_c, the sums of their components' weights
    std::string conditional;           // the name of the model at w = 0 (its exact reference)
  } guidance;
  // A learned denoiser (`kind = network`): it is the model, and the mixture above is the exact
  // one it was trained on (start states, the exact PF-ODE of the error split). Null for the mixtures.
  std::shared_ptr<const NetworkSpec> network;

  bool is_gaussian() const { return components == 1 && !network; }
  bool full_covariance() const { return !rotations.empty(); }
  bool is_guided() const { return guidance.classes > 0; }
  // Exact: the denoiser of a distribution (a guided model at w = 0 is its class's mixture); a
  // learned one is not (the sweep splits its error, sweep/runner.hpp).
  bool is_exact() const { return error.field == "none" && !(is_guided() && guidance.weight != 0) && !network; }
  // The kind of model, as the results and problem files record it.
  std::string kind() const {
    if (network) return "network";
    if (is_guided()) return "guided-diagonal-mixture";
    return std::string(is_exact() ? "" : "perturbed-") + (full_covariance() ? "full-covariance-mixture" : "diagonal-mixture");
  }
  // The exact model under an imperfect one (itself when exact): named after error.exact, a guided
  // model at w = 0 (each sample's class-conditional mixture), named guidance.conditional, or for a
  // network the mixture its file names (NAME-exact where it names none).
  ModelSpec exact() const;
};

// Beyond this scale (|means|, stds and 1/stds) the squares the exact denoiser and the error norms
// take would overflow or underflow.
inline constexpr double max_model_scale = 1e100;

// Validates shapes and values (weights positive and finite, |means| <= 1e100, stds 0 or in
// [1e-100, 1e100]) and normalises the weights; throws std::invalid_argument naming the model and
// the problem. A zero std puts a component on a subspace (the data are exact there for s > 0; the
// ODE stiffens like 1/s).
ModelSpec make_model(const std::string& name, int dim, std::vector<double> weights, std::vector<double> means,
                     std::vector<double> stds, const std::string& source);

// Weights a user gives (config, file) must sum to 1, to 1e-6 (the rounding of their last digits,
// normalised away): other sums are a typo more often than a choice, and are refused.
void require_unit_sum(const std::string& name, const std::vector<double>& weights);

// Reads datasets "weights" (K), "means" (K x dim) and "stds" (K x dim) from an HDF5 file.
ModelSpec load_model_file(const std::string& name, const std::string& path);

// A reproducible random mixture: means uniform in [-spread, spread]^dim, stds uniform in
// [std_min, std_max], weights uniform in [1, 2] normalised; drawn from the counter generator.
ModelSpec random_mixture(const std::string& name, int dim, int components, std::uint64_t seed, double spread,
                         double std_min, double std_max);

// Gives every component a full covariance U_k diag(stds_k^2) U_k^T: `rotations` is K x dim x dim
// (row-major, U_k(i, j)), or dim x dim for one rotation shared by every component. Throws
// std::invalid_argument naming the model and the component when a rotation is singular (a column
// that depends on the ones before it) or not orthogonal (max |U^T U - I| above 1e-10).
void set_rotations(ModelSpec& spec, std::vector<double> rotations);

// `components` rotations from the Haar measure on the orthogonal group: Gram-Schmidt (twice, for
// orthogonality to round-off) on dim x dim standard normal matrices of the counter generator,
// keyed by the seed (stream 3).
std::vector<double> random_rotations(int components, int dim, std::uint64_t seed);

// dim x dim identity rotations for every component (a full-covariance model equal to the diagonal one).
std::vector<double> identity_rotations(int components, int dim);

// The closed-form canonical PF-ODE flow of a Gaussian (components == 1) from y0 (dim values) at s0
// to s: y(s) = mu + U diag(sqrt((c^2 + s^2) / (c^2 + s0^2))) U^T (y0 - mu). Also with a constant bias
// eps b in its denoiser (has_closed_form): with u = U^T (y - mu) and beta = U^T (eps b),
//   u(s) = sqrt(c^2 + s^2) [u0 / sqrt(c^2 + s0^2) + beta (asinh(c/s) - asinh(c/s0)) / c]
// per eigen-coordinate (beta (1/s - 1/s0) where c = 0).
bool has_closed_form(const ModelSpec& spec);
std::vector<double> gaussian_flow(const ModelSpec& spec, const double* y0, double s0, double s);

// The same flow from s0 to each of s[0, n), for many starts: the factors that depend on s only
// (the square roots, the bias integrals) are computed once. start() takes y0 to its eigen-
// coordinates u0 = U^T (y0 - mu); at(k, u0, y) writes y(s[k]). The arithmetic is gaussian_flow's.
class GaussianFlow {
 public:
  GaussianFlow(const ModelSpec& spec, double s0, const std::vector<double>& s);  // throws without a closed form
  void start(const double* y0, double* u0) const;
  void at(int k, const double* u0, double* y) const;

 private:
  const ModelSpec& spec_;
  int dim_;
  std::vector<double> scale_, shift_;  // per (k, j): u(s[k]) = u0 scale + shift
  mutable std::vector<double> u_;      // at()'s eigen-coordinates (one flow per thread)
};

// Perturbs an exact model (DESIGN.md section 4): D + eps(s) e(y / sqrt(1 + s^2)). field: "bias"
// (e = b, b_j standard normal) or "fourier" (e(u) = sum_f a_f cos(omega_f . u + phi_f), `features`
// terms with omega_f ~ N(0, I / length^2), phi_f uniform in [0, 2 pi), a_fj ~ N(0, 2 / features),
// so each coordinate of e has mean square 1 over random draws); drawn from the counter generator
// keyed by seed (stream 4). profile and its parameters as model::ErrorProfile. Throws
// std::invalid_argument naming the model for a negative or non-finite size, an unknown field or
// profile, bad parameters or a base that is already imperfect.
ModelSpec perturb(const std::string& name, const ModelSpec& exact, const std::string& field, int features,
                  double length, std::uint64_t seed, const std::string& profile, double size, double exponent,
                  double scale);
// Checks an error read back from a file (shapes, values) and attaches it to `exact` under `name`.
ModelSpec with_error(const std::string& name, const ModelSpec& exact, ModelSpec::Error error);

// Classifier-free guidance on `mixture` (an exact diagonal mixture, DESIGN.md section 4):
// component k in class component_class[k] (classes 0..C-1, each with a component), weight w >= 0,
// on for s in [s_lo, s_hi]; the samples' classes given (cycled over the batch, each in 0..C-1) or,
// when `given` is empty, drawn with the class weights from the counter generator keyed by the
// run seed (for_run_seed), class_seed (< 2^32) choosing another draw for the same seed.
// `conditional` names the model at w = 0. Throws std::invalid_argument naming the model and the
// bad value.
ModelSpec guide(const std::string& name, const ModelSpec& mixture, std::vector<int> component_class, double weight,
                double s_lo, double s_hi, std::vector<int> given, std::uint64_t class_seed,
                const std::string& conditional);
// The model as the samples of run seed `seed` see it: a guided model draws their classes with that
// seed; any other model is returned unchanged. The sweep evaluates each (model, seed) group's
// model through it.
ModelSpec for_run_seed(const ModelSpec& spec, std::uint64_t seed);
// The class of batch sample p of a guided model (model::class_of_sample, as the device draws it
// for spec's run seed).
int sample_class(const ModelSpec& spec, int p);

// The device form of the model: the kind that evaluates it (model/kinds.hpp).
DeviceModel to_device(const ModelSpec& spec);

}  // namespace pfode::model
