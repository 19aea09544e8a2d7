# RK4 with weights (1/6, 1/6, 1/2, 1/6): every quadrature condition still holds (sum b c^k = 1/(k+1)), a coupling condition does not (order 2).
# file: src/solver/explicit_rk.cpp
# kills: solvers | classical Runge-Kutta tableaus: row sums*
s|  t\.b\[1\] = 1\.0 / 3\.0;|  t.b[1] = 1.0 / 6.0;|
s|  t\.b\[2\] = 1\.0 / 3\.0;|  t.b[2] = 1.0 / 2.0;|
