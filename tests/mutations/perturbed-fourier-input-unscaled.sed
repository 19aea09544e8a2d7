# The Fourier error field is evaluated at y instead of the normalised input y / sqrt(1 + s^2).
# file: src/model/perturbed.hpp
# kills: perturbed | perturbed: D_model - D_exact is eps(s) e(y) for every profile and field
s|KOKKOS_INLINE_FUNCTION static double input_scale(double s) { return 1.0 / math::sqrt(1.0 + s \* s); }|KOKKOS_INLINE_FUNCTION static double input_scale(double) { return 1.0; }|
