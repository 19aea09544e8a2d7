# Dormand-Prince: the 4th-order weight b_hat_6 = 187/2100 mistyped as 187/2000 (the error estimate is no longer that of an embedded order-4 pair).
# file: src/solver/adaptive.cpp
# kills: solvers_adaptive | Dormand-Prince tableau*
s|187\.0 / 2100\.0|187.0 / 2000.0|
