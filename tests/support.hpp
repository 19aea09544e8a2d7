// Shared fixtures for the tests: small exact models, start states on the device, exact states.
#pragma once

#include <vector>

#include "model/model_spec.hpp"
#include "model/start_states.hpp"
#include "reference/reference.hpp"
#include "schedule/schedule.hpp"

namespace pfode::test {

inline model::ModelSpec gaussian(int dim) {
  std::vector<double> means(dim), stds(dim);
  for (int j = 0; j < dim; ++j) {
    means[j] = 0.3 * j - 0.5;
    stds[j] = 0.3 + 0.1 * j;
  }
  return model::make_model("gaussian", dim, {1.0}, means, stds, "test");
}

// The 2-D, 3-component mixture of the acceptance tests.
inline model::ModelSpec mixture2d() {
  return model::make_model("mixture2d", 2, {0.5, 0.3, 0.2}, {-1.0, 0.0, 1.0, 0.5, 0.0, -1.0},
                           {0.4, 0.5, 0.5, 0.35, 0.45, 0.4}, "test");
}

inline Kokkos::View<double**> to_view(const std::vector<double>& host, int rows, int cols) {
  Kokkos::View<double**> v("pfode::test::states", rows, cols);
  auto h = Kokkos::create_mirror_view(v);
  for (int p = 0; p < rows; ++p)
    for (int j = 0; j < cols; ++j) h(p, j) = host[static_cast<size_t>(p) * cols + j];
  Kokkos::deep_copy(v, h);
  return v;
}

inline Kokkos::View<double**> marginal_starts(const model::ModelSpec& m, const schedule::Schedule& s, int samples,
                                             std::uint64_t seed = 7) {
  return to_view(model::start_states(m, {}, seed, samples, s.alpha(s.t_max), s.sigma(s.t_max)), samples, m.dim);
}

template <class View>
auto to_host(const View& v) {
  return Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), v);
}

}  // namespace pfode::test
