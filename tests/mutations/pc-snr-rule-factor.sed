# The predictor-corrector's snr rule drops its factor 2: a = (snr |z| / |score|)^2.
# file: src/solver/langevin.hpp
# kills: stochastic | stochastic: every sampler is its published update on the same Brownian path
s|const double two_snr2 = 2.0 \* snr \* snr;|const double two_snr2 = snr * snr;|
