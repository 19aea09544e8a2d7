# Ancestral samplers take the Euler step to s' instead of s_down before adding the noise back.
# file: src/solver/ancestral.hpp
# kills: stochastic | stochastic: every sampler is its published update on the same Brownian path
s|a.euler = math::expm1(lambda - a.lambda_down);|a.euler = math::expm1(lambda - lambda_to);|
