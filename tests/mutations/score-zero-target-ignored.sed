# pfode score compares a run with target = zero with x*(t_N), the reference at its last time, not x*(0).
# file: src/external/score.cpp
# kills: external | external: a run ending at sigma = 0 is scored against x*(0)*
s|const int m = at_zero ? reference\.zero : index\[i\];|const int m = index[i];|
