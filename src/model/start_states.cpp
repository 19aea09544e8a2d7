#include "model/start_states.hpp"

#include <cmath>
#include <stdexcept>

#include "io/hdf5.hpp"
#include "model/counter_rng.hpp"

namespace pfode::model {

StartMode parse_start_mode(const std::string& name) {
  if (name == "marginal") return StartMode::marginal;
  if (name == "prior") return StartMode::prior;
  if (name == "file") return StartMode::file;
  throw std::invalid_argument("unknown start mode '" + name + "' (known: marginal, prior, file)");
}

const char* start_mode_name(StartMode mode) {
  switch (mode) {
    case StartMode::marginal: return "marginal";
    case StartMode::prior: return "prior";
    default: return "file";
  }
}

std::string start_dataset(const StartSpec& start, const std::string& model, const std::string& schedule) {
  std::string name;
  for (size_t at = 0; at < start.dataset.size();) {
    if (start.dataset[at] != '{') {
      name += start.dataset[at++];
      continue;
    }
    const auto close = start.dataset.find('}', at);
    const std::string key = start.dataset.substr(at, close == std::string::npos ? std::string::npos : close - at + 1);
    if (key == "{model}") name += model;
    else if (key == "{schedule}") name += schedule;
    else throw std::invalid_argument("run.start_dataset '" + start.dataset + "': unknown placeholder '" + key +
                                     "' (known: {model}, {schedule})");
    at += key.size();
  }
  return name;
}

std::vector<double> start_states(const ModelSpec& model, const StartSpec& start, std::uint64_t seed, int samples,
                                 double alpha_T, double sigma_T, const std::string& schedule) {
  const int dim = model.dim;
  std::vector<double> y(static_cast<size_t>(samples) * dim);
  const double s_T = sigma_T / alpha_T;
  switch (start.mode) {
    case StartMode::marginal:
      for (int p = 0; p < samples; ++p) {
        double u, unused;
        counter_uniform2(seed, static_cast<std::uint32_t>(p), 0u, 1u, u, unused);
        int k = 0;
        for (double acc = model.weights[0]; k + 1 < model.components && u > acc; acc += model.weights[++k]) {
        }
        double* yp = y.data() + static_cast<size_t>(p) * dim;
        for (int j = 0; j < dim; ++j) {
          const size_t at = static_cast<size_t>(k) * dim + j;
          const double sd = std::sqrt(model.stds[at] * model.stds[at] + s_T * s_T);
          yp[j] = sd * counter_normal(seed, p, j);  // in the component's eigenbasis
        }
        if (model.full_covariance()) {  // rotated into the state's coordinates
          const double* u = model.rotations.data() + static_cast<size_t>(k) * dim * dim;
          const std::vector<double> z(yp, yp + dim);
          for (int i = 0; i < dim; ++i) {
            double sum = 0;
            for (int j = 0; j < dim; ++j) sum += u[i * dim + j] * z[j];
            yp[i] = sum;
          }
        }
        for (int j = 0; j < dim; ++j) yp[j] = model.means[static_cast<size_t>(k) * dim + j] + yp[j];
      }
      break;
    case StartMode::prior: {
      const double sd = std::sqrt(alpha_T * alpha_T + sigma_T * sigma_T) / alpha_T;
      for (int p = 0; p < samples; ++p)
        for (int j = 0; j < dim; ++j) y[static_cast<size_t>(p) * dim + j] = sd * counter_normal(seed, p, j);
      break;
    }
    case StartMode::file: {
      const std::string dataset = start_dataset(start, model.name, schedule);
      std::vector<hsize_t> shape;
      std::vector<double> x;
      try {
        x = io::File::open_read(start.file).root().read_dataset(dataset, &shape);
      } catch (const std::runtime_error& e) {
        throw std::invalid_argument("start states: cannot read dataset '" + dataset + "' from '" + start.file +
                                    "' (" + e.what() + ")");
      }
      if (shape.size() != 2 || static_cast<int>(shape[1]) != dim || static_cast<int>(shape[0]) < samples)
        throw std::invalid_argument("start states: '" + start.file + "' dataset " + dataset + " is " +
                                    io::shape_text(shape) + ", not at least " + std::to_string(samples) +
                                    " (run.samples) x exactly " + std::to_string(dim) + " (the dim of model " +
                                    model.name + ")");
      for (size_t i = 0; i < y.size(); ++i) {
        if (!std::isfinite(x[i]))
          throw std::invalid_argument("start states: '" + start.file + "' dataset " + dataset +
                                      " holds a non-finite value (sample " + std::to_string(i / dim) + ")");
        y[i] = x[i] / alpha_T;
      }
      break;
    }
  }
  return y;
}

}  // namespace pfode::model
