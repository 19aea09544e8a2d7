# PLMS combination with +9 for -9: (55, -59, 37, 9)/24.
# file: src/solver/pndm.hpp
# kills: solvers | PLMS (pndm*
s|37\.0 / 24, -9\.0 / 24}|37.0 / 24, 9.0 / 24}|
