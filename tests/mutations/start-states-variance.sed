# Marginal start states drawn with variance c_k^2 + sigma_T^2 instead of c_k^2 + s_T^2 (y = x / alpha: the division by alpha forgotten).
# file: src/model/start_states.cpp
# kills: model | marginal start states have the marginal's mean and variance at t_max
s|model\.stds\[at\] \* model\.stds\[at\] + s_T \* s_T|model.stds[at] * model.stds[at] + sigma_T * sigma_T|
