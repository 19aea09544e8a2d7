// Shared device-side helpers for the solver families: phi functions of exponential integrators,
// step-coefficient integrals of Lagrange bases (variable steps), the per-step order schedule of
// multistep methods, history rings and a tiny dense solve (UniPC's order conditions).
#pragma once

#include "compat/kokkos_compat.hpp"

namespace pfode::solver {

// phi_k(z) = sum_{n>=0} z^n / (n+k)!  (phi_0 = e^z, phi_1 = (e^z - 1)/z, phi_{k+1} = (phi_k - 1/k!)/z).
// The recursion cancels catastrophically for small |z|, so there the series is summed instead;
// |z| < 1 needs at most ~20 terms for full double precision.
KOKKOS_INLINE_FUNCTION double phi(int k, double z) {
  if (k == 0) return math::exp(z);
  if (math::fabs(z) < 1.0) {
    double inv_fact = 1.0;
    for (int m = 2; m <= k; ++m) inv_fact /= m;
    double term = inv_fact, sum = inv_fact;
    for (int n = 1; n < 30 && math::fabs(term) > 1e-18 * math::fabs(sum); ++n) {
      term *= z / (n + k);
      sum += term;
    }
    return sum;
  }
  double v = math::expm1(z) / z, inv_fact = 1.0;
  for (int m = 1; m < k; ++m) {
    v = (v - inv_fact) / z;
    inv_fact /= (m + 1);
  }
  return v;
}

// Integral of the Lagrange basis over one step, against a weight, in the normalised variable
// theta = (tau - tau_i) / h: nodes theta[0..n-1] (theta[0] = 0 is the current point, the others
// are earlier points, theta < 0), moments[m] = int_0^1 w(theta) theta^m dtheta. On return
// coeff[j] = int_0^1 w(theta) l_j(theta) dtheta. n <= 4. The result is exact for polynomials of
// degree n - 1, whatever the (variable) step sizes are.
KOKKOS_INLINE_FUNCTION void lagrange_weights(int n, const double* theta, const double* moments, double* coeff) {
  for (int j = 0; j < n; ++j) {
    double poly[4] = {1.0, 0.0, 0.0, 0.0};  // monomial coefficients of l_j, built factor by factor
    int degree = 0;
    for (int m = 0; m < n; ++m) {
      if (m == j) continue;
      const double inv = 1.0 / (theta[j] - theta[m]);
      for (int d = degree + 1; d >= 1; --d) poly[d] = (poly[d - 1] - theta[m] * poly[d]) * inv;
      poly[0] = -theta[m] * poly[0] * inv;
      ++degree;
    }
    double c = 0.0;
    for (int d = 0; d <= degree; ++d) c += poly[d] * moments[d];
    coeff[j] = c;
  }
}

// Moments int_0^1 e^{-(1-theta) h} theta^m dtheta = m! phi_{m+1}(-h): the data-prediction weight
// e^{-(lambda_{i+1} - lambda)} of y_{i+1} = e^{-h} y_i + int e^{-(lambda_{i+1}-lambda)} D dlambda.
KOKKOS_INLINE_FUNCTION void data_moments(int n, double h, double* moments) {
  double fact = 1.0;
  for (int m = 0; m < n; ++m) {
    if (m > 0) fact *= m;
    moments[m] = fact * phi(m + 1, -h);
  }
}

// Moments int_0^1 e^{(1-theta) h} theta^m dtheta = m! phi_{m+1}(h): the noise-prediction weight of
// y_{i+1} = y_i - int e^{-lambda} eps dlambda = y_i - s_{i+1} h int_0^1 e^{(1-theta)h} eps dtheta.
KOKKOS_INLINE_FUNCTION void noise_moments(int n, double h, double* moments) {
  double fact = 1.0;
  for (int m = 0; m < n; ++m) {
    if (m > 0) fact *= m;
    moments[m] = fact * phi(m + 1, h);
  }
}

// Order of step i of a multistep method: warm-up with lower orders (order i + 1 at step i, the
// history available), and optionally lower orders on the last steps (order <= steps - i), when
// steps < lower_order_final_below (0: never; a huge value: always). A pure function of
// (i, steps, options), so trajectory and LTE runs use the same order at every step.
struct OrderSchedule {
  int order = 1;
  int lower_order_final_below = 0;

  KOKKOS_INLINE_FUNCTION int at(int i, int steps) const {
    int q = order < i + 1 ? order : i + 1;
    if (steps < lower_order_final_below && steps - i < q) q = steps - i;
    return q;
  }
};

// Workspace slots holding per-grid-point history entries, indexed by grid point j. Four entries
// cover every method here (order 3 plus the entry a carried evaluation writes ahead).
struct Ring {
  static constexpr int size = 4;
  int base = 0;
  KOKKOS_INLINE_FUNCTION int slot(int j) const { return base + j % size; }
};

// Solves the n x n system a x = b (n <= 4) by Gaussian elimination with partial pivoting;
// a and b are overwritten.
KOKKOS_INLINE_FUNCTION void solve_small(int n, double a[4][4], double* b, double* x) {
  for (int col = 0; col < n; ++col) {
    int pivot = col;
    for (int r = col + 1; r < n; ++r)
      if (math::fabs(a[r][col]) > math::fabs(a[pivot][col])) pivot = r;
    if (pivot != col) {
      for (int c = 0; c < n; ++c) {
        const double t = a[col][c];
        a[col][c] = a[pivot][c];
        a[pivot][c] = t;
      }
      const double t = b[col];
      b[col] = b[pivot];
      b[pivot] = t;
    }
    for (int r = col + 1; r < n; ++r) {
      const double f = a[r][col] / a[col][col];
      for (int c = col; c < n; ++c) a[r][c] -= f * a[col][c];
      b[r] -= f * b[col];
    }
  }
  for (int r = n - 1; r >= 0; --r) {
    double v = b[r];
    for (int c = r + 1; c < n; ++c) v -= a[r][c] * x[c];
    x[r] = v / a[r][r];
  }
}

}  // namespace pfode::solver
