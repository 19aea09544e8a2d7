#include "solver/adaptive.hpp"

namespace pfode::solver {

// Dormand & Prince (1980), Table 2 ("RK5(4)7M"): the coefficients of the 5(4) pair as published,
// the error weights e = b - b_hat with b_hat the 4th-order weights.
Dopri5Tableau dopri5_tableau() {
  Dopri5Tableau t;
  const double c[7] = {0.0, 1.0 / 5.0, 3.0 / 10.0, 4.0 / 5.0, 8.0 / 9.0, 1.0, 1.0};
  const double a[7][6] = {
      {},
      {1.0 / 5.0},
      {3.0 / 40.0, 9.0 / 40.0},
      {44.0 / 45.0, -56.0 / 15.0, 32.0 / 9.0},
      {19372.0 / 6561.0, -25360.0 / 2187.0, 64448.0 / 6561.0, -212.0 / 729.0},
      {9017.0 / 3168.0, -355.0 / 33.0, 46732.0 / 5247.0, 49.0 / 176.0, -5103.0 / 18656.0},
      {35.0 / 384.0, 0.0, 500.0 / 1113.0, 125.0 / 192.0, -2187.0 / 6784.0, 11.0 / 84.0},
  };
  const double b_hat[7] = {5179.0 / 57600.0,     0.0,           7571.0 / 16695.0, 393.0 / 640.0,
                           -92097.0 / 339200.0, 187.0 / 2100.0, 1.0 / 40.0};
  for (int i = 0; i < 7; ++i) {
    t.c[i] = c[i];
    for (int j = 0; j < i; ++j) t.a[i][j] = a[i][j];
  }
  for (int j = 0; j < 6; ++j) t.b[j] = a[6][j];
  t.b[6] = 0.0;
  for (int j = 0; j < 7; ++j) t.e[j] = t.b[j] - b_hat[j];
  return t;
}

}  // namespace pfode::solver
