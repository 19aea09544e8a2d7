// Evaluates pfode's C++ schedules and exact denoisers at reproducible random points for every
// model x schedule of a problem file, and writes inputs and outputs to HDF5, so that the Python
// module (analysis/pfode_exact.py) can be checked against them (tests/analysis/test_exact.sh).
//   pfode_evaluate_exact PROBLEM.h5 OUT.h5 [POINTS]
//   pfode_evaluate_exact CONFIG.ini OUT.h5 [POINTS]
// Points: times from t_min to t_max (both ends included, log-spaced where the range allows),
// states drawn from the model's marginal there (in each component's eigenbasis, then rotated),
// every third widened 3x (away from the modes). A config stands for the models problem files do
// not take, the guided ones: each of its guided models at the points of every schedule and run
// seed, point p in the class of the run's sample p (/models/<model>__<schedule>__<seed>), and the
// model as a results file records it, with its samples' classes per seed (/parameters/<model>).
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <iostream>

#include "compat/kokkos_compat.hpp"
#include "io/hdf5.hpp"
#include "io/problem_file.hpp"
#include "model/counter_rng.hpp"
#include "io/results_file.hpp"
#include "model/evaluate.hpp"
#include "sweep/experiment.hpp"

using namespace pfode;

namespace {

std::vector<hsize_t> shape(size_t rows, size_t cols = 0) {
  return cols ? std::vector<hsize_t>{rows, cols} : std::vector<hsize_t>{rows};
}

std::vector<double> times(const schedule::Schedule& sc, int n) {
  std::vector<double> t(n);
  const bool log_spaced = sc.t_min > 0;
  for (int i = 0; i < n; ++i) {
    const double u = n > 1 ? static_cast<double>(i) / (n - 1) : 0.0;
    t[i] = log_spaced ? sc.t_min * std::pow(sc.t_max / sc.t_min, u) : sc.t_min + u * (sc.t_max - sc.t_min);
  }
  t.front() = sc.t_min;
  t.back() = sc.t_max;
  return t;
}

// The points of `spec` at n times of the schedule, and the denoiser there (point p is the batch's
// sample p: a guided model's class is that sample's).
void write_points(const io::Group& models, const std::string& key, const model::ModelSpec& spec,
                  const model::DeviceModel& device_model, const results::ScheduleEntry& entry, int n) {
  const int dim = spec.dim;
  const auto& sc = entry.schedule;
  const auto t = times(sc, n);
  std::vector<double> x(static_cast<size_t>(n) * dim), y(x.size()), s(n), alpha(n), sigma(n);
  for (int p = 0; p < n; ++p) {
    alpha[p] = sc.alpha(t[p]);
    sigma[p] = sc.sigma(t[p]);
    s[p] = std::exp(-sc.lambda(t[p]));  // as solver::make_step_grid
    const int k = p % spec.components;
    const double widen = p % 3 == 2 ? 3.0 : 1.0;
    std::vector<double> offset(dim);  // from the mean, in the component's eigenbasis
    for (int j = 0; j < dim; ++j) {
      const size_t at = static_cast<size_t>(k) * dim + j;
      offset[j] = widen * std::sqrt(spec.stds[at] * spec.stds[at] + s[p] * s[p]) * model::counter_normal(11, p, j);
    }
    for (int i = 0; i < dim; ++i) {
      double rotated = offset[i];
      if (spec.full_covariance()) {
        rotated = 0;
        for (int j = 0; j < dim; ++j) rotated += spec.rotations[(static_cast<size_t>(k) * dim + i) * dim + j] * offset[j];
      }
      const size_t at = static_cast<size_t>(p) * dim + i;
      x[at] = alpha[p] * (spec.means[static_cast<size_t>(k) * dim + i] + rotated);
      y[at] = x[at] * (1.0 / alpha[p]);  // as lane::PackLane::denoise rescales
    }
  }
  const auto x0 = model::denoise_points(device_model, y, s);
  std::vector<double> eps(x.size()), score(x.size()), v(x.size());
  for (size_t i = 0; i < x.size(); ++i) {
    const int p = static_cast<int>(i / dim);
    eps[i] = model::eps_from_x0(x[i], x0[i], alpha[p], sigma[p]);
    score[i] = model::score_from_x0(x[i], x0[i], alpha[p], sigma[p]);
    v[i] = model::v_from_x0(x[i], x0[i], alpha[p], sigma[p]);
  }
  const auto g = models.create_group(key);
  g.write_attribute("model", spec.name);
  g.write_attribute("schedule", entry.name);
  g.write_dataset("t", t, shape(n));
  g.write_dataset("s", s, shape(n));
  g.write_dataset("x", x, shape(n, dim));
  g.write_dataset("y", y, shape(n, dim));
  g.write_dataset("x0", x0, shape(n, dim));
  g.write_dataset("eps", eps, shape(n, dim));
  g.write_dataset("score", score, shape(n, dim));
  g.write_dataset("v", v, shape(n, dim));
}

// The guided models of a config (see the top of the file).
void write_guided(const io::Group& root, const sweep::Experiment& e, int n) {
  const auto models = root.create_group("models");
  const auto parameters = root.create_group("parameters");
  const std::vector<long> seeds(e.seeds.begin(), e.seeds.end());
  for (const auto& spec : e.models) {
    if (!spec.is_guided()) continue;
    io::write_model(parameters, spec, n, seeds);
    for (long seed : seeds) {
      const auto seeded = model::for_run_seed(spec, static_cast<std::uint64_t>(seed));
      const auto device_model = model::to_device(seeded);
      for (const auto& entry : e.schedules)
        write_points(models, spec.name + "__" + entry.name + "__" + std::to_string(seed), seeded, device_model, entry,
                     n);
    }
  }
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) {
    std::cerr << "usage: pfode_evaluate_exact PROBLEM.h5|CONFIG.ini OUT.h5 [POINTS]\n";
    return 2;
  }
  const int n = argc > 3 ? std::atoi(argv[3]) : 64;
  Kokkos::ScopeGuard kokkos(argc, argv);
  io::configure_hdf5();
  try {
    const std::string in = argv[1];
    if (in.size() > 4 && in.compare(in.size() - 4, 4, ".ini") == 0) {
      const auto e = sweep::load_experiment(in, {});
      io::write_file_atomically(argv[2], [&](const io::Group& root) { write_guided(root, e, n); });
      return 0;
    }
    const auto problem = io::read_problem_file(argv[1]);
    io::write_file_atomically(argv[2], [&](const io::Group& root) {
      const auto schedules = root.create_group("schedules");
      for (const auto& entry : problem.schedules) {
        const auto& sc = entry.schedule;
        const auto t = times(sc, n);
        std::vector<double> alpha, sigma, lambda, s, t_back, f, g2;
        for (double ti : t) {
          alpha.push_back(sc.alpha(ti));
          sigma.push_back(sc.sigma(ti));
          lambda.push_back(sc.lambda(ti));
          s.push_back(sc.s(ti));
          t_back.push_back(sc.t_of_lambda(lambda.back()));
          f.push_back(sc.f(ti));
          g2.push_back(sc.g2(ti));
        }
        const auto g = schedules.create_group(entry.name);
        g.write_dataset("t", t, shape(n));
        g.write_dataset("alpha", alpha, shape(n));
        g.write_dataset("sigma", sigma, shape(n));
        g.write_dataset("lambda", lambda, shape(n));
        g.write_dataset("s", s, shape(n));
        g.write_dataset("t_of_lambda", t_back, shape(n));
        g.write_dataset("f", f, shape(n));
        g.write_dataset("g2", g2, shape(n));
      }
      const auto models = root.create_group("models");
      for (const auto& spec : problem.models) {
        const auto device_model = model::to_device(spec);
        for (const auto& entry : problem.schedules)
          write_points(models, spec.name + "__" + entry.name, spec, device_model, entry, n);
      }
    });
  } catch (const std::exception& e) {
    std::cerr << "pfode_evaluate_exact: error: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
