# DPM-Solver++(2M)/(3M): the step ratio r0 = h_{i-1}/h_i inverted (identical on grids uniform in lambda).
# file: src/solver/dpm_solver_pp.hpp
# kills: solver_coefficients | exponential integrators' steps equal the published update formulas to round-off
s|const double r0 = (g\.lambda(i) - g\.lambda(i - 1)) / h;|const double r0 = h / (g.lambda(i) - g.lambda(i - 1));|
