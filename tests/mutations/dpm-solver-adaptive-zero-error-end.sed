# Adaptive DPM-Solver: the step size wished for after the last step to t_min is checked for underflow (E = 0 there fails the sample).
# file: src/solver/adaptive.hpp
# kills: solvers_adaptive | dpm-solver-23 ends at t_min when its last step's error estimate is exactly 0
/if (!(to_end > 0)) continue;/d
