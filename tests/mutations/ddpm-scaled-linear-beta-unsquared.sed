# ddpm-scaled-linear takes beta_i = sqrt(beta) linear in i but forgets to square it (beta_i = root).
# file: src/schedule/registry.cpp
# kills: discrete_schedules | ddpm schedules: log alpha is 1/2 cumsum*
s|      beta = root \* root;|      beta = root;|
