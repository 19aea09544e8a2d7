# The Brownian tree splits a node's increment without its space-time area (W1 - W2 independent of H).
# file: src/brownian/brownian_path.hpp
# kills: brownian | brownian: increments and space-time areas have the Brownian law
s|const double split = 3.0 \* area + 0.5 \* math::sqrt(h) \* z1;|const double split = 0.5 * math::sqrt(h) * z1;|
