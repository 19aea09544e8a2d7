# VP-linear's t(lambda) computes softplus(-2 lambda) with its large-argument branch everywhere: -2 lambda + log1p(e^{2 lambda}) cancels near t_min (relative error ~2e-12 there, ~1e-15 elsewhere).
# file: src/schedule/schedule.hpp
# kills: schedule | every schedule: lambda is log(alpha/sigma)*
s|const double l = math::softplus(-2\.0 \* lam);|const double l = -2.0 * lam + math::log1p(math::exp(2.0 * lam));|
