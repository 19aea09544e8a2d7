# Singlestep DPM-Solver-2 weighs the stage difference by 1/2 instead of 1/(2 r1) (the same only for r1 = 1).
# file: src/solver/dpm_solver.hpp
# kills: solver_coefficients | exponential integrators' steps equal the published update formulas to round-off
s|- s1 \* (phi_1 \* e + 0\.5 / r1 \* phi_1 \* d));|- s1 * (phi_1 * e + 0.5 * phi_1 * d));|
