# DDIM forgets the factor alpha_{i+1} (right on EDM and VE only, where alpha = 1).
# file: src/solver/ddim.hpp
# kills: solvers | DDIM is Euler in s to round-off
s|lane(state_slot, c) = alpha1 \* (y + factor \* (y - lane(denoised_slot, c)));|lane(state_slot, c) = y + factor * (y - lane(denoised_slot, c));|
