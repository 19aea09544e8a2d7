# dpm++sde weights the stage's denoiser by 1/r instead of 1/(2r) (right only at r = 1/2).
# file: src/solver/dpm_solver_pp_sde.hpp
# kills: stochastic | stochastic: every sampler is its published update on the same Brownian path
s|const double fac = 0.5 / r;|const double fac = 0.25 / r;|
