# UniPC: B(h) = h and e^h - 1 swapped between the bh1 and bh2 variants.
# file: src/solver/unipc.hpp
# kills: solver_coefficients | exponential integrators' steps equal the published update formulas to round-off
s|variant == UnipcVariant::bh1 ? hh : math::expm1(hh)|variant == UnipcVariant::bh2 ? hh : math::expm1(hh)|
