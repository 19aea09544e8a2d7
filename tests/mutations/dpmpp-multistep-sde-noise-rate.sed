# SDE-DPM-Solver++(2M/3M) scales its noise by sqrt(eta) instead of sqrt(2 eta).
# file: src/solver/dpm_solver_pp_multistep_sde.hpp
# kills: stochastic | stochastic: every sampler is its published update on the same Brownian path
s|s_noise \* math::sqrt(2.0 \* eta) \* g.s(i + 1)|s_noise * math::sqrt(eta) * g.s(i + 1)|
