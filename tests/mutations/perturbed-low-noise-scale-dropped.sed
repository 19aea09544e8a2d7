# The low-noise error profile forgets its scale: eps / (1 + s^2) instead of eps c^2 / (c^2 + s^2).
# file: src/model/perturbed.hpp
# kills: perturbed | perturbed: D_model - D_exact is eps(s) e(y) for every profile and field
s|case low_noise: return size \* (scale \* scale / (scale \* scale + s \* s));|case low_noise: return size * (1.0 / (1.0 + s * s));|
