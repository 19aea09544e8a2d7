# EDM's churn noise uses the first-order sqrt(2 gamma) s_i for sqrt(s_hat^2 - s_i^2).
# file: src/solver/edm_stochastic.hpp
# kills: stochastic | stochastic: every sampler is its published update on the same Brownian path
s|const double scale = s0 \* math::sqrt(gam \* (2.0 + gam)) \* s_noise;|const double scale = s0 * math::sqrt(2.0 * gam) * s_noise;|
