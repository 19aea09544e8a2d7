# The reference's error estimate divides the loose-minus-tight difference by 10, not 9: it is 10 % small.
# file: src/reference/reference.cpp
# kills: reference | reference: the error estimate is its definition*
s|/ (loose_factor - 1\.0) :|/ loose_factor :|
