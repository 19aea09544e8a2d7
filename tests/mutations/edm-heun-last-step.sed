# EDM Heun corrects the last step as well (no Euler step on the last interval: 2N NFE).
# file: src/solver/edm_heun.hpp
# kills: solvers | EDM Heun is Heun in s except for an Euler last step
s|if (i == g\.steps - 1) {|if (i == g.steps) {|
