# The MMD's sample term keeps the diagonal k(x_i, x_i) = 1 (a biased V-statistic for the U-statistic).
# file: src/metrics/weak_error.cpp
# kills: weak_error | weak_error: intervals cover the truth for exact and for perturbed samples
s|            if (j == i) continue;|            if (j == i - block) continue;|
