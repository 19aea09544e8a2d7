// tAB-DEIS weights on the host: C_ij = int_{t_i}^{t_{i+1}} l_j(tau) ds/dtau dtau for the Lagrange
// basis l_j in t through t_i, ..., t_{i-q+1}.
#include <cmath>
#include <vector>

#include "solver/deis.hpp"

namespace pfode::solver {

namespace {

// Nodes and weights of n-point Gauss-Legendre quadrature on [-1, 1] (Newton on P_n).
struct GaussLegendre {
  std::vector<double> x, w;
  explicit GaussLegendre(int n) : x(n), w(n) {
    const double pi = std::acos(-1.0);
    for (int k = 0; k < n; ++k) {
      double z = std::cos(pi * (k + 0.75) / (n + 0.5)), dp = 0;
      for (int it = 0; it < 100; ++it) {
        double p0 = 1, p1 = z;  // P_0, P_1, then the recurrence up to P_n
        for (int m = 2; m <= n; ++m) {
          const double p2 = ((2 * m - 1) * z * p1 - (m - 1) * p0) / m;
          p0 = p1;
          p1 = p2;
        }
        dp = n * (z * p1 - p0) / (z * z - 1);
        const double dz = p1 / dp;
        z -= dz;
        if (std::fabs(dz) < 1e-16) break;
      }
      x[k] = z;
      w[k] = 2 / ((1 - z * z) * dp * dp);
    }
  }
};

}  // namespace

Kokkos::View<const double* [3]> tab_weights(const StepGrid& grid, const OrderSchedule& orders) {
  const auto t = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), grid.t);
  const auto lambda = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), grid.lambda);
  const schedule::Schedule& sched = grid.schedule;
  // In lambda the integrand -l_j(t(lambda)) e^{-lambda} is analytic in a strip of half-width
  // >= ~pi/2 around the real axis for every schedule here, so 16 nodes per panel of length <= 0.5
  // reach round-off (error ~ rho^-32 with rho >= 12 for that strip).
  static const GaussLegendre gl(16);
  Kokkos::View<double* [3]> weights("pfode::deis::tab_weights", grid.steps);
  const auto wh = Kokkos::create_mirror_view(weights);
  for (int i = 0; i < grid.steps; ++i) {
    const int q = orders.at(i, grid.steps);
    const double l0 = lambda(i), l1 = lambda(i + 1);
    const int panels = static_cast<int>(std::ceil((l1 - l0) / 0.5));
    const double len = (l1 - l0) / panels;
    double c[3] = {0, 0, 0};
    for (int p = 0; p < panels; ++p)
      for (size_t k = 0; k < gl.x.size(); ++k) {
        const double l = l0 + len * (p + 0.5 * (1 + gl.x[k]));
        const double tau = sched.t_of_lambda(l), ds = -std::exp(-l) * 0.5 * len * gl.w[k];  // ds = -e^{-l} dl
        for (int j = 0; j < q; ++j) {
          double basis = 1;
          for (int m = 0; m < q; ++m)
            if (m != j) basis *= (tau - t(i - m)) / (t(i - j) - t(i - m));
          c[j] += basis * ds;
        }
      }
    for (int j = 0; j < 3; ++j) wh(i, j) = c[j];
  }
  Kokkos::deep_copy(weights, wh);
  return weights;
}

}  // namespace pfode::solver
