# final=denoise evaluates D at the previous grid point's noise level s_{N-1} instead of s_N.
# file: src/solver/drivers.hpp
# kills: solvers | final=denoise replaces x_N by alpha_N D*
s|l\.denoise(state_slot, grid\.alpha(n), grid\.s(n), scratch_slot);|l.denoise(state_slot, grid.alpha(n), grid.s(n - 1), scratch_slot);|
