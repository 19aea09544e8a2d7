# The likelihood's estimate of log p_0 drops the change of variables x = alpha y, d log(alpha_T / alpha_min).
# file: src/likelihood/likelihood.cpp
# kills: likelihood | likelihood: the reference with the exact divergence is within 1e-8 nats*
s|    b.estimate.push_back(log_prior + z + dim \* (std::log(alpha_T) - std::log(alpha_min)));|    b.estimate.push_back(log_prior + z);|
