# Euler-Maruyama takes its noise as g^2 |dt| instead of g sqrt(|dt|) (a variance for a standard deviation).
# file: src/solver/euler_maruyama.hpp
# kills: stochastic | stochastic: every sampler is its published update on the same Brownian path
s|const double scale = math::sqrt(g2 \* -dt);|const double scale = g2 * -dt;|
