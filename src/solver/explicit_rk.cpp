#include "solver/explicit_rk.hpp"

namespace pfode::solver {

Tableau euler_tableau() {
  Tableau t;
  t.stages = 1;
  t.order = 1;
  t.b[0] = 1.0;
  return t;
}

Tableau midpoint_tableau() {
  Tableau t;
  t.stages = 2;
  t.order = 2;
  t.a[1][0] = 0.5;
  t.c[1] = 0.5;
  t.b[0] = 0.0;
  t.b[1] = 1.0;
  return t;
}

Tableau heun_tableau() {
  Tableau t;
  t.stages = 2;
  t.order = 2;
  t.a[1][0] = 1.0;
  t.c[1] = 1.0;
  t.b[0] = 0.5;
  t.b[1] = 0.5;
  return t;
}

Tableau rk3_tableau() {
  Tableau t;
  t.stages = 3;
  t.order = 3;
  t.a[1][0] = 0.5;
  t.a[2][0] = -1.0;
  t.a[2][1] = 2.0;
  t.c[1] = 0.5;
  t.c[2] = 1.0;
  t.b[0] = 1.0 / 6.0;
  t.b[1] = 2.0 / 3.0;
  t.b[2] = 1.0 / 6.0;
  return t;
}

Tableau rk4_tableau() {
  Tableau t;
  t.stages = 4;
  t.order = 4;
  t.a[1][0] = 0.5;
  t.a[2][1] = 0.5;
  t.a[3][2] = 1.0;
  t.c[1] = 0.5;
  t.c[2] = 0.5;
  t.c[3] = 1.0;
  t.b[0] = 1.0 / 6.0;
  t.b[1] = 1.0 / 3.0;
  t.b[2] = 1.0 / 3.0;
  t.b[3] = 1.0 / 6.0;
  return t;
}

}  // namespace pfode::solver
