# tAB-DEIS weights: the Gauss-Legendre panel map's Jacobian len/2 written as len (every weight doubled).
# file: src/solver/deis.cpp
# kills: solver_coefficients | tAB-DEIS weights integrate polynomials in t against ds exactly*
s|ds = -std::exp(-l) \* 0\.5 \* len \* gl\.w\[k\];|ds = -std::exp(-l) * len * gl.w[k];|
