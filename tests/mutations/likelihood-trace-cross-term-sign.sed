# The mixture's Jacobian trace adds the responsibility cross term sum_k r_k (m_k - D) . g_k with the wrong sign.
# file: src/model/mixture.hpp
# kills: likelihood | likelihood: the closed-form D and tr dD/dy agree*
s|        cross -= (means(k, j) + variances(k, j) \* inv \* d - out(j)) \* d \* inv;|        cross += (means(k, j) + variances(k, j) * inv * d - out(j)) * d * inv;|
