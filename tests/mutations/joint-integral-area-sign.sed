# The joint exponential integral adds the space-time area with the wrong sign.
# file: src/brownian/step_noise.hpp
# kills: brownian | brownian: exponential integrals are drawn jointly with the increment
s|j.area_weight = -math::sqrt(h \* residual_variance(x));|j.area_weight = math::sqrt(h * residual_variance(x));|
